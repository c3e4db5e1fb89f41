"""Reading the insights read model (projections/insights.py).

Each function is one statement on a key or an index, so a page costs the same number of round
trips whatever it holds (quality.md P2).
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

import asyncpg


class Queryable(Protocol):
    """An asyncpg connection, or the API's read pool (same `fetch` method)."""

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]: ...


_JOB_WITH_RESULTS = """
SELECT j.job_id, j.chat_id, j.category, j.status, j.insight_types, j.reservation_id, j.cost,
    j.expires_at, j.retry_of, j.succeeded, j.failed, j.chunks, j.requested_at,
    j.generation_requested_at, j.closed_at, j.position,
    r.insight_type, r.status AS insight_status, r.error, r.attempts, r.latency_ms,
    r.completed_at, t.title
FROM insight_jobs j
LEFT JOIN insight_results r ON r.job_id = j.job_id
LEFT JOIN catalogue_insight_types t ON t.slug = r.insight_type
WHERE j.job_id = $1 AND j.user_id = $2
ORDER BY r.sort_order
"""

# The newest success per insight type (a late result and its retry may both exist).
_CHAT_INSIGHTS = """
SELECT DISTINCT ON (r.insight_type) r.job_id, r.insight_type, r.category, r.content_id,
    r.model, r.prompt_tokens, r.output_tokens, r.thinking_tokens, r.latency_ms, r.excerpts_used,
    r.offline, r.attempts, r.completed_at, c.body, t.title, t.icon, t.sort_order AS type_order,
    k.display_name AS category_name, k.sort_order AS category_order
FROM insight_results r
JOIN insight_contents c ON c.content_id = r.content_id
JOIN catalogue_insight_types t ON t.slug = r.insight_type
JOIN catalogue_categories k ON k.slug = r.category
WHERE r.chat_id = $1 AND r.status = 'succeeded'
ORDER BY r.insight_type, r.completed_position DESC
"""

_CHAT_JOBS = """
SELECT job_id, category, status, insight_types, succeeded, failed, retry_of, requested_at,
    closed_at
FROM insight_jobs WHERE chat_id = $1 ORDER BY requested_at DESC LIMIT $2
"""


async def job_with_results(db: Queryable, job_id: UUID, user_id: UUID) -> list[asyncpg.Record]:
    """One row per insight of the user's job (job columns repeated); empty if not theirs."""
    return await db.fetch(_JOB_WITH_RESULTS, job_id, user_id)


async def chat_insights(db: Queryable, chat_id: UUID) -> list[asyncpg.Record]:
    return await db.fetch(_CHAT_INSIGHTS, chat_id)


async def chat_jobs(db: Queryable, chat_id: UUID, limit: int = 50) -> list[asyncpg.Record]:
    return await db.fetch(_CHAT_JOBS, chat_id, limit)
