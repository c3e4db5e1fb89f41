"""Request and response shapes of `/api/categories` and `/api/insights`, and how they are made.

Writes answer what the command decided (the job as its events left it); reads shape read-model
rows. ETAs are estimates from the job's phase and how many insights are left, never promises.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel, Field

from relivchats.commands.insights import OpenedJob
from relivchats.settings import Settings

CLOSED = ("captured", "released", "expired")
PREPARING_S = 3  # the indexer choosing excerpts for an already indexed chat
INDEXING_S = 30  # embedding a typical chat; a 100k-message one takes about a minute
OFFLINE_INSIGHT_S = 2
GEMINI_INSIGHT_S = 20


class UnlockRequest(BaseModel):
    chat_id: UUID
    category_id: str = Field(min_length=1, max_length=64, description="a category slug: romantic")


class ReservationView(BaseModel):
    reservation_id: UUID
    amount: int = Field(description="coins held until the job settles")
    expires_at: datetime = Field(description="released by the sweeper if still held then")


class JobOpened(BaseModel):
    job_id: UUID
    created: bool = Field(description="false: the same request (Idempotency-Key) answered again")
    status: str
    chat_id: UUID
    category: str
    insight_types: list[str]
    insights_total: int
    reservation: ReservationView
    available: int = Field(description="the user's coins still available after the reservation")
    retry_of: UUID | None
    eta_seconds: int = Field(description="an estimate")
    poll_url: str
    position: int


class Progress(BaseModel):
    total: int
    succeeded: int
    failed: int
    pending: int
    percent: int


class InsightProgress(BaseModel):
    insight_type: str
    title: str
    status: Literal["pending", "succeeded", "failed"]
    error: str | None = Field(description="an error code when it failed")
    attempts: int | None
    latency_ms: int | None
    completed_at: datetime | None


class JobStatus(BaseModel):
    job_id: UUID
    chat_id: UUID
    category: str
    status: str = Field(description="queued, indexing, generating, captured, released, expired")
    progress: Progress
    insights: list[InsightProgress]
    eta_seconds: int = Field(description="an estimate; 0 once the job is over")
    reservation: ReservationView
    retry_of: UUID | None
    retry_url: str | None = Field(description="where to retry the insights that failed")
    requested_at: datetime
    closed_at: datetime | None


class Generation(BaseModel):
    model: str
    prompt_tokens: int
    output_tokens: int
    thinking_tokens: int
    latency_ms: int
    excerpts_used: int
    offline: bool = Field(description="written by the offline provider, not by an AI model")
    attempts: int
    generated_at: datetime


class InsightView(BaseModel):
    insight_type: str
    title: str
    icon: str
    category: str
    category_name: str
    job_id: UUID
    content: dict[str, Any]
    generation: Generation


class ChatJob(BaseModel):
    job_id: UUID
    category: str
    status: str
    insights_total: int
    succeeded: int
    failed: int
    retry_of: UUID | None
    requested_at: datetime
    closed_at: datetime | None


class ChatInsights(BaseModel):
    chat_id: UUID
    insights: list[InsightView]
    jobs: list[ChatJob]


class InsightType(BaseModel):
    insight_type: str
    title: str
    description: str
    icon: str


class CategoryView(BaseModel):
    category_id: str
    display_name: str
    description: str
    icon: str
    cost_coins: int
    chat_size: str = Field(description="exactly_2 or 2_or_more")
    min_participants: int
    max_participants: int | None
    insights: list[InsightType]


def eta_seconds(settings: Settings, status: str, pending: int) -> int:
    if status in CLOSED:
        return 0
    per_insight = GEMINI_INSIGHT_S if settings.gemini_api_key else OFFLINE_INSIGHT_S
    waves = math.ceil(pending / max(1, settings.worker_concurrency))
    before = {"indexing": INDEXING_S, "queued": PREPARING_S}.get(status, 0)
    return before + waves * per_insight


def job_opened(opened: OpenedJob, settings: Settings) -> JobOpened:
    job, status = opened.job, opened.job.status
    return JobOpened(
        job_id=job.id,
        created=opened.changed,
        status=status,
        chat_id=job.chat_id,
        category=job.category,
        insight_types=list(job.insight_types),
        insights_total=len(job.insight_types),
        reservation=ReservationView(
            reservation_id=job.reservation_id, amount=job.cost, expires_at=job.expires_at
        ),
        available=opened.available,
        retry_of=job.retry_of,
        eta_seconds=eta_seconds(settings, status, len(job.pending_types)),
        poll_url=f"/api/insights/jobs/{job.id}/status",
        position=opened.position,
    )


def job_status(rows: Sequence[asyncpg.Record], settings: Settings) -> JobStatus:
    """From `insight_queries.job_with_results`: one row per insight, job columns repeated."""
    job = rows[0]
    total = len(job["insight_types"])
    pending = total - job["succeeded"] - job["failed"]
    retryable = job["status"] in ("released", "expired") and pending + job["failed"] > 0
    return JobStatus(
        job_id=job["job_id"],
        chat_id=job["chat_id"],
        category=job["category"],
        status=job["status"],
        progress=Progress(
            total=total,
            succeeded=job["succeeded"],
            failed=job["failed"],
            pending=pending,
            percent=round(100 * (total - pending) / total),
        ),
        insights=[_insight_progress(row) for row in rows if row["insight_type"] is not None],
        eta_seconds=eta_seconds(settings, job["status"], pending),
        reservation=ReservationView(
            reservation_id=job["reservation_id"], amount=job["cost"], expires_at=job["expires_at"]
        ),
        retry_of=job["retry_of"],
        retry_url=f"/api/insights/jobs/{job['job_id']}/retry" if retryable else None,
        requested_at=job["requested_at"],
        closed_at=job["closed_at"],
    )


def _insight_progress(row: asyncpg.Record) -> InsightProgress:
    return InsightProgress(
        insight_type=row["insight_type"],
        title=row["title"] or row["insight_type"],
        status=row["insight_status"],
        error=row["error"],
        attempts=row["attempts"],
        latency_ms=row["latency_ms"],
        completed_at=row["completed_at"],
    )


def insight_view(row: asyncpg.Record, content: dict[str, Any]) -> InsightView:
    return InsightView(
        insight_type=row["insight_type"],
        title=row["title"],
        icon=row["icon"],
        category=row["category"],
        category_name=row["category_name"],
        job_id=row["job_id"],
        content=content,
        generation=Generation(
            model=row["model"],
            prompt_tokens=row["prompt_tokens"],
            output_tokens=row["output_tokens"],
            thinking_tokens=row["thinking_tokens"],
            latency_ms=row["latency_ms"],
            excerpts_used=row["excerpts_used"],
            offline=row["offline"],
            attempts=row["attempts"],
            generated_at=row["completed_at"],
        ),
    )


def chat_job(row: asyncpg.Record) -> ChatJob:
    return ChatJob(
        job_id=row["job_id"],
        category=row["category"],
        status=row["status"],
        insights_total=len(row["insight_types"]),
        succeeded=row["succeeded"],
        failed=row["failed"],
        retry_of=row["retry_of"],
        requested_at=row["requested_at"],
        closed_at=row["closed_at"],
    )


def categories_of(rows: Sequence[asyncpg.Record]) -> list[CategoryView]:
    """From `categories_with_insights`: one row per insight type, grouped in order."""
    views: dict[str, CategoryView] = {}
    for row in rows:
        view = views.get(row["slug"])
        if view is None:
            view = views[row["slug"]] = CategoryView(
                category_id=row["slug"],
                display_name=row["display_name"],
                description=row["description"],
                icon=row["icon"],
                cost_coins=row["cost_coins"],
                chat_size=row["chat_size"],
                min_participants=row["min_participants"],
                max_participants=row["max_participants"],
                insights=[],
            )
        view.insights.append(
            InsightType(
                insight_type=row["insight_type"],
                title=row["title"],
                description=row["insight_description"],
                icon=row["insight_icon"],
            )
        )
    return list(views.values())
