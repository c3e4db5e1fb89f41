"""Injected faults for tests and drills: fail chosen insight types, or slow generation down.

`LLM_FAULTS_FILE` names a JSON file, `{"fail": ["friendship_vitality"], "delay_s": 3}`, read
before each generation so a test can change it while workers run (fail an insight, then let
its retry succeed; slow generation so a worker can be killed mid-way). A listed type fails as a
provider outage would (`LlmUnavailable`), so it goes through the same retries. Unset (always,
in production) means no wrapper at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
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

    def _inject(self, insight_type: str | None) -> None:
        faults = self._faults()
        time.sleep(float(faults.get("delay_s", 0)))
        _fail_if_listed(faults, insight_type)

    async def _inject_async(self, insight_type: str | None) -> None:
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
        self._inject(None)
        return self._inner.answer(question, context, history)

    async def answer_async(
        self, question: str, context: Sequence[Passage], history: Sequence[Turn]
    ) -> LlmAnswer:
        await self._inject_async(None)
        return await self._inner.answer_async(question, context, history)


def _fail_if_listed(faults: dict[str, Any], insight_type: str | None) -> None:
    if insight_type is not None and insight_type in faults.get("fail", ()):
        raise LlmUnavailable(f"injected fault for {insight_type}")
