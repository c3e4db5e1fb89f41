"""Run a function in forked processes, one per share of the streams, and collect the results.

A rebuild's client work (decoding, folding, encoding rows) is single-threaded Python; a
projection whose state is per stream can be replayed share by share, each share in a process of
its own, so every core folds. Processes are forked, not spawned: a spawned process would import
the application again, which costs as much as the replay of a small log. The children never touch
what they inherit (the parent's connections, its event loop): they open their own connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from relivchats.projections.eventlog import Share


class ShareFailed(Exception):
    """A forked share ended without a result (it was killed, or its error could not be sent)."""


class Shares:
    """Shares 1 to parts - 1 running in children; share 0 is the caller's."""

    def __init__(self, parts: int, work: Callable[[Share], int]) -> None:
        self.own = Share(0, parts) if parts > 1 else None
        self._children: list[tuple[BaseProcess, Connection]] = []
        fork = multiprocessing.get_context("fork")
        for part in range(1, parts):
            receiver, sender = fork.Pipe(duplex=False)
            child = fork.Process(target=_run, args=(work, Share(part, parts), sender), daemon=True)
            child.start()
            sender.close()
            self._children.append((child, receiver))

    async def total(self) -> int:
        """The sum of the children's results; a child's error is raised here."""
        total = 0
        for child, receiver in self._children:
            outcome = await asyncio.to_thread(_receive, receiver)
            await asyncio.to_thread(child.join)
            if isinstance(outcome, BaseException):
                raise outcome
            total += outcome
        return total

    def stop(self) -> None:
        for child, receiver in self._children:
            if child.is_alive():
                child.terminate()
                child.join()
            receiver.close()


@contextlib.contextmanager
def forked_shares(parts: int, work: Callable[[Share], int]) -> Iterator[Shares]:
    shares = Shares(parts, work)
    try:
        yield shares
    finally:
        shares.stop()


def _run(work: Callable[[Share], int], share: Share, sender: Connection) -> None:
    try:
        outcome: int | BaseException = work(share)
    except Exception as error:  # sent to the parent, which raises it
        outcome = error
    try:
        sender.send(outcome)
    except Exception as unsendable:  # an error that does not pickle: send its text
        sender.send(ShareFailed(f"share {share.part}: {outcome!r} ({unsendable})"))
    sender.close()


def _receive(receiver: Connection) -> int | BaseException:
    try:
        outcome: int | BaseException = receiver.recv()
    except EOFError:
        return ShareFailed("a forked share ended without a result")
    return outcome
