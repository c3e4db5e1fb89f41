"""What the offline writer reads in a chat: each person's figures, and the whole chat's shapes.

Per-person figures come from the material's statistics when the insight type names them
("participants.top_words"), else from the participant figures every prompt carries (messages,
words, starts, questions, reply time, double texting). The helpers measure the chat as a whole
(month trend, share of late-night messages...) for the signals and the field writers alike.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from relivchats.adapters.llm.base import InsightMaterial, ParticipantFigures

# A reply within this many minutes counts as half-way responsive.
RESPONSIVE_MINUTES = 30.0
_WARM_EMOJI = "❤️ 😘 🥰 😍 💕 💖 💗 💞 💓 😊 ☺️ 🤗 🙏 🌹 💋 😚 🫶 💝 🧡 💛 💚 💙 💜 🤍"
_LAUGH_EMOJI = "😂 🤣 😆 😄 😁 😅 😹 😜 😝 😛 🙈"
_AFFECTION_WORDS = (
    "love miss proud thank thanks beautiful cute sweet baby jaan jaanu darling dear care "
    "congrats congratulations blessings pyaar happy hug kiss"
)
_FUTURE_WORDS = (
    "plan plans planning future trip move marry wedding house ghar shaadi savings next "
    "someday together kids job weekend tickets book"
)
_TENSE = "😠 😡 🤬 😤 💔 😒 🙄 😞 😢 😭 angry upset fight whatever annoyed hurt gussa"
_RESPECT = "thanks thank appreciate great job well done please sorry 🙏 👍 👏"
_STRESS = "urgent asap deadline late tired stressed pressure overtime sick leave"
WARM_EMOJI = frozenset(_WARM_EMOJI.split())
TENSE_SIGNS = frozenset(_TENSE.split())
RESPECT_SIGNS = frozenset(_RESPECT.split())
STRESS_SIGNS = frozenset(_STRESS.split())
LAUGH_EMOJI = frozenset(_LAUGH_EMOJI.split())
AFFECTION_WORDS = frozenset(_AFFECTION_WORDS.split())
FUTURE_WORDS = frozenset(_FUTURE_WORDS.split())
LAUGH_WORDS = frozenset({"haha", "hahaha", "hahahaha", "lol", "lmao", "hehe", "rofl"})
LATE_HOURS = (22, 23, 0, 1, 2, 3, 4)
OFFICE_HOURS = range(8, 19)
WEEKEND = ("Saturday", "Sunday")

Statistics = Mapping[str, Any]


@dataclass(frozen=True)
class Person:
    name: str
    messages: int
    words: int
    initiations: int
    questions: int
    response_min: float | None
    double_texting: float
    avg_words: float | None = None
    top_words: tuple[tuple[str, int], ...] = ()
    top_emoji: tuple[tuple[str, int], ...] = ()
    media: int | None = None
    deleted: int | None = None
    longest_words: int | None = None

    @property
    def question_rate(self) -> float:
        return self.questions / self.messages if self.messages else 0.0


def people_of(material: InsightMaterial) -> tuple[Person, ...]:
    figures = material.participants or (ParticipantFigures(name="Everyone", messages=0),)
    return tuple(_person(material.statistics, each) for each in figures)


def _person(stats: Statistics, figures: ParticipantFigures) -> Person:
    def named(key: str, default: Any) -> Any:
        value = (stats.get(f"participants.{key}") or {}).get(figures.name)
        return default if value is None else value

    response = named("avg_response_time", None)
    longest = named("longest_message", None)
    return Person(
        name=figures.name,
        messages=named("messages", figures.messages),
        words=named("words", figures.words),
        initiations=named("initiations", figures.initiations),
        questions=named("questions", figures.questions),
        response_min=response if response is not None else _minutes(figures.avg_response_s),
        double_texting=named("double_texting_rate", figures.double_texting_rate),
        avg_words=named("avg_words_per_message", None),
        top_words=ranked(named("top_words", []), "word"),
        top_emoji=ranked(named("top_emoji", []), "emoji"),
        media=named("media", None),
        deleted=named("deleted", None),
        longest_words=longest["words"] if isinstance(longest, dict) else None,
    )


# --- helpers the field writers use too ----------------------------------------------------------


def month_trend(stats: Statistics) -> float | None:
    """Messages in the latest third of the months over the earliest third."""
    months: dict[str, int] = stats.get("messages_by_month") or {}
    counts = [count for _, count in sorted(months.items())]
    if len(counts) < 3:
        return None
    third = len(counts) // 3
    return (sum(counts[-third:]) + 1) / (sum(counts[:third]) + 1)


def month_spread(stats: Statistics) -> float | None:
    counts = list((stats.get("messages_by_month") or {}).values())
    if len(counts) < 2:
        return None
    mean = sum(counts) / len(counts)
    return math.sqrt(sum((c - mean) ** 2 for c in counts) / len(counts)) / mean if mean else None


def hour_share(stats: Statistics, hours: Sequence[int]) -> float | None:
    hourly = stats.get("hourly_distribution")
    if not hourly or not sum(hourly):
        return None
    return float(sum(hourly[h] for h in hours) / sum(hourly))


def weekend_share(stats: Statistics) -> float | None:
    days = stats.get("weekday_distribution") or {}
    if not sum(days.values()):
        return None
    return float(sum(days.get(day, 0) for day in WEEKEND) / sum(days.values()))


def matches(counted: Sequence[tuple[str, int]], wanted: frozenset[str]) -> list[tuple[str, int]]:
    return [(token, count) for token, count in counted if token in wanted]


def ranked(entries: Sequence[Mapping[str, Any]], key: str) -> tuple[tuple[str, int], ...]:
    return tuple((str(entry[key]).lower(), int(entry["count"])) for entry in entries)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def day_of(iso: str) -> date:
    return date.fromisoformat(iso[:10])
