"""How far the indexing of a chat has got, for the `202` a question answers while it runs.

The indexer writes `{stored, total}` chunk counts under the chat's id in Redis after each
embedded batch (counts and an id only, never content), with an expiry so a forgotten run
leaves nothing behind; the API reads it. Keys carry `CELERY_KEY_PREFIX`, like the broker's,
so deployments and test runs sharing one Redis keep theirs apart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import orjson
import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

EXPIRY_S = 3600


@dataclass(frozen=True)
class IndexingProgress:
    stored: int  # chunks embedded and stored
    total: int  # chunks the chat makes

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else min(100, self.stored * 100 // self.total)


def progress_key(prefix: str, chat_id: UUID) -> str:
    return f"{prefix}indexing-progress:{chat_id}"


def publish_progress(
    client: redis.Redis, prefix: str, chat_id: UUID, progress: IndexingProgress
) -> None:
    body = orjson.dumps({"stored": progress.stored, "total": progress.total})
    client.set(progress_key(prefix, chat_id), body, ex=EXPIRY_S)


async def read_progress(
    client: aioredis.Redis, prefix: str, chat_id: UUID
) -> IndexingProgress | None:
    """None when no run has reported yet (the request is queued) or Redis cannot say."""
    try:
        raw = await client.get(progress_key(prefix, chat_id))
    except (OSError, aioredis.RedisError):
        return None
    if raw is None:
        return None
    data = orjson.loads(raw)
    return IndexingProgress(stored=int(data["stored"]), total=int(data["total"]))


def progress_reporter(
    redis_url: str, prefix: str, chat_id: UUID, total: int
) -> Callable[[int], None]:
    """For the indexer: report(stored) publishes; Redis trouble never stops an indexing run."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2)

    def report(stored: int) -> None:
        try:
            publish_progress(client, prefix, chat_id, IndexingProgress(stored, total))
        except (OSError, redis.RedisError):
            log.warning("indexing progress not published", extra={"chat_id": str(chat_id)})

    return report
