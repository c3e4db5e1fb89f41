"""P8: index a 100,000-message chat with the local embedder — chunk, embed, upsert into Qdrant.

Baselines measured in the same run: rendering every message's line once (the least work chunking
can do), and embedding a fixed sample of the same chunks in plain float32 (the embedder without
its bfloat16 path). The chat is synthetic: two people, bursts of short messages separated by
silences, a few long messages, English and Hinglish words.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from relivchats.adapters.embeddings import LocalEmbedder
from relivchats.adapters.vectorstore import ChunkVector, VectorStore
from relivchats.domain.chunking import Chunk, chunk_messages

T = TypeVar("T")
MESSAGES = 100_000
BASELINE_SAMPLE = 96
SEARCHES = 20
P8_BUDGET_S = 60.0
VOCABULARY = (
    "hey hi okay ok haha lol yes no maybe tomorrow today tonight morning night dinner lunch "
    "coffee work office meeting boss deadline tired sleep movie weekend trip goa plan call me "
    "later miss you love sorry fine sure thanks please where when what why how home reached "
    "traffic mom dad family party birthday gift cake photo song game match exam result "
    "acha theek hai kya kal aaj chalo yaar jaan pakka bas arre matlab"
)
WORDS = VOCABULARY.split()


@dataclass(frozen=True)
class Message:
    timestamp: datetime
    sender: str
    text: str


def synthetic_chat(count: int, seed: int = 8) -> list[Message]:
    rng = random.Random(seed)
    moment = datetime(2022, 1, 1, 8, 0, tzinfo=UTC)
    messages = []
    for _ in range(count):
        # Mostly quick back-and-forth, sometimes a pause, now and then a night's silence.
        moment += timedelta(seconds=rng.choice((4, 10, 25, 60, 90, 240, 700, 3_600, 30_000)))
        length = rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 14, 20)) + (60 if rng.random() < 0.01 else 0)
        text = " ".join(rng.choice(WORDS) for _ in range(length))
        messages.append(Message(moment, rng.choice(("Asha", "Rahul")), text))
    return messages


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def to_vectors(chunks: list[Chunk], vectors: list[list[float]]) -> list[ChunkVector]:
    return [
        ChunkVector(
            c.index,
            vector,
            c.start_time,
            c.end_time,
            c.message_count,
            c.first_message,
            c.end_message,
        )
        for c, vector in zip(chunks, vectors, strict=True)
    ]


def main() -> list[dict[str, str]]:
    load_before = os.getloadavg()[0]
    messages = synthetic_chat(MESSAGES)
    _, render_s = timed(lambda: "\n".join(f"{m.sender}: {m.text}" for m in messages))
    chunks, chunk_s = timed(lambda: chunk_messages(messages))
    embedder, load_s = timed(LocalEmbedder)
    texts = [chunk.text for chunk in chunks]
    vectors, embed_s = timed(lambda: embedder.embed_documents(texts))
    with tempfile.TemporaryDirectory() as directory:
        store = VectorStore(embedder.dimension, embedder.name, path=os.path.join(directory, "q"))
        chat_id = uuid.uuid4()
        _, upsert_s = timed(lambda: store.upsert_chunks(chat_id, to_vectors(chunks, vectors)))
        query = embedder.embed_query("when are we going to goa?")
        _, search_s = timed(lambda: [store.search(chat_id, query) for _ in range(SEARCHES)])
        store.close()
    float32 = LocalEmbedder(precision="float32")
    _, fp32_s = timed(lambda: float32.embed_documents(texts[:BASELINE_SAMPLE]))

    index_s = chunk_s + embed_s + upsert_s
    rate = len(chunks) / index_s
    fp32_rate = BASELINE_SAMPLE / fp32_s
    tokens = sum(chunk.estimated_tokens for chunk in chunks) / len(chunks)
    print(
        f"{MESSAGES:,} messages -> {len(chunks):,} chunks (mean {tokens:.0f} est. tokens); "
        f"chunk {chunk_s:.2f} s, model load {load_s:.1f} s, embed {embed_s:.1f} s "
        f"({len(chunks) / embed_s:.1f} chunks/s, {embedder.precision}), upsert {upsert_s:.2f} s, "
        f"filtered search {search_s / SEARCHES * 1000:.0f} ms; indexing {index_s:.1f} s, "
        f"with model load {index_s + load_s:.1f} s (P8 budget {P8_BUDGET_S:.0f} s)"
    )
    conditions = (
        f"{MESSAGES:,} synthetic messages, {len(chunks):,} chunks, all-MiniLM-L6-v2 "
        f"({embedder.precision}, 256 word pieces, batch 32), Qdrant local mode, "
        f"{os.cpu_count()} cores, load average {load_before:.1f} at start"
    )
    return [
        {
            "what": "P8 index a 100k-message chat (chunk + embed + upsert)",
            "conditions": conditions,
            "figure": f"{index_s:.1f} s ({rate:.1f} chunks/s); +{load_s:.1f} s model load",
            "baseline": f"float32 embedding of {BASELINE_SAMPLE} of the chunks: "
            f"{fp32_rate:.1f} chunks/s",
            "ratio": f"{rate / fp32_rate:.2f}",
        },
        {
            "what": "chunking 100k messages",
            "conditions": f"{MESSAGES:,} messages, 800-1000 est. tokens, 10 min silence",
            "figure": f"{chunk_s:.3f} s ({MESSAGES / chunk_s:,.0f} messages/s)",
            "baseline": f"rendering every line once: {render_s:.3f} s",
            "ratio": f"{chunk_s / render_s:.2f}",
        },
    ]


if __name__ == "__main__":
    for row in main():
        print(row)
