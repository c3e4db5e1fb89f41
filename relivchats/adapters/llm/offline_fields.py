"""Whole-chat fields of the offline insights (a trend, a climate, a balance), each from the figures
that field is about rather than from the overall score.

`FIELD_WRITERS` maps a catalogue field to its writer; fields without one (lists of moments and
topics that need a reader) are filled by the generic writer in offline.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relivchats.adapters.llm.offline_figures import (
    AFFECTION_WORDS,
    FUTURE_WORDS,
    RESPECT_SIGNS,
    STRESS_SIGNS,
    TENSE_SIGNS,
    WARM_EMOJI,
    matches,
    month_spread,
    month_trend,
    ranked,
)
from relivchats.adapters.llm.offline_people import level, love_language
from relivchats.adapters.llm.offline_reading import ChatReading
from relivchats.domain.catalogue.schemas import JsonSchema


def balance(reading: ChatReading, schema: JsonSchema) -> dict[str, Any]:
    top = max(reading.people, key=lambda p: (p.messages + p.initiations, p.name))
    starts = sum(p.initiations for p in reading.people) or 1
    total = reading.total_messages or 1
    summary = (
        f"{top.name} writes {top.messages / total:.0%} of the messages and starts "
        f"{top.initiations / starts:.0%} of the conversations."
    )
    return {"more_engaged": top.name, "summary": summary}


def compatibility(reading: ChatReading, schema: JsonSchema) -> str:
    primaries = {p.name: love_language(reading, p)["primary"] for p in reading.people}
    described = "; ".join(f"{name}: {lang.replace('_', ' ')}" for name, lang in primaries.items())
    if len(set(primaries.values())) == 1:
        return f"Both lean the same way ({described}), so care is likely to land as meant."
    return (
        f"Their clearest signs differ ({described}): what one gives may not be what the other "
        "notices first. Offline estimate from each person's most used words and emoji."
    )


def romance_frequency(reading: ChatReading, schema: JsonSchema) -> str:
    return reading.pick(schema["enum"], _mean(reading, "warmth", "late_night", "laughter"))


def reciprocity(reading: ChatReading, schema: JsonSchema) -> dict[str, Any]:
    even = _mean(reading, "sharing", "starting")
    options = schema["properties"]["balance"]["enum"]  # balanced, leans_one_way, one_sided
    choice = options[0] if even >= 0.7 else options[1] if even >= 0.4 else options[2]
    return {"balance": choice, "summary": _said(reading, "sharing", "starting")}


def energy_trend(reading: ChatReading, schema: JsonSchema) -> str:
    ratio, spread = month_trend(reading.statistics), month_spread(reading.statistics)
    if ratio is None or spread is None:
        return reading.pick(schema["enum"])
    if ratio >= 1.3:
        return "growing"
    if ratio <= 0.6:
        return "fading"
    return "fluctuating" if spread > 0.6 else "steady"


def catch_up_rhythm(reading: ChatReading, schema: JsonSchema) -> str:
    per_day = (reading.statistics.get("totals") or {}).get("messages_per_day")
    if per_day is None:
        return "Not enough dates to see a rhythm (offline estimate)."
    kind = "daily banter" if per_day >= 10 else "regular check-ins" if per_day >= 2 else "long gaps"
    return f"About {per_day:.1f} messages a day: {kind}. {_said(reading, 'regularity')}"


def connectors(reading: ChatReading, schema: JsonSchema) -> list[str]:
    ranked = sorted(reading.people, key=lambda p: (-p.initiations, p.name))
    fair = sum(p.initiations for p in reading.people) / len(reading.people)
    return [p.name for p in ranked if p.initiations and p.initiations >= fair][: schema["maxItems"]]


def communication_flow(reading: ChatReading, schema: JsonSchema) -> str:
    top = reading.person(reading.most_active)
    share = top.messages / (reading.total_messages or 1)
    if len(reading.people) > 2 and share > 0.5:
        return f"Conversation runs through {top.name}, who writes {share:.0%} of the messages."
    return f"Conversation is spread out: the most active writes {share:.0%} of the messages."


def climate(reading: ChatReading, schema: JsonSchema) -> str:
    """Warm, supportive or neutral by the warm signals, unless tense signs outnumber warm ones."""
    tense, warm = _marker_counts(reading, TENSE_SIGNS), _marker_counts(reading, WARM_SIGNS)
    if tense > warm:
        return "volatile" if tense > 3 * warm else "tense"
    value = _mean(reading, "warmth", "chat_affection", "shared_warmth")
    return "warm" if value >= 0.6 else "supportive" if value >= 0.35 else "neutral"


def markers_of(signs: frozenset[str]) -> Callable[[ChatReading, JsonSchema], list[str]]:
    """A list field naming the chat's most used words and emoji among `signs`, with counts."""

    def write(reading: ChatReading, schema: JsonSchema) -> list[str]:
        found = matches(_counted(reading), signs)
        return [f"“{token}” used {count} times" for token, count in found][: schema["maxItems"]]

    return write


