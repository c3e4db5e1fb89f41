"""Prometheus metrics of the Celery side: tasks by name and outcome, their duration and queue
wait, queue depths, LLM tokens and latency, embedding throughput, sweeper and purge counts.

Task metrics come from Celery's signals, so every task is counted without touching its code:
`before_task_publish` stamps the time a task was sent into its headers (and counts it, in the
sending process: the dispatcher in the projector, beat), `task_prerun` measures the wait from
that stamp (or from its ETA, for a retry with a countdown) and `task_postrun` the duration and
the outcome. Queue depth is read from the broker at scrape time (`QueueDepthCollector`).
Labels are task, queue, model and embedder names only: nothing about users or chats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import redis
from celery.signals import before_task_publish, task_postrun, task_prerun
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

SENT_AT_HEADER = "relivchats_sent_at"
OUTCOMES = {
    "SUCCESS": "succeeded",
    "RETRY": "retried",
    "FAILURE": "failed",
    "REJECTED": "rejected",
    "IGNORED": "ignored",
}
_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 45.0, 60.0)

TASKS_SENT = Counter("relivchats_tasks_sent_total", "Tasks sent to the broker", ["task"])
TASKS = Counter(
    "relivchats_tasks_total",
    "Tasks run, by outcome: succeeded, retried, failed, rejected, ignored",
    ["task", "queue", "outcome"],
)
TASK_SECONDS = Histogram(
    "relivchats_task_duration_seconds", "Time a task ran", ["task", "queue"], buckets=_SECONDS
)
QUEUE_WAIT_SECONDS = Histogram(
    "relivchats_task_queue_wait_seconds",
    "Time from a task being sent (or its ETA) to a worker starting it",
    ["task", "queue"],
    buckets=_SECONDS,
)
LLM_TOKENS = Counter(
    "relivchats_llm_tokens_total", "Tokens of generated insights", ["model", "kind"]
)
LLM_SECONDS = Histogram(
    "relivchats_llm_latency_seconds",
    "Latency of one insight's LLM call",
    ["model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0),
)
EMBEDDED_CHUNKS = Counter(
    "relivchats_embedded_chunks_total", "Chunks embedded and stored", ["embedder"]
)
EMBEDDING_SECONDS = Counter(
    "relivchats_embedding_seconds_total",
    "Time spent embedding (chunks/s = rate of chunks / rate of this)",
    ["embedder"],
)
SWEEPER_RELEASED = Counter(
    "relivchats_sweeper_released_total", "Expired reservations released by the sweeper"
)
PURGED = Counter(
    "relivchats_purged_total", "Purge results: chats erased, orphans erased, failed", ["kind"]
)

_started: dict[str, float] = {}


def observe_llm(model: str, prompt: int, output: int, thinking: int, latency_ms: float) -> None:
    for kind, tokens in (("prompt", prompt), ("output", output), ("thinking", thinking)):
        LLM_TOKENS.labels(model, kind).inc(tokens or 0)
    LLM_SECONDS.labels(model).observe(latency_ms / 1000)


def observe_embedding(embedder: str, chunks: int, seconds: float) -> None:
    EMBEDDED_CHUNKS.labels(embedder).inc(chunks)
    EMBEDDING_SECONDS.labels(embedder).inc(seconds)


def observe_purge(chats: int, orphans: int, failed: int) -> None:
    for kind, count in (("chats", chats), ("orphans", orphans), ("failed", failed)):
        PURGED.labels(kind).inc(count)


def _stamp_sent(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()
    TASKS_SENT.labels(sender or "unknown").inc()


def _queue(task: Any) -> str:
    info = getattr(task.request, "delivery_info", None) or {}
    return str(info.get("routing_key") or "unknown")


def _waited_s(request: Any) -> float | None:
    sent_at = getattr(request, SENT_AT_HEADER, None)
    if not isinstance(sent_at, (int, float)):
        return None
    due = sent_at
    eta = getattr(request, "eta", None)
    if isinstance(eta, str):
        due = max(due, datetime.fromisoformat(eta).timestamp())
    return max(0.0, time.time() - due)


def _on_start(task_id: str, task: Any, **_: Any) -> None:
    _started[task_id] = time.perf_counter()
    waited = _waited_s(task.request)
    if waited is not None:
        QUEUE_WAIT_SECONDS.labels(task.name, _queue(task)).observe(waited)


def _on_end(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    queue = _queue(task)
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_SECONDS.labels(task.name, queue).observe(time.perf_counter() - started)
    TASKS.labels(task.name, queue, OUTCOMES.get(state or "", "other")).inc()


def count_tasks() -> None:
    """Connect the task signals (every process that sends or runs tasks imports the app)."""
    before_task_publish.connect(_stamp_sent, weak=False)
    task_prerun.connect(_on_start, weak=False)
    task_postrun.connect(_on_end, weak=False)


class QueueDepthCollector:
    """Tasks waiting in each queue, and tasks taken but not acknowledged, read at scrape."""

    def __init__(self, redis_url: str, key_prefix: str, queues: tuple[str, ...]):
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = key_prefix
        self._queues = queues

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        depth, unacked = self._families()
        try:
            for queue in self._queues:
                depth.add_metric([queue], self._redis.llen(f"{self._prefix}{queue}"))
            unacked.add_metric([], self._redis.hlen(f"{self._prefix}unacked"))
        except redis.RedisError as error:
            log.warning("queue depth not read", extra={"error": repr(error)})
            return
        yield depth
        yield unacked

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "relivchats_queue_depth", "Tasks waiting in a broker queue", labels=["queue"]
            ),
            GaugeMetricFamily(
                "relivchats_queue_unacked",
                "Tasks delivered to a worker and not acknowledged yet (running, or lost with it)",
            ),
        )
