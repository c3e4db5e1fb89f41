"""Exact search over one chat's vectors held as a matrix: the embedded store's fast path.

Qdrant's local mode checks a search's payload filter point by point in Python: about 85 ms per
question over a 100,000-message chat (1,500 chunks) here, and it grows with every chat in the
collection. Local mode searches exactly anyway (no index), so the vector store keeps each
recently searched chat's normalised vectors as one float32 matrix and answers with one matrix
product: the same cosine scores, in well under a millisecond. A chat's matrix is dropped
whenever its points change (upsert, speakers upgrade, deletion); only the store's single owner
writes them. Least recently used chats are dropped beyond `capacity` (1,500 chunks: 2.3 MB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import numpy as np

from relivchats.adapters.lru import Lru


@dataclass(frozen=True)
class ChatMatrix:
    vectors: np.ndarray  # (points, dimension), rows of unit length
    payloads: list[dict[str, Any]]

    @classmethod
    def of(cls, vectors: Sequence[Sequence[float]], payloads: list[dict[str, Any]]) -> ChatMatrix:
        if not payloads:
            return cls(np.zeros((0, 1), dtype=np.float32), [])
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(payloads), -1)
        return cls(_normalised(matrix), payloads)

    def search(self, vector: Sequence[float], limit: int) -> list[tuple[float, dict[str, Any]]]:
        if not self.payloads:
            return []
        query = _normalised(np.asarray(vector, dtype=np.float32).reshape(1, -1))[0]
        scores = self.vectors @ query
        count = min(limit, len(self.payloads))
        best = np.argpartition(-scores, count - 1)[:count]
        ranked = best[np.argsort(-scores[best], kind="stable")]
        return [(float(scores[i]), self.payloads[i]) for i in ranked]


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


class ChatMatrices(Lru[UUID, ChatMatrix]):
    """The recently searched chats' matrices (callers hold the vector store's lock)."""

    def __init__(self, capacity: int = 32) -> None:
        super().__init__(capacity)