def resolution_tendency(reading: ChatReading, schema: JsonSchema) -> str:
    return reading.pick(schema["enum"], _mean(reading, "calm_deletions", "responsiveness"))


def clarity(reading: ChatReading, schema: JsonSchema) -> str:
    return level(_mean(reading, "curiosity", "responsiveness"))


def decision_making(reading: ChatReading, schema: JsonSchema) -> dict[str, Any]:
    starting = reading.signal("starting")
    if starting is None:
        return {"style": "unclear", "note": "Too few conversation starts to tell."}
    style = (
        "consensus"
        if starting.value >= 0.6
        else "consultative"
        if starting.value >= 0.35
        else "directive"
    )
    return {"style": style, "note": f"Judged from who starts conversations: {starting.says}."}


def boundary_health(reading: ChatReading, schema: JsonSchema) -> str:
    within = _mean(reading, "office_hours", "workdays")
    return "healthy" if within >= 0.7 else "blurred" if within >= 0.45 else "strained"


def burnout_risk(reading: ChatReading, schema: JsonSchema) -> str:
    within = _mean(reading, "office_hours", "workdays")
    return "low" if within >= 0.7 else "moderate" if within >= 0.45 else "high"


WARM_SIGNS = WARM_EMOJI | AFFECTION_WORDS
FIELD_WRITERS: dict[str, Callable[[ChatReading, JsonSchema], Any]] = {
    "balance": balance,
    "compatibility": compatibility,
    "romance_frequency": romance_frequency,
    "reciprocity": reciprocity,
    "energy_trend": energy_trend,
    "catch_up_rhythm": catch_up_rhythm,
    "connectors": connectors,
    "communication_flow": communication_flow,
    "climate": climate,
    "resolution_tendency": resolution_tendency,
    "clarity": clarity,
    "decision_making": decision_making,
    "boundary_health": boundary_health,
    "burnout_risk": burnout_risk,
    "affection_markers": markers_of(WARM_SIGNS),
    "warmth_markers": markers_of(WARM_SIGNS),
    "tension_markers": markers_of(TENSE_SIGNS),
    "respect_markers": markers_of(RESPECT_SIGNS),
    "stress_signals": markers_of(STRESS_SIGNS),
    "commitment_signals": markers_of(FUTURE_WORDS),
}


def _counted(reading: ChatReading) -> list[tuple[str, int]]:
    """The chat's top words and emoji (whole chat when the type names them, else summed over
    people), most used first."""
    totals: dict[str, int] = {}
    chat = [*ranked(reading.statistics.get("top_words") or [], "word")]
    chat += ranked(reading.statistics.get("top_emoji") or [], "emoji")
    people = [entry for p in reading.people for entry in (*p.top_words, *p.top_emoji)]
    for token, count in chat or people:
        totals[token] = totals.get(token, 0) + count
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def _marker_counts(reading: ChatReading, signs: frozenset[str]) -> int:
    return sum(count for _, count in matches(_counted(reading), signs))


def _mean(reading: ChatReading, *names: str) -> float:
    """The mean of the named signals found; the type's score (0-1) when none is."""
    values = [s.value for name in names if (s := reading.signal(name)) is not None]
    return sum(values) / len(values) if values else reading.score / 10


def _said(reading: ChatReading, *names: str) -> str:
    phrases = [s.says for name in names if (s := reading.signal(name)) is not None]
    return sentence("; ".join(phrases)) if phrases else "Offline estimate."


def sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."
