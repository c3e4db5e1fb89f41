"""Turning uploaded bytes into stored chat content, in a separate process per upload.

Parsing, statistics and sealing 100k messages are
CPU-bound: in the API process they would stall the event loop for seconds. Each upload therefore
runs in its own process, forked from a forkserver that imported pandas and our modules
once (so a fresh process starts in milliseconds, not the 1.5-2.5 s of those imports). The
process parses, computes the statistics, seals everything and COPYs it into the content tables
in one transaction, then exits: its memory goes back to the system whatever the chat's size,
and an address-space cap (`UPLOAD_WORKER_MEMORY_MB`) turns a chat too big to hold into a clean
refusal instead of a host under memory pressure. Only the upload's bytes go in and a small
summary comes back, so no message text crosses back into the API process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from relivchats.adapters.chat_content import erase_content, store_content
from relivchats.adapters.crypto import ContentCipher, master_key_from
from relivchats.adapters.whatsapp import parse_upload, warm_up
from relivchats.domain.chats_rules import UploadSummary
from relivchats.domain.errors import Busy, DomainError
from relivchats.domain.statistics import compute_statistics
from relivchats.domain.uploads import ChatTooLargeToProcess, UploadRejected
from relivchats.settings import Settings

log = logging.getLogger(__name__)

# What the forkserver imports once, so every upload process starts warm.
PRELOADED_MODULES = ["relivchats.adapters.ingest", "relivchats.adapters.whatsapp"]
# Parsing is batch work: when CPUs are short, the API's event loop gets them first.
UPLOAD_PROCESS_NICENESS = 10
# Share of the address-space cap above which a failure is taken for an allocation it refused.
MEMORY_CAP_REACHED = 0.75


class IngestInterrupted(Busy):
    """The parsing process died (killed, out of memory) before it answered; nothing was named."""

    code = "upload_interrupted"


@dataclass(frozen=True)
class IngestConfig:
    """What an upload process needs; sent once to each process, never logged."""

    database_url: str
    content_key: bytes
    memory_limit_mb: int


@dataclass(frozen=True)
class Ingested:
    summary: UploadSummary
    parse_s: float
    statistics_s: float
    store_s: float
    process_peak_rss_mb: float


@dataclass(frozen=True)
class _Refusal:
    """An `UploadRejected` as plain data: its subclasses' constructors do not survive pickling."""

    error_class: type[UploadRejected]
    message: str
    details: dict[str, Any]

    def rebuilt(self) -> UploadRejected:
        error = self.error_class.__new__(self.error_class)
        DomainError.__init__(error, self.message, **self.details)
        return error


@dataclass(frozen=True)
class _Failure:
    """An unexpected error as its type and place only: its message could quote the chat, and
    the API logs what it raises."""

    error_type: str
    where: str
    database_unavailable: bool

    def rebuilt(self) -> IngestFailed | IngestInterrupted:
        if self.database_unavailable:
            return IngestInterrupted("the chat could not be stored just now; please try again")
        return IngestFailed(f"upload processing failed: {self.error_type} at {self.where}")


class IngestFailed(RuntimeError):
    """A bug met while processing an upload (a 500); the details stay out of the message."""


class _Process:
    config: IngestConfig
    cipher: ContentCipher


def _start_process(config: IngestConfig) -> None:
    limit = config.memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(UPLOAD_PROCESS_NICENESS)
    warm_up()  # already imported by the forkserver: instant
    _Process.config = config
    _Process.cipher = ContentCipher(config.content_key)


def _ready() -> bool:
    return True


def _ingest(upload: bytes, chat_id: UUID, content_id: UUID) -> Ingested | _Refusal | _Failure:
    """Runs in the upload process: parse, summarise, seal and store; or say why not."""
    try:
        return _parse_summarise_store(upload, chat_id, content_id)
    except UploadRejected as error:
        return _Refusal(type(error), error.message, error.details)
    except Exception as error:
        # An allocation refused by the cap surfaces as MemoryError, or from C code as another
        # error (SystemError, ValueError): what tells them apart is how close we came to it.
        if not isinstance(error, MemoryError) and not _reached_memory_cap():
            frame = traceback.extract_tb(error.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
            unavailable = isinstance(error, psycopg.OperationalError)
            return _Failure(type(error).__name__, where, unavailable)
        refusal = ChatTooLargeToProcess(_Process.config.memory_limit_mb)
        return _Refusal(type(refusal), refusal.message, refusal.details)


def _reached_memory_cap() -> bool:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    peak_kb = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmPeak:")), 0
    )
    return peak_kb * 1024 >= MEMORY_CAP_REACHED * _Process.config.memory_limit_mb * 1024 * 1024


def _parse_summarise_store(upload: bytes, chat_id: UUID, content_id: UUID) -> Ingested:
    started = time.perf_counter()
    chat = parse_upload(upload)
    parsed = time.perf_counter()
    statistics = compute_statistics(chat)
    summarised = time.perf_counter()
    with psycopg.connect(_Process.config.database_url, connect_timeout=5) as conn:
        store_content(conn, _Process.cipher, chat_id, content_id, chat, statistics)
    stored = time.perf_counter()
    times = chat.timestamps.astype("datetime64[s]")
    summary = UploadSummary(
        participants=chat.participants,
        message_count=len(chat),
        first_message_at=times[0].item(),
        last_message_at=times[-1].item(),
        content_id=content_id,
    )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Ingested(
        summary, parsed - started, summarised - parsed, stored - summarised, peak_rss_mb
    )


def _erase(database_url: str, content_id: UUID) -> None:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        erase_content(conn, content_id)


class IngestPool:
    """Upload processes for one API process; `ingest` is the only way content gets written."""

    def __init__(self, settings: Settings):
        self._config = IngestConfig(
            database_url=settings.database_url,
            content_key=master_key_from(settings),
            memory_limit_mb=settings.upload_worker_memory_mb,
        )
        self._workers = settings.upload_workers
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOADED_MODULES)
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=context,
            initializer=_start_process,
            initargs=(self._config,),
            max_tasks_per_child=1,  # a fresh process per upload: its memory is returned after
        )

    async def warm(self) -> None:
        """Start the forkserver (imports, about 2 s) and a first process now, not at an upload."""
        try:
            await self._run(_ready)
        except Exception:  # best effort: the first upload would start them anyway
            log.warning("upload processes could not be warmed up", exc_info=True)

    async def ingest(self, upload: bytes, chat_id: UUID, content_id: UUID) -> Ingested:
        """Store the upload's content under `content_id`, or raise why it was refused."""
        outcome = await self._run(_ingest, upload, chat_id, content_id)
        if isinstance(outcome, _Refusal | _Failure):
            raise outcome.rebuilt()
        assert isinstance(outcome, Ingested)
        return outcome

    async def discard(self, content_id: UUID) -> None:
        """Erase content that no event names (in a thread: it is a small DELETE)."""
        await asyncio.to_thread(_erase, self._config.database_url, content_id)

    async def _run(self, function: Any, *args: Any) -> Any:
        # submit() may fork a process or wait for the forkserver: never on the event loop.
        executor = self._executor
        try:
            future = await asyncio.to_thread(executor.submit, function, *args)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.error("an upload process died; starting a new pool")
            if self._executor is executor:
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise IngestInterrupted("the upload could not be processed; please try again") from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._executor.shutdown(wait=True, cancel_futures=True)
