"""The replay's pipeline: read and decode the next batches while the current one is applied.

While one batch is applied, the next ones are read and decoded on a second connection, so the
server's work (COPY, updates) and ours (decoding, folding) overlap on a multi-core machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
from tqdm import tqdm

from relivchats.adapters.eventstore import StableTopicMapper
from relivchats.projections import eventlog
from relivchats.projections.base import Envelope, LogPosition, Projection
from relivchats.projections.eventlog import Share

REBUILD_BATCH = 2000
READ_AHEAD = 2  # decoded batches waiting for the writer
DECODE_SLICE = 250  # rows decoded between two looks at the event loop


async def replay_pipelined(
    reader: asyncpg.Connection,
    writer: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    span: tuple[LogPosition, LogPosition],
    share: Share | None,
    bar: tqdm[None] | None = None,
) -> int:
    """Apply the events of `share` in `span` (after, upto] on `writer`, one transaction per
    batch, reading ahead on `reader`; the number applied."""
    after, upto = span
    applied = 0
    async for batch in _read_ahead(reader, mapper, projection, after, upto, share):
        async with writer.transaction():
            await projection.apply(writer, batch)
        applied += len(batch)
        if bar is not None:
            bar.update(len(batch))
    return applied


async def _read_ahead(
    reader: asyncpg.Connection,
    mapper: StableTopicMapper,
    projection: Projection,
    after: LogPosition,
    upto: LogPosition,
    share: Share | None,
) -> AsyncIterator[list[Envelope]]:
    """Decoded batches in log order, read and decoded by a task of their own while the caller
    writes, up to READ_AHEAD batches ahead."""
    queue: asyncio.Queue[list[Envelope] | Exception] = asyncio.Queue(READ_AHEAD)
    producer = asyncio.ensure_future(
        _read_all(reader, mapper, projection, (after, upto), share, queue)
    )
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
    span: tuple[LogPosition, LogPosition],
    share: Share | None,
    queue: asyncio.Queue[list[Envelope] | Exception],
) -> None:
    """Fill the queue, an empty batch last. Rows are decoded in slices, with a look at the event
    loop between two, so the writer's statements are answered while a batch is decoded: the
    server writes one batch while we decode the next ones."""
    after, upto = span
    try:
        while True:
            rows = await eventlog.read_rows(
                reader, after, upto, projection.topics, REBUILD_BATCH, share
            )
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
