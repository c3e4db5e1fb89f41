"""Read model of insight jobs: `insight_jobs` (one row per job, with its counters and status) and
`insight_results` (one row per (job, insight type): status, and how the insight was generated).

The insight itself never reaches these tables: it is sealed in `insight_contents`, named by
`content_id`. A deleted chat's rows go with its `ChatDeleted`, so no read shows them again.
Events are applied in log order; consecutive events of one kind go as one `executemany`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from relivchats.domain.chats import ChatDeleted
from relivchats.domain.events import Event
from relivchats.domain.insights import (
    GenerationRequested,
    IndexingRequired,
    InsightFailed,
    InsightSucceeded,
    JobExpired,
    JobRequested,
    JobSettled,
)
from relivchats.projections.base import Statement, StatementProjection, topics_of

# Plain INSERT, no ON CONFLICT: applying a request twice must fail loudly, not hide.
_REQUESTED = """
WITH job AS (
    INSERT INTO insight_jobs (job_id, user_id, chat_id, category, insight_types, status,
        reservation_id, cost, expires_at, retry_of, succeeded, failed, requested_at, position)
    VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9, 0, 0, $10, $11)
)
INSERT INTO insight_results (job_id, insight_type, sort_order, chat_id, category, status, position)
SELECT $1, t.kind, t.n, $3, $4, 'pending', $11
FROM unnest($5::text[]) WITH ORDINALITY AS t(kind, n)
"""
_INDEXING = (
    "UPDATE insight_jobs SET status = 'indexing', position = $2"
    " WHERE job_id = $1 AND status = 'queued'"
)
_GENERATING = """
UPDATE insight_jobs SET chunks = $2, generation_requested_at = $3, position = $4,
    status = CASE WHEN status IN ('queued', 'indexing') THEN 'generating' ELSE status END
WHERE job_id = $1
"""
_SUCCEEDED = """
WITH result AS (
    UPDATE insight_results SET status = 'succeeded', content_id = $3, model = $4,
        prompt_tokens = $5, output_tokens = $6, thinking_tokens = $7, latency_ms = $8,
        excerpts_used = $9, offline = $10, attempts = $11, completed_at = $12,
        completed_position = $13, position = $13
    WHERE job_id = $1 AND insight_type = $2
    RETURNING job_id
)
UPDATE insight_jobs SET succeeded = succeeded + 1, position = $13
WHERE job_id IN (SELECT job_id FROM result)
"""
_FAILED = """
WITH result AS (
    UPDATE insight_results SET status = 'failed', error = $3, attempts = $4, completed_at = $5,
        completed_position = $6, position = $6
    WHERE job_id = $1 AND insight_type = $2
    RETURNING job_id
)
UPDATE insight_jobs SET failed = failed + 1, position = $6
WHERE job_id IN (SELECT job_id FROM result)
"""
_CLOSED = "UPDATE insight_jobs SET status = $2, closed_at = $3, position = $4 WHERE job_id = $1"
_CHAT_DELETED = """
WITH results AS (DELETE FROM insight_results WHERE chat_id = $1)
DELETE FROM insight_jobs WHERE chat_id = $1
"""


def _requested(e: JobRequested, position: int) -> tuple[Any, ...]:
    return (
        e.originator_id,
        e.user_id,
        e.chat_id,
        e.category,
        list(e.insight_types),
        e.reservation_id,
        e.cost,
        e.expires_at,
        e.retry_of,
        e.timestamp,
        position,
    )


def _indexing(e: IndexingRequired, position: int) -> tuple[Any, ...]:
    return (e.originator_id, position)


def _generating(e: GenerationRequested, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.chunks, e.timestamp, position)


def _succeeded(e: InsightSucceeded, position: int) -> tuple[Any, ...]:
    return (
        e.originator_id,
        e.insight_type,
        e.content_id,
        e.model,
        e.prompt_tokens,
        e.output_tokens,
        e.thinking_tokens,
        e.latency_ms,
        e.excerpts_used,
        e.offline,
        e.attempts,
        e.timestamp,
        position,
    )


def _failed(e: InsightFailed, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.insight_type, e.error, e.attempts, e.timestamp, position)


def _settled(e: JobSettled, position: int) -> tuple[Any, ...]:
    return (e.originator_id, e.outcome, e.timestamp, position)


def _expired(e: JobExpired, position: int) -> tuple[Any, ...]:
    return (e.originator_id, "expired", e.timestamp, position)


def _chat_deleted(e: ChatDeleted, position: int) -> tuple[Any, ...]:
    return (e.originator_id,)


_STATEMENTS: dict[type[Event], Statement] = {
    JobRequested: (_REQUESTED, _requested),
    IndexingRequired: (_INDEXING, _indexing),
    GenerationRequested: (_GENERATING, _generating),
    InsightSucceeded: (_SUCCEEDED, _succeeded),
    InsightFailed: (_FAILED, _failed),
    JobSettled: (_CLOSED, _settled),
    JobExpired: (_CLOSED, _expired),
    ChatDeleted: (_CHAT_DELETED, _chat_deleted),
}


class InsightsProjection(StatementProjection):
    name: ClassVar[str] = "insights"
    topics: ClassVar[tuple[str, ...]] = topics_of(*_STATEMENTS)
    statements: ClassVar[dict[type[Event], Statement]] = _STATEMENTS
    tables: ClassVar[tuple[str, ...]] = ("insight_jobs", "insight_results")
