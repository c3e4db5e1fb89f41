"""Read model of insight jobs: `insight_jobs` (one row per job, with its counters and status) and
`insight_results` (one row per (job, insight type): status, and how the insight was generated).

The insight itself never reaches these tables: it is sealed in `insight_contents`, named by
`content_id`. A deleted chat's rows go with its `ChatDeleted`, so no read shows them again.
Events are applied in log order; consecutive events of one kind go as one `executemany`. A job's
status is the domain's (`insights.next_status`): each event writes the status it names, guarded
by the statuses it moves from, so the row and `InsightJob.status` always agree; each result's
status is the domain's `insight_status`.
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
    insight_status,
    job_status_named_by,
    outcome_of,
    statuses_before,
)
from relivchats.projections.base import Statement, StatementProjection, topics_of

# Plain INSERT, no ON CONFLICT: applying a request twice must fail loudly, not hide.
_REQUESTED = """
WITH job AS (
    INSERT INTO insight_jobs (job_id, user_id, chat_id, category, insight_types, status,
        reservation_id, cost, expires_at, retry_of, succeeded, failed, requested_at, position)
    VALUES ($1, $2, $3, $4, $5, $12, $6, $7, $8, $9, 0, 0, $10, $11)
)
INSERT INTO insight_results (job_id, insight_type, sort_order, chat_id, category, status, position)
SELECT $1, t.kind, t.n, $3, $4, $13, $11
FROM unnest($5::text[]) WITH ORDINALITY AS t(kind, n)
"""
# `insights.next_status` on the row: $2 is the status the event names, $3 the statuses it moves
# from (its earlier stages); arguments of every statement that moves a job's status start so.
_MOVED = "CASE WHEN status = ANY($3::text[]) THEN $2 ELSE status END"
_INDEXING = f"UPDATE insight_jobs SET status = {_MOVED}, position = $4 WHERE job_id = $1"
_GENERATING = f"""
UPDATE insight_jobs SET status = {_MOVED}, chunks = $4, generation_requested_at = $5, position = $6
WHERE job_id = $1
"""
_SUCCEEDED = """
WITH result AS (
    UPDATE insight_results SET status = $14, content_id = $3, model = $4,
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
    UPDATE insight_results SET status = $7, error = $3, attempts = $4, completed_at = $5,
        completed_position = $6, position = $6
    WHERE job_id = $1 AND insight_type = $2
    RETURNING job_id
)
UPDATE insight_jobs SET failed = failed + 1, position = $6
WHERE job_id IN (SELECT job_id FROM result)
"""
_CLOSED = (
    f"UPDATE insight_jobs SET status = {_MOVED}, closed_at = $4, position = $5 WHERE job_id = $1"
)
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
        job_status_named_by(e),
        insight_status(None),
    )


def _moved(e: Event) -> tuple[Any, ...]:
    """The job's id, the status its event names and the statuses that status is reached from."""
    status = job_status_named_by(e)
    assert status is not None, f"{type(e).__name__} moves no job status"
    return (e.originator_id, status, list(statuses_before(status)))


def _indexing(e: IndexingRequired, position: int) -> tuple[Any, ...]:
    return (*_moved(e), position)


def _generating(e: GenerationRequested, position: int) -> tuple[Any, ...]:
    return (*_moved(e), e.chunks, e.timestamp, position)


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
        insight_status(outcome_of(e)),
    )


def _failed(e: InsightFailed, position: int) -> tuple[Any, ...]:
    status = insight_status(outcome_of(e))
    return (e.originator_id, e.insight_type, e.error, e.attempts, e.timestamp, position, status)


def _closed(e: JobSettled | JobExpired, position: int) -> tuple[Any, ...]:
    return (*_moved(e), e.timestamp, position)


def _chat_deleted(e: ChatDeleted, position: int) -> tuple[Any, ...]:
    return (e.originator_id,)


_STATEMENTS: dict[type[Event], Statement] = {
    JobRequested: (_REQUESTED, _requested),
    IndexingRequired: (_INDEXING, _indexing),
    GenerationRequested: (_GENERATING, _generating),
    InsightSucceeded: (_SUCCEEDED, _succeeded),
    InsightFailed: (_FAILED, _failed),
    JobSettled: (_CLOSED, _closed),
    JobExpired: (_CLOSED, _closed),
    ChatDeleted: (_CHAT_DELETED, _chat_deleted),
}


class InsightsProjection(StatementProjection):
    name: ClassVar[str] = "insights"
    topics: ClassVar[tuple[str, ...]] = topics_of(*_STATEMENTS)
    statements: ClassVar[dict[type[Event], Statement]] = _STATEMENTS
    tables: ClassVar[tuple[str, ...]] = ("insight_jobs", "insight_results")
