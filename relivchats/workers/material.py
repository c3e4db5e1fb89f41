"""What one insight's prompt is given: people's figures, the statistics its type asks for, and
the messages of the chunks retrieved for it.

The catalogue names statistics by what they mean ("participants.initiations"); the chat's stored
statistics (domain/statistics.py) name them by how they were counted ("conversation_initiations").
This module is the one place that maps the first onto the second, and keeps the prompt bounded:
the day-by-day counts become month-by-month, the links list is cut short.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from relivchats.adapters.chat_content import StoredMessage
from relivchats.adapters.llm import Excerpt, InsightMaterial, ParticipantFigures
from relivchats.domain.catalogue import InsightType
from relivchats.domain.uploads import MessageKind

# Catalogue statistic -> the per-participant field of the stored statistics.
PARTICIPANT_FIELDS = {
    "participants.messages": "messages",
    "participants.words": "words",
    "participants.avg_words_per_message": "avg_words_per_message",
    "participants.initiations": "conversation_initiations",
    "participants.double_texting_rate": "double_texting_rate",
    "participants.questions": "questions",
    "participants.avg_response_time": "avg_response_minutes",
    "participants.top_words": "top_words",
    "participants.top_emoji": "top_emoji",
    "participants.busiest_hour": "busiest_hour",
    "participants.deleted": "deleted_messages",
    "participants.media": "media_messages",
    "participants.longest_message": "longest_message",
}
LINKS_SHOWN = 20
MAX_EXCERPTS = 150  # messages; about 4 chunks of a lively chat


def insight_material(
    insight: InsightType,
    statistics: dict[str, Any],
    excerpts: Sequence[Excerpt],
    user_name: str | None,
) -> InsightMaterial:
    return InsightMaterial(
        insight_type=insight.slug,
        participants=participant_figures(statistics),
        statistics=selected_statistics(statistics, insight.statistics),
        excerpts=tuple(excerpts),
        user_name=user_name,
    )


def participant_figures(statistics: dict[str, Any]) -> tuple[ParticipantFigures, ...]:
    people: dict[str, dict[str, Any]] = statistics.get("participants", {})
    return tuple(
        ParticipantFigures(
            name=name,
            messages=figures.get("messages", 0),
            words=figures.get("words", 0),
            initiations=figures.get("conversation_initiations", 0),
            questions=figures.get("questions", 0),
            avg_response_s=_minutes_to_seconds(figures.get("avg_response_minutes")),
            double_texting_rate=figures.get("double_texting_rate") or 0.0,
        )
        for name, figures in people.items()
    )


def selected_statistics(statistics: dict[str, Any], wanted: Sequence[str]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    people: dict[str, dict[str, Any]] = statistics.get("participants", {})
    for key in wanted:
        if key in PARTICIPANT_FIELDS:
            field = PARTICIPANT_FIELDS[key]
            chosen[key] = {name: figures.get(field) for name, figures in people.items()}
        elif key == "messages_by_date":
            chosen["messages_by_month"] = _by_month(statistics.get(key, {}))
        elif key == "links":
            chosen[key] = statistics.get(key, [])[:LINKS_SHOWN]
        else:
            chosen[key] = statistics.get(key)
    return chosen


def excerpts_of(
    messages: Sequence[StoredMessage], ranges: Sequence[Sequence[int]], participants: Sequence[str]
) -> list[Excerpt]:
    """The text messages of the retrieved chunks: best chunk first, each in time order, without
    repeats (neighbouring chunks overlap) and at most MAX_EXCERPTS."""
    by_seq = {message.seq: message for message in messages}
    seen: set[int] = set()
    chosen: list[Excerpt] = []
    for first, end in ranges:
        for seq in range(first, end):
            message = by_seq.get(seq)
            if message is None or seq in seen or message.kind != MessageKind.TEXT:
                continue
            seen.add(seq)
            speaker = participants[message.sender_index]
            chosen.append(Excerpt(speaker=speaker, text=message.text, timestamp=message.sent_at))
            if len(chosen) == MAX_EXCERPTS:
                return chosen
    return chosen


def wanted_seqs(ranges: Sequence[Sequence[int]]) -> list[int]:
    return sorted({seq for first, end in ranges for seq in range(first, end)})


def _by_month(by_date: dict[str, int]) -> dict[str, int]:
    months: Counter[str] = Counter()
    for day, count in by_date.items():
        months[day[:7]] += count
    return dict(sorted(months.items()))


def _minutes_to_seconds(minutes: float | None) -> float | None:
    return None if minutes is None else minutes * 60
