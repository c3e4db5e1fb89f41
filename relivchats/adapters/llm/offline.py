"""The provider used when no API key is configured: deterministic, schema-valid, and honest.

It cannot read a chat the way a model does, so it writes what the statistics and the retrieved
excerpts support: each insight type's score from the statistics that type names (offline_scores),
per-person fields from each person's own figures (offline_people), whole-chat fields from the
figures they are about (offline_fields), real excerpts as evidence, recurring words as themes,
and advice for the type's weakest signals (offline_advice). Every result says `offline: True`,
and the summary says so in words, so nobody mistakes it for an AI reading. Same input, same
output. Answers to questions: offline_answer.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from relivchats.adapters.llm.base import (
    InsightMaterial,
    LlmAnswer,
    LlmInvalidOutput,
    LlmResult,
    Passage,
    Turn,
)
from relivchats.adapters.llm.offline_advice import recommendations
from relivchats.adapters.llm.offline_answer import offline_answer, offline_pieces
from relivchats.adapters.llm.offline_fields import FIELD_WRITERS
from relivchats.adapters.llm.offline_people import PERSON_WRITERS
from relivchats.adapters.llm.offline_reading import ChatReading, read_chat
from relivchats.domain.catalogue import JsonSchema, insight_type, schema_problems
from relivchats.domain.chunking import estimate_tokens

OFFLINE_MODEL = "relivchats-offline-1"
EVIDENCE_LIMIT = 3
_OFFLINE_PREAMBLE = "Offline mode (no AI provider configured). These parts of the chat match:"
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOPWORD_TEXT = (
    "the and you for are but not this that with have was what your just like all can how about "
    "when will from they there then them she her his him our out get got its it's did does too "
    "yes yeah okay haan nahi hai kya bhi aur"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
THEME_FIELDS = frozenset({"shared_interests", "recurring_topics"})


class OfflineLlm:
    def generate_json(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        started = time.perf_counter()
        data = write_insight(dict(schema), material)
        problems = schema_problems(dict(schema), data)
        if problems:  # a bug in this writer, never a transient condition
            raise LlmInvalidOutput("offline insight does not match its schema", problems)
        return LlmResult(
            data=data,
            model=OFFLINE_MODEL,
            prompt_tokens=estimate_tokens(prompt),
            output_tokens=estimate_tokens(json.dumps(data)),
            thinking_tokens=0,
            latency_ms=_elapsed_ms(started),
            offline=True,
        )

    async def generate_json_async(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        return self.generate_json(prompt, schema, material=material)

    def answer(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        started = time.perf_counter()
        text = offline_answer(question, context, history)
        read = [question, *(p.text for p in context), *(t.question + t.answer for t in history)]
        return LlmAnswer(
            text=text,
            model=OFFLINE_MODEL,
            prompt_tokens=sum(estimate_tokens(part) for part in read),
            output_tokens=estimate_tokens(text),
            thinking_tokens=0,
            latency_ms=_elapsed_ms(started),
            offline=True,
        )

    async def answer_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        return self.answer(question, context, history)

    async def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        """The same answer as `answer`, in word pieces; each piece lets the loop run."""
        whole = self.answer(question, context, history)
        for piece in offline_pieces(whole.text):
            yield piece
            await asyncio.sleep(0)
        yield whole


def write_insight(schema: JsonSchema, material: InsightMaterial) -> dict[str, Any]:
    """Fill `schema` from the material: shared blocks by hand, type-specific fields by shape."""
    reading = read_chat(material, themes=_themes(material))
    title = insight_type(material.insight_type).title
    data: dict[str, Any] = {}
    for name, field_schema in schema["properties"].items():
        if name == "overall":
            data[name] = _overall(reading, title)
        elif name == "evidence":
            data[name] = _evidence(material, title)
        elif name == "recommendations":
            data[name] = _recommendations(reading, field_schema)
        elif name in FIELD_WRITERS:
            data[name] = FIELD_WRITERS[name](reading, field_schema)
        elif name in PERSON_WRITERS:
            people = reading.people[: field_schema["maxItems"]]
            data[name] = [PERSON_WRITERS[name](reading, person) for person in people]
        else:
            data[name] = _fill(field_schema, name, reading, None, None)
    return data


def _overall(reading: ChatReading, title: str) -> dict[str, Any]:
    return {
        "score": reading.score,
        "summary": f"{reading.summary} This {title} reading is an offline estimate from the "
        "chat's statistics and excerpts, not an AI analysis.",
        "status": reading.status,
    }


def _evidence(material: InsightMaterial, title: str) -> list[dict[str, str]]:
    chosen = [excerpt for excerpt in material.excerpts if excerpt.text.strip()][:EVIDENCE_LIMIT]
    return [
        {
            "speaker": excerpt.speaker,
            "message": excerpt.text.strip()[:500],
            "timestamp": excerpt.timestamp.isoformat(timespec="minutes"),
            "context": f"One of the chat moments most related to {title.lower()}.",
        }
        for excerpt in chosen
    ]


def _recommendations(reading: ChatReading, schema: JsonSchema) -> list[dict[str, Any]]:
    most_targets = schema["items"]["properties"]["target"].get("maxItems", len(reading.names))
    return recommendations(reading, most_targets)


def _fill(
    schema: JsonSchema, key: str, reading: ChatReading, person: str | None, theme: str | None
) -> Any:
    """A value of the right shape for a type-specific field, derived from the reading."""
    if "enum" in schema:
        return reading.pick(schema["enum"])
    kind = schema["type"]
    if kind == "object":
        return {
            name: _fill(sub, name, reading, person, theme)
            for name, sub in schema["properties"].items()
        }
    if kind == "array":
        return _fill_array(schema, key, reading, person)
    if kind in ("number", "integer"):
        return max(schema.get("minimum", 0), min(schema.get("maximum", 10), reading.score))
    if kind == "boolean":
        return reading.score >= 5
    return _text_for(key, reading, person, theme)


def _fill_array(
    schema: JsonSchema, key: str, reading: ChatReading, person: str | None
) -> list[Any]:
    items: JsonSchema = schema["items"]
    lowest, highest = schema.get("minItems", 0), schema.get("maxItems", 6)
    if "name" in items.get("properties", {}):  # one entry per participant
        return [_fill(items, "name", reading, name, None) for name in reading.names[:highest]]
    if "enum" in items:
        return [reading.pick(items["enum"])][:highest]
    if items["type"] == "string":
        # Recurring words stand in for topics; other lists of observations need a reader, so
        # offline gives only as many as the schema demands.
        values = list(reading.themes) if key in THEME_FIELDS else []
        values = values or [reading.person_fact(person or reading.most_active)]
        count = max(lowest, min(highest, len(values) if key in THEME_FIELDS else 0))
        return [values[i % len(values)] for i in range(count)]
    # Lists of moments (repairs, vulnerable moments, plans) need a reader; offline leaves them as
    # short as the schema allows rather than inventing any.
    themes = [*reading.themes, None]
    return [_fill(items, "item", reading, person, themes[i % len(themes)]) for i in range(lowest)]


def _text_for(key: str, reading: ChatReading, person: str | None, theme: str | None) -> str:
    if key in ("name", "speaker", "more_engaged"):
        return person or reading.most_active
    if theme is not None:
        return f"“{theme}” comes up repeatedly in the excerpts."
    if person is not None:
        return reading.person_fact(person)
    return f"{key.replace('_', ' ').capitalize()} (offline estimate): {reading.summary}"


def _themes(material: InsightMaterial) -> tuple[str, ...]:
    """The words that recur most in the excerpts: a crude but honest stand-in for topics."""
    counts = Counter(
        word
        for excerpt in material.excerpts
        for word in _WORD.findall(excerpt.text.lower())
        if word not in _STOPWORDS
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, count in ranked[:3] if count >= 2)


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
