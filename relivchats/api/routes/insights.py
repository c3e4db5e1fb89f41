"""`/api/insights`: unlock a category of a chat, follow the job, read the insights, retry.

Unlock and retry are commands (commands/insights.py) that open a job and reserve its coins in
one save; the workers take it from the event log. Both are refused (503, nothing reserved) in a
production deployment without Gemini, unless the operator opted in to sell the offline writer's
estimates (`Settings.insights_on_sale`). Reads come from the insights read model; an
insight's content is opened from its sealed row only for the chat's owner.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi import APIRouter, Depends, Response

from relivchats.adapters.insight_content import open_insight
from relivchats.api.contract import WRITTEN, error_responses, link, linked, replayed
from relivchats.api.dependencies import (
    AppSettings,
    Cipher,
    CurrentUser,
    IdempotencyKey,
    OwnedChat,
    ReadDb,
    Store,
    rate_limited,
    wait_for_min_position,
)
from relivchats.api.errors import ApiError
from relivchats.api.schemas.insights import (
    ChatInsights,
    JobOpened,
    JobStatus,
    UnlockRequest,
    chat_job,
    insight_view,
    job_opened,
    job_status,
)
from relivchats.api.switches import Switches, require_feature
from relivchats.commands import insights as commands
from relivchats.commands.unit_of_work import dispatch
from relivchats.projections import insight_queries

router = APIRouter(prefix="/api/insights", tags=["insights"])
READ = [Depends(wait_for_min_position)]
_JOB = "$response.body#/job_id"
JOB_LINKS = linked(
    201,
    ReadStatus=link("GET", "/api/insights/jobs/{job_id}/status", job_id=_JOB, min_position=WRITTEN),
    Retry=link("POST", "/api/insights/jobs/{job_id}/retry", job_id=_JOB),
)


async def _on_sale(_: CurrentUser, settings: AppSettings) -> None:
    if not settings.insights_on_sale:
        raise ApiError(
            503,
            "insights cannot be unlocked right now: no language model is configured",
            code="insights_unavailable",
            # Every 503 of the contract carries Retry-After; this one lasts until an operator acts.
            headers={"Retry-After": "3600"},
        )


ON_SALE = Depends(_on_sale)


@router.post(
    "/unlock",
    response_model=JobOpened,
    status_code=201,
    dependencies=[
        ON_SALE,
        require_feature("unlocks"),
        Depends(rate_limited("unlock", lambda settings: settings.rate_limit_unlock)),
    ],
    responses={
        **error_responses(400, 401, 402, 404, 409, 422, 503, rate_limit="rate_limit_unlock"),
        **replayed(JobOpened),
        **JOB_LINKS,
    },
)
async def unlock(
    body: UnlockRequest,
    user: CurrentUser,
    store: Store,
    settings: AppSettings,
    response: Response,
    switches: Switches,
    idempotency_key: IdempotencyKey = None,
) -> JobOpened:
    """Reserve the category's coins and start a job (402 too few coins, 409 a job is open)."""
    await switches.require(f"insights.{body.category_id}", user.user_id, missing_is_on=True)
    opened = await dispatch(
        store,
        commands.unlock,
        user.user_id,
        body.chat_id,
        body.category_id,
        idempotency_key,
        timedelta(seconds=settings.reservation_expiry_s),
    )
    response.status_code = 201 if opened.changed else 200
    return job_opened(opened, settings)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobOpened,
    status_code=201,
    dependencies=[ON_SALE, require_feature("unlocks")],
    responses={
        **error_responses(401, 402, 404, 409, 422, 503),
        **replayed(JobOpened, "the retry job this settled job already has"),
        **JOB_LINKS,
    },
)
async def retry(
    job_id: UUID, user: CurrentUser, store: Store, settings: AppSettings, response: Response
) -> JobOpened:
    """A new job for the insights a settled job did not deliver, at their share of the cost."""
    opened = await dispatch(
        store,
        commands.retry,
        user.user_id,
        job_id,
        timedelta(seconds=settings.reservation_expiry_s),
    )
    response.status_code = 201 if opened.changed else 200
    return job_opened(opened, settings)


@router.get(
    "/jobs/{job_id}/status",
    response_model=JobStatus,
    dependencies=READ,
    responses=error_responses(401, 404, 422, 503),
)
async def status(job_id: UUID, user: CurrentUser, db: ReadDb, settings: AppSettings) -> JobStatus:
    rows = await insight_queries.job_with_results(db, job_id, user.user_id)
    if not rows:
        raise ApiError(404, "no such insight job", code="job_not_found")
    return job_status(rows, settings)


@router.get(
    "/chats/{chat_id}",
    response_model=ChatInsights,
    dependencies=READ,
    responses=error_responses(401, 404, 422, 503),
)
async def chat_insights(chat: OwnedChat, db: ReadDb, cipher: Cipher) -> ChatInsights:
    """Every insight of the chat (the newest per type), in catalogue order, and its jobs."""
    chat_id = chat["chat_id"]
    rows = await insight_queries.chat_insights(db, chat_id)
    rows.sort(key=lambda row: (row["category_order"], row["type_order"]))
    jobs = await insight_queries.chat_jobs(db, chat_id)
    return ChatInsights(
        chat_id=chat_id,
        insights=[
            insight_view(
                row, open_insight(cipher, row["body"], chat_id, row["job_id"], row["insight_type"])
            )
            for row in rows
        ],
        jobs=[chat_job(row) for row in jobs],
    )
