"""A probe of the API's event loop: how long was it blocked? (quality.md P6: never > 50 ms.)

Every `interval` the probe sleeps and measures how much later than asked it woke: that delay is
time the loop spent running something else without yielding, or time the process was not
scheduled at all. Observations go to the `relivchats_event_loop_lag_seconds` histogram on
/metrics; a stall over 50 ms is also logged with the CPU time the loop thread and the whole
process used meanwhile, which tells the two apart. Off unless LOOP_LAG_PROBE_MS > 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from relivchats.api.metrics import EVENT_LOOP_LAG

log = logging.getLogger(__name__)
STALL_WARNING_S = 0.05


async def _probe(interval_s: float) -> None:
    while True:
        started, loop_cpu, process_cpu = (
            time.perf_counter(),
            time.thread_time(),
            time.process_time(),
        )
        await asyncio.sleep(interval_s)
        lag = max(0.0, time.perf_counter() - started - interval_s)
        EVENT_LOOP_LAG.observe(lag)
        if lag > STALL_WARNING_S:
            # CPU time tells a stall of ours (the loop thread busy, or another of our threads
            # holding the GIL) from a process that was not scheduled at all (a loaded machine).
            log.warning(
                "event loop stalled",
                extra={
                    "lag_ms": round(lag * 1000, 1),
                    "loop_cpu_ms": round((time.thread_time() - loop_cpu) * 1000, 1),
                    "process_cpu_ms": round((time.process_time() - process_cpu) * 1000, 1),
                },
            )


@contextlib.asynccontextmanager
async def loop_lag_probe(interval_ms: int) -> AsyncIterator[None]:
    if interval_ms <= 0:
        yield
        return
    task = asyncio.create_task(_probe(interval_ms / 1000))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
