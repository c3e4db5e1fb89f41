"""Service identity, liveness, readiness, pool and projection health, Prometheus metrics."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from relivchats import __version__
from relivchats.adapters.storage import StorageUnavailable
from relivchats.api import metrics
from relivchats.api.contract import error_responses
from relivchats.api.dependencies import AppSettings, Broker, ProjectionNames, ReadDb, Store
from relivchats.api.errors import STORAGE_RETRY_AFTER_S
from relivchats.projections.metrics import set_status_gauges
from relivchats.projections.status import (
    HorizonStatus,
    ProjectionStatus,
    horizon_status,
    projection_statuses,
)
from relivchats.settings import Settings

router = APIRouter(tags=["health"])

CHECK_TIMEOUT_S = 2.0


@router.get("/")
async def root() -> dict[str, Any]:
    return {
        "name": "RelivChats",
        "version": __version__,
        "links": {"docs": "/docs", "openapi": "/openapi.json", "health": "/health"},
    }


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


async def _statuses(names: list[str], db: ReadDb) -> list[ProjectionStatus]:
    async with db.connection(acquire_timeout=CHECK_TIMEOUT_S) as conn:
        return await projection_statuses(conn, names)


async def _horizon(db: ReadDb) -> HorizonStatus:
    async with db.connection(acquire_timeout=CHECK_TIMEOUT_S) as conn:
        return await horizon_status(conn)


async def _check(probe: Any) -> dict[str, Any]:
    try:
        await asyncio.wait_for(probe, timeout=CHECK_TIMEOUT_S)
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


async def _qdrant_ready(settings: Settings) -> None:
    headers = {}
    if settings.qdrant_api_key is not None:
        headers["api-key"] = settings.qdrant_api_key.get_secret_value()
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S) as client:
        response = await client.get(f"{settings.qdrant_url}/readyz", headers=headers)
        response.raise_for_status()


async def _vector_store(settings: Settings) -> dict[str, Any]:
    """A Qdrant server is asked; the embedded store is the indexer's alone, so not opened here."""
    if not settings.qdrant_url:
        return {"ok": True, "mode": "embedded, owned by the indexer process"}
    return {**await _check(_qdrant_ready(settings)), "mode": "server"}


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, dict[str, Any]] = Field(
        description="database, broker, vector_store, projections: each with ok and its findings"
    )


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready: a check failed"}},
)
async def ready(
    db: ReadDb, settings: AppSettings, redis: Broker, names: ProjectionNames
) -> JSONResponse:
    database = await _check(db.fetchval("SELECT 1"))
    broker = await _check(redis.ping())
    projections: dict[str, Any] = {"ok": False}
    if database["ok"]:
        statuses = await _statuses(names, db)
        projections = {
            "ok": all(
                s.error is None and s.lag_events <= settings.readiness_max_lag_events
                for s in statuses
            ),
            "max_lag_events": max((s.lag_events for s in statuses), default=0),
            "failed": [s.name for s in statuses if s.error is not None],
        }
    checks = {
        "database": database,
        "broker": broker,
        "vector_store": await _vector_store(settings),
        "projections": projections,
    }
    ok = all(check["ok"] for check in checks.values())
    if ok:
        return JSONResponse({"ready": True, "checks": checks})
    retry = {"Retry-After": str(STORAGE_RETRY_AFTER_S)}
    return JSONResponse({"ready": False, "checks": checks}, status_code=503, headers=retry)


@router.get("/health/db-pool")
async def db_pool(db: ReadDb, store: Store) -> dict[str, float]:
    """The read pool (size, in_use, idle, waiting, utilisation_percent), and the event store's
    threads, one connection each (`eventstore_in_use`, `eventstore_queued`, ...)."""
    return {**db.stats(), **{f"eventstore_{k}": v for k, v in store.stats().items()}}


@router.get("/health/projections", responses=error_responses(503))
async def projections_health(db: ReadDb, names: ProjectionNames) -> dict[str, Any]:
    statuses = await _statuses(names, db)
    horizon = await _horizon(db)
    return {
        "projections": [status.as_dict() for status in statuses],
        "horizon": horizon.as_dict(),
    }


@router.get("/metrics", include_in_schema=False)
async def prometheus(db: ReadDb, store: Store, names: ProjectionNames) -> Response:
    """Served while the database is down too: that is when the retry counters matter most."""
    for measure, value in db.stats().items():
        metrics.DB_POOL.labels(measure).set(value)
    for measure, value in store.stats().items():
        metrics.EVENTSTORE_POOL.labels(measure).set(value)
    with contextlib.suppress(StorageUnavailable):  # the database gauges keep their last values
        set_status_gauges(await _statuses(names, db), await _horizon(db))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
