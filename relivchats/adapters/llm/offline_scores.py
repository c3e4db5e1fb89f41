"""Each insight type's offline score: a weighted blend of the signals of the statistics it names.

Communication is read from reply times, starts and questions; effort from starts and double
texting; playfulness from laughing emoji and late-night messages; boundaries at work from the
hours and weekdays people write... (`TYPE_SIGNALS`; a test checks every signal reads a statistic
its type names). Signals whose statistic is missing drop out and the weights of the rest are
renormalised. When none is left (a material with no statistics), the score falls back to the
general balance of the chat from the participant figures, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relivchats.adapters.llm.base import InsightMaterial
from relivchats.adapters.llm.offline_figures import Person
from relivchats.adapters.llm.offline_signals import (
    SIGNALS,
    Signal,
    curiosity,
    responsiveness,
    sharing,
    starting,
)

Weights = tuple[tuple[str, float], ...]
TYPE_SIGNALS: dict[str, Weights] = {
    "communication_basics": (
        ("responsiveness", 1.5),
        ("sharing", 1.0),
        ("starting", 1.0),
        ("curiosity", 1.0),
        ("word_balance", 0.5),
        ("calm_texting", 0.5),
    ),
    "emotional_intimacy": (("depth", 1.5), ("warmth", 1.5), ("openness", 1.0), ("sharing", 0.5)),
    "love_language": (
        ("affection_words", 1.5),
        ("warmth", 1.0),
        ("shared_warmth", 1.0),
        ("media_sharing", 0.5),
    ),
    "conflict_resolution": (
        ("calm_deletions", 1.0),
        ("calm_texting", 1.0),
        ("responsiveness", 1.0),
        ("response_parity", 0.5),
        ("steadiness", 0.5),
    ),
    "future_planning": (("future_talk", 2.0), ("duration", 1.0), ("regularity", 1.0)),
    "playfulness_romance": (
        ("laughter", 1.5),
        ("warmth", 1.0),
        ("late_night", 1.0),
        ("shared_warmth", 0.5),
        ("media_sharing", 0.5),
    ),
    "friendship_trust_loyalty": (("responsiveness", 1.5), ("sharing", 1.0), ("duration", 1.0)),
    "friendship_support_dynamics": (
        ("curiosity", 1.5),
        ("responsiveness", 1.0),
        ("sharing", 1.0),
        ("starting", 1.0),
        ("word_balance", 0.5),
    ),
    "friendship_vitality": (
        ("activity", 1.0),
        ("trend", 1.0),
        ("regularity", 1.0),
        ("laughter", 1.0),
        ("warmth", 0.5),
        ("duration", 0.5),
    ),
    "family_dynamics": (
        ("sharing", 1.0),
        ("starting", 1.0),
        ("curiosity", 1.0),
        ("activity", 1.0),
    ),
    "family_emotional_climate": (
        ("warmth", 2.0),
        ("chat_affection", 1.0),
        ("shared_warmth", 1.0),
    ),
    "family_conflict_patterns": (
        ("calm_deletions", 1.5),
        ("responsiveness", 1.0),
        ("steadiness", 1.0),
        ("response_parity", 0.5),
    ),
    "workplace_communication": (
        ("responsiveness", 1.5),
        ("curiosity", 1.0),
        ("sharing", 1.0),
        ("starting", 0.5),
        ("office_hours", 0.5),
        ("workdays", 0.5),
    ),
    "workplace_collaboration": (
        ("sharing", 1.0),
        ("starting", 1.0),
        ("links_shared", 1.0),
        ("curiosity", 1.0),
        ("word_balance", 0.5),
    ),
    "workplace_relationship_health": (
        ("office_hours", 1.5),
        ("workdays", 1.5),
        ("warmth", 1.0),
        ("responsiveness", 0.5),
    ),
}
# Without any signal of its own statistics, a type is read from the chat's general balance.
FALLBACK: Weights = (
    ("sharing", 0.35),
    ("starting", 0.2),
    ("responsiveness", 0.3),
    ("curiosity", 0.15),
)
_FALLBACK_SIGNALS = {
    "sharing": sharing,
    "starting": starting,
    "responsiveness": responsiveness,
    "curiosity": curiosity,
}
EXPLAINED = 3  # signals named in the summary


@dataclass(frozen=True)
class TypeScore:
    score: float  # 0-10, one decimal
    signals: tuple[tuple[Signal, float], ...]  # the signals used, with their weights
    fallback: bool

    def explanation(self) -> str:
        """The heaviest signals, in words: what the score was made of."""
        heaviest = sorted(self.signals, key=lambda pair: (-pair[1], pair[0].name))[:EXPLAINED]
        reasons = "; ".join(signal.says for signal, _ in heaviest)
        if self.fallback:
            return (
                "The figures this insight reads are missing, so the score reflects the chat's "
                f"general balance ({reasons})."
            )
        return f"The score of {self.score:g}/10 comes from: {reasons}."


def type_score(material: InsightMaterial, people: Sequence[Person]) -> TypeScore:
    used = _signals(material, people, TYPE_SIGNALS.get(material.insight_type, ()))
    fallback = not used
    if fallback:
        used = tuple(
            (signal, weight)
            for name, weight in FALLBACK
            if (signal := _FALLBACK_SIGNALS[name](people)) is not None
        )
    return TypeScore(_blend(used), used, fallback)


def _signals(
    material: InsightMaterial, people: Sequence[Person], weights: Weights
) -> tuple[tuple[Signal, float], ...]:
    found = []
    for name, weight in weights:
        statistic, measure = SIGNALS[name]
        if statistic in material.statistics or _renamed(statistic) in material.statistics:
            signal = measure(material.statistics, people)
            if signal is not None:
                found.append((signal, weight))
    return tuple(found)


def _renamed(statistic: str) -> str:
    """The worker hands day-by-day counts over month by month (workers/material.py)."""
    return "messages_by_month" if statistic == "messages_by_date" else statistic


def _blend(signals: Sequence[tuple[Signal, float]]) -> float:
    total = sum(weight for _, weight in signals)
    if not total:
        return 5.0
    blended = sum(signal.value * weight for signal, weight in signals) / total
    return round(min(10.0, max(0.0, 10 * blended)), 1)
