"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from relivchats.settings import DEV_AUDITOR_CLAIM

# The claim that makes a local token's bearer an auditor (the test settings configure none).
AUDITOR_CLAIMS = dict([DEV_AUDITOR_CLAIM])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until `check()` is true; fail the test with a clear message if it never is."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(0.05)


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def stopped(task: asyncio.Task[Any]) -> None:
    """Cancel until the task ends: a teardown that waits on one lost cancellation never ends."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=1)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
