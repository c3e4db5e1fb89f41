"""Prometheus metrics of the API process. Gauges that describe shared state are set at scrape.

Counters of retries live beside the code that retries, in the same default registry, so
`/metrics` serves them and every process (API, workers) counts its own:
`relivchats_version_conflict_retries_total` (commands/retry.py) and
`relivchats_storage_retries_total{operation}` (adapters/storage.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# The projection and horizon gauges live with the read side (projections/metrics.py); the API
# sets them at scrape, as the projector does on its own port.

REQUEST_LATENCY = Histogram(
    "relivchats_http_request_duration_seconds",
    "Latency of HTTP requests by route template",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DB_POOL = Gauge("relivchats_db_pool", "The API's asyncpg read pool", ["measure"])
EVENTSTORE_POOL = Gauge(
    "relivchats_eventstore_pool",
    "The API's event store threads (one connection each): in use, queued commands",
    ["measure"],
)
EVENT_LOOP_LAG = Histogram(
    "relivchats_event_loop_lag_seconds",
    "How late the event loop woke a probe (LOOP_LAG_PROBE_MS > 0): time it was blocked",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0),
)
UNREADABLE_EXPORTS = Counter(
    "relivchats_unreadable_exports_total",
    "Uploads refused because their lines follow no header layout we read, by the coarse shape"
    " of those lines (digits as 9, words as a; never their text)",
    ["shape"],
)
# Shapes come from uploads, so their number is capped: past it, new ones count as "other".
_MOST_SHAPES = 50
_shapes_seen: set[str] = set()


def count_unreadable_export(signature: str) -> None:
    if signature not in _shapes_seen and len(_shapes_seen) >= _MOST_SHAPES:
        signature = "other"
    _shapes_seen.add(signature)
    UNREADABLE_EXPORTS.labels(shape=signature).inc()
