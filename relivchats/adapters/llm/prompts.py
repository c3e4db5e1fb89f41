"""Turning an insight type or a question into the text a model reads.

The insight type supplies what to look at (catalogue `prompt`); this module adds the chat's
figures, the numbered excerpts, and the rules every insight follows (quote only what is there,
calibrate the score, address people by name).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from relivchats.adapters.llm.base import Excerpt, InsightMaterial, Passage, Turn
from relivchats.domain.catalogue import OVERALL_STATUSES, InsightType
from relivchats.domain.chunking import estimate_tokens

EXCERPT_MAX_CHARS = 500
HISTORY_BUDGET_TOKENS = 3000

INSIGHT_SYSTEM = """You are RelivChats' relationship analyst. You read excerpts of a private chat
and write warm, honest, specific insights for the people in it. You are not a therapist: never
diagnose, never moralise, never take sides. Ground every claim in the statistics or the excerpts
you are given, and say plainly when the chat does not show enough to judge."""

ANSWER_SYSTEM = """You answer questions about a private chat using only the excerpts provided.
Quote or paraphrase what was said, mention who said it and roughly when, and say clearly when the
excerpts do not contain the answer instead of guessing. Be concise and kind; reply in the language
of the question."""

_RULES = f"""Rules for your answer:
- Reply with JSON only, matching the response schema exactly.
- overall.score is 0-10: 5 means an ordinary mix of strengths and struggles, 8+ clearly strong,
  3 or less clearly struggling. overall.status is one of {", ".join(OVERALL_STATUSES)} and must
  agree with the score. overall.summary is 2-4 sentences addressed to the participants by name.
- evidence: only messages copied verbatim from the numbered excerpts, with the speaker and the
  timestamp exactly as shown; context says in one sentence why the message matters.
- Every `name` and every recommendation `target` is a participant's name as listed above.
- recommendations are specific and kind; example_phrases sound like these people, in the
  language and register they use with each other.
- If the excerpts are thin, say so in the summary and keep lists short rather than inventing."""


def build_insight_prompt(insight: InsightType, material: InsightMaterial) -> str:
    sections = [
        f"Insight: {insight.title}. {insight.description}",
        insight.prompt,
        _participants_section(material),
        "Chat statistics (JSON):\n" + json.dumps(material.statistics, default=str, indent=1),
        _excerpts_section(material.excerpts),
        _RULES,
    ]
    return "\n\n".join(sections)


def build_question_prompt(
    question: str, context: Sequence[Passage], history: Sequence[Turn]
) -> str:
    sections = []
    kept = _recent_history(history)
    if kept:
        sections.append("Earlier in this conversation:\n" + "\n".join(_turn(t) for t in kept))
    sections.append(
        "Chat excerpts:\n" + "\n\n".join(_passage(p, n) for n, p in enumerate(context, 1))
    )
    sections.append(f"Question: {question}")
    return "\n\n".join(sections)


def _participants_section(material: InsightMaterial) -> str:
    lines = []
    for person in material.participants:
        reader = " (the reader)" if person.name == material.user_name else ""
        response = (
            f"{person.avg_response_s / 60:.1f} min" if person.avg_response_s is not None else "n/a"
        )
        lines.append(
            f"- {person.name}{reader}: {person.messages} messages, {person.words} words, "
            f"started {person.initiations} conversations, asked {person.questions} questions, "
            f"average reply {response}, double-texting rate {person.double_texting_rate:.0%}"
        )
    return "Participants:\n" + "\n".join(lines)


def _excerpts_section(excerpts: Sequence[Excerpt]) -> str:
    if not excerpts:
        return "Excerpts: none were retrieved for this insight."
    lines = [
        f"[{n}] {excerpt.timestamp.isoformat(timespec='minutes')} {excerpt.speaker}: "
        f"{excerpt.text[:EXCERPT_MAX_CHARS]}"
        for n, excerpt in enumerate(excerpts, 1)
    ]
    return "Excerpts:\n" + "\n".join(lines)


def _recent_history(history: Sequence[Turn]) -> list[Turn]:
    """The newest turns that fit the history budget, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(history):
        used += estimate_tokens(_turn(turn))
        if used > HISTORY_BUDGET_TOKENS:
            break
        kept.append(turn)
    kept.reverse()
    return kept


def _turn(turn: Turn) -> str:
    return f"Q: {turn.question}\nA: {turn.answer}"


def _passage(passage: Passage, number: int) -> str:
    start = passage.start_time.isoformat(timespec="minutes")
    end = passage.end_time.isoformat(timespec="minutes")
    lines = [
        f"{message.sent_at.isoformat(timespec='minutes')} {message.sender}: {message.text}"
        for message in passage.messages
    ]
    body = "\n".join(lines) if lines else passage.text
    return f"[{number}] {start} to {end}, {', '.join(passage.speakers)}:\n{body}"
