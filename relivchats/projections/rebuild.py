"""Rebuild a projection from the first event, blue-green.

The replay writes into a shadow schema holding empty copies of the projection's tables (the
handlers' unqualified table names resolve there through `search_path`), while the live copy keeps
serving. The switch then locks the live checkpoint row (live batches update it first, so they
wait), catches up with the log, swaps the tables in and moves the checkpoint, in one transaction.
Read tables therefore must not own sequences (no serial columns): their keys come from events.

Speed (P5, `python -m bench.ledger --only rebuild`): while one batch is applied, the next ones
are read and decoded on a second connection, so the server's work (COPY, updates) and ours
(decoding, folding) overlap on a multi-core machine; plain events decode straight to events
(`adapters/event_decoder.py`); the cyclic garbage collector is paused during the replay; tables
a projection only appends to are filled without indexes, built once at the end; and the replay's
batches commit without waiting for the WAL flush (`synchronous_commit = off`: a crash loses at
most the last batches of a rebuild, which starts over anyway). The switch commits durably.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg
from tqdm import tqdm

from relivchats.adapters.eventstore import StableTopicMapper
from relivchats.projections import eventlog
from relivchats.projections.base import LOG_START, Envelope, LogPosition, Projection
from relivchats.projections.projector import connect

REBUILD_BATCH = 2000
READ_AHEAD = 2  # decoded batches waiting for the writer
DECODE_SLICE = 250  # rows decoded between two looks at the event loop


@dataclass(frozen=True)
class RebuildResult:
    projection: str
    events: int
    position: LogPosition
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def shadow_schema(projection: Projection) -> str:
    return f"rebuild_{projection.name}"


async def rebuild(
    dsn: str, projection: Projection, *, switch: bool = True, progress: bool = False
) -> RebuildResult:
    """Replay every event into fresh tables; with `switch`, make them the live ones."""
    if getattr(projection, "effects", False):
        raise ValueError(f"{projection.name} has side effects (it enqueues tasks): never rebuilt")
    conn, reader = await connect(dsn), await connect(dsn)
    try:
        await _prepare_shadow(conn, projection)
        await conn.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        head = await eventlog.head_position(conn)
        total = await _count_events(conn, projection, head)
        with tqdm(total=total, disable=not progress, unit="ev", desc=projection.name) as bar:
            mapper = eventlog.mapper_for(dsn)
            batches = _read_ahead(reader, mapper, projection, LOG_START, head)
            with _cyclic_gc_paused():
                applied = await _apply_all(conn, projection, batches, bar)
            await _build_deferred_indexes(conn, projection)
            if switch:
                async with conn.transaction():
                    await conn.execute("SET LOCAL synchronous_commit = on")
                    head, caught_up = await _switch(conn, mapper, projection, head, bar)
                    applied += caught_up
        return RebuildResult(projection.name, applied, head, time.perf_counter() - started)
    finally:
        await reader.close()
        await conn.close()


async def differences(dsn: str, projection: Projection) -> dict[str, int]:
    """Rows that differ, per table, between the live tables and a fresh (unswitched) rebuild."""
    await rebuild(dsn, projection, switch=False)
    conn = await connect(dsn)
    shadow = shadow_schema(projection)
    try:
        found = {}
        for table in projection.tables:
            found[table] = await conn.fetchval(
                f"SELECT count(*) FROM ((TABLE public.{table} EXCEPT ALL TABLE {shadow}.{table})"
                f" UNION ALL (TABLE {shadow}.{table} EXCEPT ALL TABLE public.{table})) AS d"
            )
        await conn.execute(f"DROP SCHEMA {shadow} CASCADE")
        return found
    finally:
        await conn.close()


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A replay allocates millions of small objects that hold no cycles (events, rows, tuples);
    each allocation burst made the cyclic collector walk the whole heap again, a fifth of a
    rebuild's instructions. Reference counting frees them all the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _appended_only(projection: Projection) -> tuple[str, ...]:
    """Tables the projection only appends to: their indexes are built after the bulk replay."""
    tables: tuple[str, ...] = getattr(projection, "append_only_tables", ())
    return tables


async def _prepare_shadow(conn: asyncpg.Connection, projection: Projection) -> None:
    shadow = shadow_schema(projection)
    await conn.execute(f"DROP SCHEMA IF EXISTS {shadow} CASCADE; CREATE SCHEMA {shadow}")
    for table in projection.tables:
        later = " EXCLUDING INDEXES" if table in _appended_only(projection) else ""
        await conn.execute(
            f"CREATE TABLE {shadow}.{table} (LIKE public.{table} INCLUDING ALL{later})"
        )
    await conn.execute(f"SET search_path = {shadow}, public")


async def _build_deferred_indexes(conn: asyncpg.Connection, projection: Projection) -> None:
    """The live tables' indexes and key constraints, on the shadow copies that were filled
    without them: one sort per index instead of an index insert per row (a rebuild writes a
    ledger row per event). A key a replay broke fails here, before anything is switched."""
    shadow = shadow_schema(projection)
    for table in _appended_only(projection):
        for definition, constraint in await conn.fetch(_INDEXES, f"public.{table}"):
            await conn.execute(definition.replace(f" ON public.{table} ", f" ON {shadow}.{table} "))
            if constraint is not None:
                name, kind = constraint
                await conn.execute(
                    f"ALTER TABLE {shadow}.{table} ADD CONSTRAINT {name} {kind} USING INDEX {name}"
                )


_INDEXES = """
SELECT pg_get_indexdef(i.indexrelid),
       CASE c.contype WHEN 'p' THEN ARRAY[c.conname::text, 'PRIMARY KEY']
                      WHEN 'u' THEN ARRAY[c.conname::text, 'UNIQUE'] END
FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = $1::regclass
"""


async def _count_events(conn: asyncpg.Connection, projection: Projection, head: LogPosition) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM relivchats_events WHERE topic = ANY($1::text[])"
        " AND (transaction_id, notification_id) <= ($2::xid8, $3)",
        list(projection.topics),
        *head,
    )
    return count


async def _replay(
    conn: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    after: LogPosition,
    upto: LogPosition,
    bar: tqdm[None],
) -> int:
    """Apply the events after `after` up to `upto`, reading on the same connection."""
    applied = 0
    while batch := await _read_batch(conn, mapper, projection, after, upto):
        async with conn.transaction():
            await projection.apply(conn, batch)
        after = batch[-1].log_position
        applied += len(batch)
        bar.update(len(batch))
    return applied


async def _apply_all(
    conn: asyncpg.Connection,
    projection: Projection,
    batches: AsyncIterator[list[Envelope]],
    bar: tqdm[None],
) -> int:
    applied = 0
    async for batch in batches:
        async with conn.transaction():
            await projection.apply(conn, batch)
        applied += len(batch)
        bar.update(len(batch))
    return applied


async def _read_ahead(
    reader: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    after: LogPosition,
    upto: LogPosition,
) -> AsyncIterator[list[Envelope]]:
    """Decoded batches in log order, read and decoded by a task of their own while the caller
    writes, up to READ_AHEAD batches ahead."""
    queue: asyncio.Queue[list[Envelope] | Exception] = asyncio.Queue(READ_AHEAD)
    producer = asyncio.ensure_future(_read_all(reader, mapper, projection, after, upto, queue))
    try:
        while batch := await queue.get():
            if isinstance(batch, Exception):
                raise batch
            yield batch
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer


async def _read_all(
    reader: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    after: LogPosition,
    upto: LogPosition,
    queue: asyncio.Queue[list[Envelope] | Exception],
) -> None:
    """Fill the queue, an empty batch last. Rows are decoded in slices, with a look at the event
    loop between two, so the writer's statements are answered while a batch is decoded: the
    server writes one batch while we decode the next ones."""
    try:
        while True:
            rows = await eventlog.read_rows(reader, after, upto, projection.topics, REBUILD_BATCH)
            batch: list[Envelope] = []
            for start in range(0, len(rows), DECODE_SLICE):
                batch += await eventlog.decode_all(
                    reader, rows[start : start + DECODE_SLICE], mapper
                )
                await asyncio.sleep(0)
            await queue.put(batch)
            if not batch:
                return
            after = batch[-1].log_position
    except Exception as error:  # the consumer raises it, in its place in the order
        await queue.put(error)


async def _read_batch(
    conn: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    after: LogPosition,
    upto: LogPosition,
) -> list[Envelope]:
    """A batch of rows, decoded (data keys read on the same connection, `decode_all`)."""
    rows = await eventlog.read_rows(conn, after, upto, projection.topics, REBUILD_BATCH)
    return await eventlog.decode_all(conn, rows, mapper)


async def _switch(
    conn: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    replayed_upto: LogPosition,
    bar: tqdm[None],
) -> tuple[LogPosition, int]:
    await eventlog.ensure_checkpoint(conn, projection.name)
    await conn.execute(
        "SELECT 1 FROM projection_positions WHERE name = $1 FOR UPDATE", projection.name
    )
    # This transaction now has an id, which bounds its own horizon: whatever commits later lies
    # after `head` in the log's order and is left to the live projector.
    head = await eventlog.head_position(conn)
    caught_up = await _replay(conn, mapper, projection, replayed_upto, head, bar)
    shadow = shadow_schema(projection)
    for table in projection.tables:
        await conn.execute(
            f"DROP TABLE public.{table}; ALTER TABLE {shadow}.{table} SET SCHEMA public"
        )
    await conn.execute(f"DROP SCHEMA {shadow}")
    await conn.execute(
        "UPDATE projection_positions SET transaction_id = $2, position = $3, error = NULL,"
        " failed_position = NULL, failed_topic = NULL, failed_at = NULL,"
        " updated_at = clock_timestamp() WHERE name = $1",
        projection.name,
        *head,
    )
    return head, caught_up
