"""Prometheus metrics of the read side: how far each projection is behind, how it applies, and
the read-model counts an operator is alerted on.

The lag and horizon gauges are set from `projection_statuses` by whoever is scraped: the API at
each `/metrics` request, the projector every few seconds (`report_status_forever`), so either
process shows them. Labels are projection names and event topics only; nothing personal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import asyncpg
from prometheus_client import Counter, Gauge, Histogram

from relivchats.projections.status import (
    HorizonStatus,
    ProjectionStatus,
    horizon_status,
    projection_statuses,
)

log = logging.getLogger(__name__)

PROJECTION_LAG_EVENTS = Gauge(
    "relivchats_projection_lag_events", "Events in the log not yet applied", ["projection"]
)
PROJECTION_LAG_SECONDS = Gauge(
    "relivchats_projection_lag_seconds",
    "Age of the oldest unapplied event (0 when caught up)",
    ["projection"],
)
PROJECTION_FAILED = Gauge(
    "relivchats_projection_failed", "1 while a projection is stopped by an error", ["projection"]
)
HORIZON_WAITING_EVENTS = Gauge(
    "relivchats_horizon_waiting_events",
    "Committed events no projection may read yet: an older transaction is still open",
)
HORIZON_WAITING_SECONDS = Gauge(
    "relivchats_horizon_waiting_seconds", "Age of the oldest event waiting behind the horizon"
)
OLDEST_TRANSACTION_SECONDS = Gauge(
    "relivchats_oldest_transaction_seconds",
    "Age of the oldest open transaction that wrote (it holds the horizon)",
)
BATCH_EVENTS = Histogram(
    "relivchats_projection_batch_events",
    "Events applied per projection transaction",
    ["projection"],
    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
)
APPLY_SECONDS = Histogram(
    "relivchats_projection_apply_seconds",
    "Time to apply one batch and its checkpoint (one transaction)",
    ["projection"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
EVENTS_APPLIED = Counter(
    "relivchats_projected_events_total",
    "Events applied by a projection, by event topic (payments.OrderFlagged.v1, ...)",
    ["projection", "event"],
)
RESERVATIONS_PAST_EXPIRY = Gauge(
    "relivchats_reservations_past_expiry",
    "Open reservations whose expiry has passed: the sweeper should have released them",
)
FLAGGED_ORDERS = Gauge(
    "relivchats_flagged_orders", "Payment orders flagged for review (amount or currency mismatch)"
)

_PAST_EXPIRY_SQL = (
    "SELECT count(*) FROM credit_reservations WHERE status = 'open' AND expires_at < now()"
)
_FLAGGED_SQL = "SELECT count(*) FROM payment_orders WHERE flagged"
STATUS_INTERVAL_S = 5.0


def set_status_gauges(statuses: Sequence[ProjectionStatus], horizon: HorizonStatus) -> None:
    for status in statuses:
        PROJECTION_LAG_EVENTS.labels(status.name).set(status.lag_events)
        PROJECTION_LAG_SECONDS.labels(status.name).set(status.lag_seconds)
        PROJECTION_FAILED.labels(status.name).set(1 if status.error else 0)
    HORIZON_WAITING_EVENTS.set(horizon.waiting_events)
    HORIZON_WAITING_SECONDS.set(horizon.waiting_seconds)
    OLDEST_TRANSACTION_SECONDS.set(horizon.oldest_transaction_seconds)


def observe_batch(projection: str, topics: Sequence[str], seconds: float) -> None:
    BATCH_EVENTS.labels(projection).observe(len(topics))
    APPLY_SECONDS.labels(projection).observe(seconds)
    for topic in topics:
        EVENTS_APPLIED.labels(projection, topic).inc()


async def refresh_gauges(conn: asyncpg.Connection, names: Sequence[str]) -> None:
    set_status_gauges(await projection_statuses(conn, list(names)), await horizon_status(conn))
    RESERVATIONS_PAST_EXPIRY.set(await conn.fetchval(_PAST_EXPIRY_SQL))
    FLAGGED_ORDERS.set(await conn.fetchval(_FLAGGED_SQL))


async def report_status_forever(dsn: str, names: Sequence[str]) -> None:
    """The projector's own view of lag, on a connection of its own; gauges keep their last
    values while the database is away."""
    from relivchats.projections.projector import connect

    while True:
        try:
            conn = await connect(dsn)
            try:
                while True:
                    await refresh_gauges(conn, names)
                    await asyncio.sleep(STATUS_INTERVAL_S)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), timeout=2)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("projection metrics not refreshed", extra={"error": repr(error)})
            await asyncio.sleep(STATUS_INTERVAL_S)
