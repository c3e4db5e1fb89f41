"""Searching a chat's chunks for a question, from the API: a vector in, chunk hits out.

Two deployments. With `QDRANT_URL` the API searches the server itself (`ServerSearch`). In the
embedded default only the indexer process may open the local store (Qdrant's local mode allows
one client per path), so the indexer serves searches on a Unix socket under `DATA_DIR`
(workers/search_service.py) from a thread of its own: a question never waits behind an indexing
run, only, at worst, behind one upsert batch (`IndexerSearch`).

Only the question's vector crosses the socket: never its text, which stays in the API process
(and never reaches Redis or Celery). The wire format is one JSON line each way.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import orjson

from relivchats.adapters.vectorstore import ChunkHit, VectorStore

SOCKET_NAME = "indexer-search.sock"
MAX_LINE_BYTES = 1 << 20


class SearchUnavailable(Exception):
    """The search service did not answer (the indexer is down or restarting): retry soon."""


def search_socket_path(data_dir: str) -> Path:
    return Path(data_dir) / SOCKET_NAME


@dataclass(frozen=True)
class TimedHits:
    hits: list[ChunkHit]
    search_ms: float  # as the API waited for it, transport included


class ChunkSearch(Protocol):
    async def search(self, chat_id: UUID, vector: list[float], limit: int) -> TimedHits: ...

    def close(self) -> None: ...


def hit_to_wire(hit: ChunkHit) -> dict[str, Any]:
    return {
        "chunk_index": hit.chunk_index,
        "similarity": hit.similarity,
        "start_time": hit.start_time.isoformat(),
        "end_time": hit.end_time.isoformat(),
        "message_count": hit.message_count,
        "first_message": hit.first_message,
        "end_message": hit.end_message,
        "speakers": None if hit.speakers is None else list(hit.speakers),
    }


def hit_from_wire(data: dict[str, Any]) -> ChunkHit:
    speakers = data["speakers"]
    return ChunkHit(
        chunk_index=data["chunk_index"],
        similarity=data["similarity"],
        start_time=datetime.fromisoformat(data["start_time"]),
        end_time=datetime.fromisoformat(data["end_time"]),
        message_count=data["message_count"],
        first_message=data["first_message"],
        end_message=data["end_message"],
        speakers=None if speakers is None else tuple(speakers),
    )


class IndexerSearch:
    """Asks the indexer's search service; one short connection per search (a local socket)."""

    def __init__(self, socket_path: Path, timeout_s: float):
        self._path = str(socket_path)
        self._timeout_s = timeout_s

    async def search(self, chat_id: UUID, vector: list[float], limit: int) -> TimedHits:
        started = time.perf_counter()
        request = {"op": "search", "chat_id": str(chat_id), "vector": vector, "limit": limit}
        try:
            reply = await asyncio.wait_for(self._ask(request), self._timeout_s)
        except (OSError, TimeoutError, ValueError) as error:
            raise SearchUnavailable(type(error).__name__) from error
        if "error" in reply:
            raise SearchUnavailable(str(reply["error"]))
        hits = [hit_from_wire(item) for item in reply["hits"]]
        return TimedHits(hits, (time.perf_counter() - started) * 1000)

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await asyncio.open_unix_connection(self._path, limit=MAX_LINE_BYTES)
        try:
            writer.write(orjson.dumps(request) + b"\n")
            await writer.drain()
            line = await reader.readline()
        finally:
            writer.close()
        if not line:
            raise ValueError("the search service closed the connection")
        reply: dict[str, Any] = orjson.loads(line)
        return reply

    def close(self) -> None:
        return None


class ServerSearch:
    """Searches the Qdrant server at QDRANT_URL directly (its client is thread-safe)."""

    def __init__(self, vectors: VectorStore):
        self._vectors = vectors

    async def search(self, chat_id: UUID, vector: list[float], limit: int) -> TimedHits:
        started = time.perf_counter()
        try:
            hits = await asyncio.to_thread(self._vectors.search, chat_id, vector, limit)
        except Exception as error:  # the client's transport errors have no common base
            raise SearchUnavailable(type(error).__name__) from error
        return TimedHits(hits, (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        self._vectors.close()
