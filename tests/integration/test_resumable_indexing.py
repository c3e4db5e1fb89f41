"""Indexing runs in slices: a run past its deadline stops between batches, the next resumes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from relivchats.adapters.vectorstore import VectorStore
from relivchats.domain.chunking import chunk_messages
from relivchats.workers.indexing import EMBED_BATCH, IndexingPaused, _Line, ensure_indexed


class CountingEmbedder:
    """Deterministic 4-d vectors; counts the chunks it was asked to embed."""

    name = "test/counting"
    dimension = 4

    def __init__(self) -> None:
        self.embedded = 0

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [[1.0, float(len(text) % 7), 0.5, 0.25] for text in texts]


def lines(count: int) -> list[_Line]:
    start = datetime(2024, 1, 1, 9, 0)
    return [
        _Line(seq, start + timedelta(minutes=20 * seq), "Asha" if seq % 2 else "Ben", "word " * 700)
        for seq in range(count)
    ]


def test_a_run_past_its_deadline_pauses_and_the_next_run_stores_only_the_rest(tmp_path: Path):
    messages = lines(3 * EMBED_BATCH)
    chunks = chunk_messages(messages)
    assert len(chunks) > 2 * EMBED_BATCH
    store = VectorStore(4, "test/counting", path=str(tmp_path / "qdrant"))
    embedder = CountingEmbedder()
    owner = SimpleNamespace(vectors=store, embedder=embedder)
    chat_id = uuid.uuid4()
    try:
        with pytest.raises(IndexingPaused):
            ensure_indexed(owner, chat_id, chunks, messages, deadline=time.monotonic() - 1)
        assert store.count(chat_id) == EMBED_BATCH  # one batch per run, whatever the deadline

        embedded_now = ensure_indexed(owner, chat_id, chunks, messages, time.monotonic() + 60)

        assert embedded_now == len(chunks) - EMBED_BATCH
        assert embedder.embedded == len(chunks)  # nothing embedded twice
        assert store.count(chat_id) == len(chunks)
        hit = store.search(chat_id, [1.0, 0.0, 0.5, 0.25], limit=1)[0]
        assert 0 <= hit.first_message < hit.end_message <= len(messages)
    finally:
        store.close()
