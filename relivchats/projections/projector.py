"""The async projector: every projection follows the event log on its own connection.

Per projection: one active instance (a session advisory lock elects it; standbys wait), batches
of events applied together with the checkpoint in one transaction (exactly-once effect), woken
by LISTEN/NOTIFY and by polling (a lost notification never stalls it), reconnecting after
outages. Writers coalesce their NOTIFYs (`adapters/recorder.py`); while committed events wait
behind the horizon (an older transaction somewhere is still open), a runner is not caught up: it
looks again after HORIZON_RECHECK_S, backing off to HORIZON_RECHECK_MAX_S, instead of waiting for
a poll, since the end of that transaction may notify nobody. A handler that fails stops its
projection at the failing event, records it for `/health/projections`, and is retried with
backoff, so a deployed fix resumes it. Nothing is ever skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import asyncpg

from relivchats.adapters.eventstore import EVENTS_TABLE
from relivchats.projections import eventlog, metrics
from relivchats.projections.base import LOG_START, Envelope, LogPosition, Projection

log = logging.getLogger(__name__)

# Writers' transactions last milliseconds: look again soon when one holds events back, and less
# often the longer it does (a forgotten open session must not turn every runner into a busy loop).
HORIZON_RECHECK_S = 0.005
HORIZON_RECHECK_MAX_S = 0.1

CONNECTION_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    # A connection closed by a server shutting down can leave asyncpg's protocol in a state it
    # refuses ("cannot switch to state 12"); seen in the restart test (R9): reconnect too.
    asyncpg.InternalClientError,
    TimeoutError,
)


class ProjectionFailed(Exception):
    """A handler raised: the projection is stopped at `envelope` until it succeeds."""


async def connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        dsn,
        timeout=5,
        server_settings={
            "application_name": "relivchats-projector",
            "statement_timeout": "30000",
            # Batch transactions hold every reader's horizon back while open: never let one idle.
            "idle_in_transaction_session_timeout": "5000",
            # A batch is visible when it commits; waiting for its WAL flush too only adds lag. A
            # crash loses at most the last batches with their checkpoint, which are applied again
            # (the dispatcher's tasks are idempotent: it delivers at least once anyway).
            "synchronous_commit": "off",
        },
    )


class ProjectionRunner:
    def __init__(
        self,
        dsn: str,
        projection: Projection,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_max: float = 60.0,
    ):
        self.dsn = dsn
        self.projection = projection
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry_max = retry_max
        self.wake = asyncio.Event()
        self.mapper = eventlog.mapper_for(dsn)  # opens personal fields (crypto-shredding)
        self.position: LogPosition = LOG_START
        self.recheck_s = HORIZON_RECHECK_S

    @property
    def name(self) -> str:
        return self.projection.name

    async def run_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                await self._run_connected()
            except (*CONNECTION_ERRORS, ProjectionFailed) as error:
                log.warning(
                    "projection paused",
                    extra={"projection": self.name, "error": repr(error), "retry_in_s": delay},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max)

    async def _run_connected(self) -> None:
        conn = await connect(self.dsn)
        try:
            await self._become_active(conn)
            self.position = (await eventlog.ensure_checkpoint(conn, self.name)).position
            log.info(
                "projection active", extra={"projection": self.name, "position": self.position}
            )
            while True:
                while await self.step(conn):
                    pass
                await self._woken_or_after(self.poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)

    async def _woken_or_after(self, seconds: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
        # arrives as the wake-up does, and a projector that cannot be stopped hangs its owner.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.wake.wait()

    async def _become_active(self, conn: asyncpg.Connection) -> None:
        while not await conn.fetchval(  # noqa: ASYNC110 (the lock lives in PostgreSQL)
            "SELECT pg_try_advisory_lock(hashtextextended('projection:' || $1, 0))", self.name
        ):
            await asyncio.sleep(self.poll_interval)

    async def step(self, conn: asyncpg.Connection) -> bool:
        """Apply the next batch; False when caught up with every committed event."""
        self.wake.clear()  # before reading the head: a later wake-up is kept for the next look
        head = await eventlog.head(conn)
        if head.settled <= self.position:
            if head.waiting:  # the holder's end wakes us when it was a save; else the timeout
                await self._woken_or_after(self.recheck_s)
                self.recheck_s = min(self.recheck_s * 2, HORIZON_RECHECK_MAX_S)
            return head.waiting
        self.recheck_s = HORIZON_RECHECK_S
        rows = await eventlog.read_rows(
            conn, self.position, head.settled, self.projection.topics, self.batch_size
        )
        full = len(rows) == self.batch_size
        upto = eventlog.row_position(rows[-1]) if full else head.settled
        batch = await eventlog.decode_all(conn, rows, self.mapper)
        try:
            await self._apply(conn, batch, upto)
        except eventlog.CheckpointMoved:
            self.position = (await eventlog.ensure_checkpoint(conn, self.name)).position
        except CONNECTION_ERRORS:
            raise
        except Exception:
            await self._apply_one_by_one(conn, batch)
        return True

    async def _apply(
        self, conn: asyncpg.Connection, batch: list[Envelope], upto: LogPosition
    ) -> None:
        if not batch:  # only other projections' events: one statement, no transaction
            await eventlog.advance_checkpoint(conn, self.name, self.position, upto, None)
            self.position = upto
            return
        started = time.perf_counter()
        async with conn.transaction():
            await eventlog.advance_checkpoint(
                conn, self.name, self.position, upto, batch[-1].recorded_at
            )
            await self.projection.apply(conn, batch)
        self.position = upto
        topics = [envelope.event.TOPIC for envelope in batch]
        metrics.observe_batch(self.name, topics, time.perf_counter() - started)

    async def _apply_one_by_one(self, conn: asyncpg.Connection, batch: Sequence[Envelope]) -> None:
        """Find the failing event: apply what precedes it, record it, and stop there."""
        for envelope in batch:
            try:
                await self._apply(conn, [envelope], envelope.log_position)
            except CONNECTION_ERRORS:
                raise
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                await eventlog.record_failure(conn, self.name, envelope, message)
                log.error(
                    "projection handler failed",
                    extra={
                        "projection": self.name,
                        "position": envelope.position,
                        "topic": envelope.event.TOPIC,
                        "error": message,
                    },
                )
                raise ProjectionFailed(message) from error


class Projector:
    """All projections of one process, woken together by the log's NOTIFY channel."""

    def __init__(
        self,
        dsn: str,
        projections: Sequence[Projection],
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        retry_max: float = 60.0,
    ):
        self.dsn = dsn
        self.runners = [
            ProjectionRunner(
                dsn, p, batch_size=batch_size, poll_interval=poll_interval, retry_max=retry_max
            )
            for p in projections
        ]

    def wake_all(self, *_: object) -> None:
        for runner in self.runners:
            runner.wake.set()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._listen_forever())
            for runner in self.runners:
                group.create_task(runner.run_forever(), name=f"projection:{runner.name}")

    async def _listen_forever(self) -> None:
        while True:
            try:
                conn = await connect(self.dsn)
                await conn.add_listener(EVENTS_TABLE, self.wake_all)
                try:
                    while True:  # a dead connection is noticed here; polling covers the gap
                        await asyncio.sleep(5)
                        await conn.fetchval("SELECT 1")
                finally:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), timeout=2)
            except CONNECTION_ERRORS as error:
                log.warning("listener reconnecting", extra={"error": repr(error)})
                await asyncio.sleep(1)
