"""Injected faults for tests and drills: fail chosen insight types, or slow generation down.

`LLM_FAULTS_FILE` names a JSON file, `{"fail": ["friendship_vitality"], "delay_s": 3}`, read
before each generation so a test can change it while workers run (fail an insight, then let
its retry succeed; slow generation so a worker can be killed mid-way). A listed type fails as a
provider outage would (`LlmUnavailable`), so it goes through the same retries. Answers to
questions fail when "answer" is listed; a streamed answer can also wait `piece_delay_s` between
pieces (so a client can hang up mid-answer) and fail after `fail_after_pieces` pieces (an outage
mid-stream). Unset (always, in production) means no wrapper at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

from relivchats.adapters.llm.base import (
    InsightMaterial,
    LlmAnswer,
    LlmProvider,
    LlmResult,
    LlmUnavailable,
    Passage,
    Turn,
)

ANSWER = "answer"  # in "fail": questions fail (no insight type has this slug)


class FaultyLlm:
    def __init__(self, inner: LlmProvider, faults_file: str):
        self._inner = inner
        self._file = Path(faults_file)

    def _faults(self) -> dict[str, Any]:
        try:
            faults: dict[str, Any] = json.loads(self._file.read_text())
        except (OSError, ValueError):
            return {}
        return faults

    def _inject(self, insight_type: str) -> None:
        faults = self._faults()
        time.sleep(float(faults.get("delay_s", 0)))
        _fail_if_listed(faults, insight_type)

    async def _inject_async(self, insight_type: str) -> None:
        faults = self._faults()
        await asyncio.sleep(float(faults.get("delay_s", 0)))
        _fail_if_listed(faults, insight_type)

    def generate_json(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        self._inject(material.insight_type)
        return self._inner.generate_json(prompt, schema, material=material)

    async def generate_json_async(
        self, prompt: str, schema: Mapping[str, Any], *, material: InsightMaterial
    ) -> LlmResult:
        await self._inject_async(material.insight_type)
        return await self._inner.generate_json_async(prompt, schema, material=material)

    def answer(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        self._inject(ANSWER)
        return self._inner.answer(question, context, history)

    async def answer_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        await self._inject_async(ANSWER)
        return await self._inner.answer_async(question, context, history)

    async def answer_stream_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> AsyncIterator[str | LlmAnswer]:
        await self._inject_async(ANSWER)
        faults = self._faults()
        pause, fail_after = float(faults.get("piece_delay_s", 0)), faults.get("fail_after_pieces")
        pieces = 0
        inner = self._inner.answer_stream_async(question, context, history)
        async with aclosing(inner) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, str):
                    if pieces == fail_after:
                        raise LlmUnavailable(f"injected fault after {pieces} pieces")
                    pieces += 1
                    await asyncio.sleep(pause)
                yield item


def _fail_if_listed(faults: dict[str, Any], job: str) -> None:
    if job in faults.get("fail", ()):
        raise LlmUnavailable(f"injected fault for {job}")
