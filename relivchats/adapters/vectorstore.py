"""Chunk vectors in Qdrant: one collection for every chat, filtered by `chat_id` on every search.

A Qdrant server is used when a URL is given; otherwise Qdrant's embedded local mode keeps the
collection on disk under `path`. Local mode allows ONE client per path across all processes (a
second one raises), so the caller must give the local store a single owner: one process that
indexes and searches on behalf of the others. Filtered search there scans, about 1 s over 50k
points, which is fine for development and tests but not for production.

Payloads hold ids and metadata only, never message text or names (product spec §7): speakers are
positions in the chat's participant list, and `first_message`/`end_message` the half-open range
of message positions; the text of a hit is fetched from the encrypted content store by those.
Points stored before speakers were recorded (`PAYLOAD_VERSION` 1) come back with `speakers`
None; `set_speakers` upgrades them in place, without embedding anything again.

In local mode a search is answered from the chat's vectors held as one matrix
(adapters/chat_matrix.py: the same exact cosine scores, without local mode's per-point filter
scan); `qdrant_search` is Qdrant's own search. Calls are serialised by a lock: the indexer's
search service searches from its own thread while the indexing task upserts, and the local
client is not thread-safe. Embedding happens outside the lock, so a search waits at most for
one upsert batch.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qdrant_client import QdrantClient, models

from relivchats.adapters.chat_matrix import ChatMatrices, ChatMatrix
from relivchats.domain.events import deterministic_id

UPSERT_BATCH = 256
SCROLL_PAGE = 2048
PAYLOAD_VERSION = 2  # 2: speakers (participant indices) are in the payload


@dataclass(frozen=True)
class ChunkVector:
    """One embedded chunk, ready to store: the vector plus what a search result must show."""

    chunk_index: int
    vector: Sequence[float]
    start_time: datetime
    end_time: datetime
    message_count: int
    first_message: int
    end_message: int
    speakers: tuple[int, ...] = ()  # positions in the chat's participant list


@dataclass(frozen=True)
class ChunkHit:
    chunk_index: int
    similarity: float
    start_time: datetime
    end_time: datetime
    message_count: int
    first_message: int
    end_message: int
    speakers: tuple[int, ...] | None = None  # None: stored before speakers were recorded


class VectorStore:
    def __init__(
        self,
        dimension: int,
        embedder_name: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        collection: str = "chat_chunks",
        timeout_s: int = 10,
    ):
        if url is None and path is None:
            raise ValueError("give a Qdrant server url or a local path")
        self._local = url is None
        self._client = (
            QdrantClient(path=path)
            if url is None
            else QdrantClient(url=url, api_key=api_key, timeout=timeout_s)
        )
        self._collection = collection
        self._embedder_name = embedder_name
        self._lock = threading.Lock()
        self._matrices = ChatMatrices()  # local mode's fast exact search (adapters/chat_matrix)
        try:
            self._ensure_collection(dimension)
        except BaseException:
            self._client.close()  # releases the local store's lock for the next owner
            raise

    def _ensure_collection(self, dimension: int) -> None:
        if self._client.collection_exists(self._collection):
            existing = self._client.get_collection(self._collection).config.params.vectors
            size = existing.size if isinstance(existing, models.VectorParams) else None
            if size != dimension:
                raise ValueError(
                    f"collection {self._collection!r} holds {size}-d vectors, the embedder makes "
                    f"{dimension}-d ones: use another collection or re-index"
                )
            return
        self._client.create_collection(
            self._collection,
            vectors_config=models.VectorParams(size=dimension, distance=models.Distance.COSINE),
        )
        if not self._local:  # local mode ignores payload indexes (and warns about them)
            self._client.create_payload_index(
                self._collection, "chat_id", field_schema=models.PayloadSchemaType.KEYWORD
            )

    def upsert_chunks(self, chat_id: uuid.UUID, chunks: Sequence[ChunkVector]) -> None:
        """Idempotent: a chunk's point id derives from (chat, index), so re-indexing overwrites."""
        for start in range(0, len(chunks), UPSERT_BATCH):
            points = [self._point(chat_id, chunk) for chunk in chunks[start : start + UPSERT_BATCH]]
            with self._lock:
                self._client.upsert(self._collection, points=points, wait=True)
                self._matrices.drop(chat_id)

    def search(self, chat_id: uuid.UUID, vector: Sequence[float], limit: int = 5) -> list[ChunkHit]:
        if self._local:
            with self._lock:
                matrix = self._matrices.get(chat_id) or self._load_matrix(chat_id)
            return [_hit(score, payload) for score, payload in matrix.search(vector, limit)]
        return self.qdrant_search(chat_id, vector, limit)

    def qdrant_search(
        self, chat_id: uuid.UUID, vector: Sequence[float], limit: int = 5
    ) -> list[ChunkHit]:
        """Qdrant's own search (the server's, or local mode's filter scan)."""
        with self._lock:
            response = self._client.query_points(
                self._collection,
                query=list(vector),
                query_filter=_chat_filter(chat_id),
                limit=limit,
                with_payload=True,
            )
        return [_hit(point.score, point.payload or {}) for point in response.points]

    def count(self, chat_id: uuid.UUID) -> int:
        with self._lock:
            return self._client.count(self._collection, count_filter=_chat_filter(chat_id)).count

    def without_speakers(self, chat_id: uuid.UUID) -> int:
        """How many of the chat's points predate speakers in the payload."""
        old = models.Filter(
            must=[*_chat_filter(chat_id).must, models.IsEmptyCondition(is_empty=_SPEAKERS)]  # type: ignore[misc]
        )
        with self._lock:
            return self._client.count(self._collection, count_filter=old).count

    def set_speakers(self, chat_id: uuid.UUID, speakers: Sequence[tuple[int, ...]]) -> None:
        """Upgrade stored points in place: chunk i gets `speakers[i]` (no re-embedding)."""
        operations = [
            models.SetPayloadOperation(
                set_payload=models.SetPayload(
                    payload={"speakers": list(people), "payload_version": PAYLOAD_VERSION},
                    points=[str(deterministic_id("chunk", chat_id, index))],
                )
            )
            for index, people in enumerate(speakers)
        ]
        for start in range(0, len(operations), UPSERT_BATCH):
            with self._lock:
                self._client.batch_update_points(
                    self._collection, operations[start : start + UPSERT_BATCH], wait=True
                )
                self._matrices.drop(chat_id)

    def delete_chat(self, chat_id: uuid.UUID) -> None:
        with self._lock:
            self._client.delete(
                self._collection,
                points_selector=models.FilterSelector(filter=_chat_filter(chat_id)),
                wait=True,
            )
            self._matrices.drop(chat_id)

    def close(self) -> None:
        self._client.close()

    def _load_matrix(self, chat_id: uuid.UUID) -> ChatMatrix:
        """Every point of the chat, vectors and payloads, as one matrix (lock held)."""
        vectors: list[Any] = []
        payloads: list[dict[str, Any]] = []
        offset: Any = None
        while True:
            points, offset = self._client.scroll(
                self._collection,
                scroll_filter=_chat_filter(chat_id),
                limit=SCROLL_PAGE,
                offset=offset,
                with_payload=True,
                with_vectors=True,
            )
            vectors.extend(point.vector for point in points)
            payloads.extend(point.payload or {} for point in points)
            if offset is None:
                break
        matrix = ChatMatrix.of(vectors, payloads)
        self._matrices.put(chat_id, matrix)
        return matrix

    def _point(self, chat_id: uuid.UUID, chunk: ChunkVector) -> models.PointStruct:
        payload = {
            "chat_id": str(chat_id),
            "chunk_index": chunk.chunk_index,
            "start_time": chunk.start_time.isoformat(),
            "end_time": chunk.end_time.isoformat(),
            "message_count": chunk.message_count,
            "first_message": chunk.first_message,
            "end_message": chunk.end_message,
            "speakers": list(chunk.speakers),
            "payload_version": PAYLOAD_VERSION,
            "embedder": self._embedder_name,
        }
        return models.PointStruct(
            id=str(deterministic_id("chunk", chat_id, chunk.chunk_index)),
            vector=list(chunk.vector),
            payload=payload,
        )


_SPEAKERS = models.PayloadField(key="speakers")


def _chat_filter(chat_id: uuid.UUID) -> models.Filter:
    return models.Filter(
        must=[models.FieldCondition(key="chat_id", match=models.MatchValue(value=str(chat_id)))]
    )


def _hit(score: float, payload: dict[str, Any]) -> ChunkHit:
    return ChunkHit(
        chunk_index=payload["chunk_index"],
        similarity=score,
        start_time=datetime.fromisoformat(payload["start_time"]),
        end_time=datetime.fromisoformat(payload["end_time"]),
        message_count=payload["message_count"],
        first_message=payload["first_message"],
        end_message=payload["end_message"],
        speakers=tuple(payload["speakers"]) if "speakers" in payload else None,
    )
