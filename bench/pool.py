"""P9: the pools under 100 requests/s of mixed traffic for 60 s against `relivchats run`.

The whole platform runs as `make run` starts it (api, projector, worker, indexer, beat as separate
processes) on a private database and broker namespace. Seeded users (registered, coins bought
through signed webhooks, one chat each) then send an open-loop schedule: requests start at
their planned times whether or not earlier ones finished, so a slow server meets the same load
(a closed loop would slow down with it and hide the queueing). The mix: reads (balance,
transactions, chats, the catalogue), registrations, reservations (unlocks, which then index
and generate in the workers), payment orders with their signed capture webhook, redelivered
webhooks, and uploads. `/health/db-pool` is sampled every 250 ms: the API's read pool
utilisation (quality.md P9: p99 <= 30 %) and the event store's threads (in use, queued).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.common import Row, free_port, throwaway_database, wait_for_http
from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SignedWebhook, SimulatedPayment, signed_webhook
from relivchats.settings import Settings
from tests.chat_uploads import export_of
from tests.fakes.chat_exports import generate_chat

RATE = 100  # requests per second
SECONDS = 60
USERS = 30
SAMPLE_EVERY_S = 0.25
CATEGORIES = ("romantic", "friendship", "family", "workplace")
P9_BAR_PERCENT = 30.0
# (operation, weight, requests it sends)
MIX: tuple[tuple[str, float, int], ...] = (
    ("balance", 30, 1),
    ("transactions", 12, 1),
    ("chats", 12, 1),
    ("categories", 8, 1),
    ("register", 8, 1),
    ("order_and_capture", 10, 2),
    ("redelivered_webhook", 10, 1),
    ("unlock", 1, 1),  # each starts indexing and six generations in the workers
    # One API process parses one upload at a time (UPLOAD_WORKERS): about one a second here.
    # More would queue without end in an open loop; real uploads are rarer than this anyway.
    ("upload", 0.5, 1),
)
NOT_LIMITED = "100000/hour"


def chat_bytes(seed: int) -> bytes:
    return export_of(generate_chat(60, seed=seed, participants=("Asha", "Ben")))


@dataclass
class User:
    headers: dict[str, str]
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    chat_id: str | None = None


@dataclass
class Traffic:
    api: str
    settings: Settings
    client: httpx.AsyncClient
    users: list[User] = field(default_factory=list)
    deliveries: list[tuple[str, SignedWebhook]] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rng: random.Random = field(default_factory=lambda: random.Random(9))
    server: tuple[Any, Any] = ({}, {})  # the API's latency histogram before and after the run

    def token(self, subject: str) -> dict[str, str]:
        secret = self.settings.jwt_secret
        assert secret is not None
        issuer, audience = self.settings.jwt_issuer, self.settings.jwt_audience
        token = mint_local_token(
            secret.get_secret_value(), subject, issuer=issuer, audience=audience
        )
        return {"Authorization": f"Bearer {token}"}

    async def timed(self, route: str, send: Awaitable[httpx.Response]) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await send
        except httpx.HTTPError:
            self.failures[route] += 1
            return None
        self.latencies[route].append(time.perf_counter() - started)
        if response.status_code >= 500 or response.status_code in (400, 401, 422):
            self.failures[route] += 1
        return response

    # The operations -------------------------------------------------------------------------

    async def balance(self) -> None:
        user = self.rng.choice(self.users)
        await self.timed(
            "GET balance", self.client.get("/api/credits/balance", headers=user.headers)
        )

    async def transactions(self) -> None:
        user = self.rng.choice(self.users)
        path = "/api/credits/transactions?limit=20"
        await self.timed("GET transactions", self.client.get(path, headers=user.headers))

    async def chats(self) -> None:
        user = self.rng.choice(self.users)
        await self.timed("GET chats", self.client.get("/api/chats", headers=user.headers))

    async def categories(self) -> None:
        await self.timed("GET categories", self.client.get("/api/categories"))

    async def register(self) -> None:
        headers = self.token(f"pool-{uuid.uuid4().hex}")
        await self.timed("POST users/store", self.client.post("/api/users/store", headers=headers))

    async def order_and_capture(self, user: User | None = None) -> None:
        user = user or self.rng.choice(self.users)
        headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
        body = {"package_id": "popular", "provider": "razorpay"}
        order = await self.timed(
            "POST orders", self.client.post("/api/payments/orders", json=body, headers=headers)
        )
        if order is None or order.status_code != 201:
            return
        placed = order.json()
        payment = SimulatedPayment(
            provider_order_id=placed["provider_order_id"],
            amount_minor=placed["amount_minor"],
            currency=placed["currency"],
            order_ref=placed["order_id"],
        )
        secret = self.settings.sandbox_webhook_secret.get_secret_value()
        webhook = signed_webhook("razorpay", EventKind.CAPTURED, payment, secret=secret)
        self.deliveries.append(("razorpay", webhook))
        await self.deliver(webhook)

    async def deliver(self, webhook: SignedWebhook) -> None:
        path = "/api/payments/webhooks/razorpay"
        send = self.client.post(path, content=webhook.body, headers=webhook.headers)
        await self.timed("POST webhook", send)

    async def redelivered_webhook(self) -> None:
        if self.deliveries:
            await self.deliver(self.rng.choice(self.deliveries)[1])

    async def unlock(self) -> None:
        ready = [user for user in self.users if user.chat_id and user.categories]
        if not ready:
            return
        user = self.rng.choice(ready)
        body = {"chat_id": user.chat_id, "category_id": user.categories.pop()}
        send = self.client.post("/api/insights/unlock", json=body, headers=user.headers)
        await self.timed("POST unlock", send)

    async def upload(self, user: User | None = None) -> None:
        chosen = user or self.rng.choice(self.users)
        files = {"file": ("WhatsApp Chat.txt", chat_bytes(self.rng.randrange(10**6)), "text/plain")}
        send = self.client.post("/api/chats/upload", files=files, headers=chosen.headers)
        response = await self.timed("POST upload", send)
        if user is not None and response is not None and response.status_code == 201:
            user.chat_id = response.json()["chat"]["chat_id"]


async def seed(traffic: Traffic) -> None:
    """Users with coins for four unlocks (50 + 2 x 850) and one chat each."""
    for index in range(USERS):
        user = User(traffic.token(f"pool-seed-{index}"))
        await traffic.client.post("/api/users/store", headers=user.headers)
        traffic.users.append(user)
        for _ in range(2):
            await traffic.order_and_capture(user)
        await traffic.upload(user)
    traffic.latencies.clear()
    traffic.failures.clear()


def sample_pools(api: str, samples: list[dict[str, float]], stop: threading.Event) -> None:
    """In a thread of its own, on its own connection: the load generator's event loop being
    busy must not thin out the samples."""
    with httpx.Client(base_url=api, timeout=10) as client:
        while not stop.wait(SAMPLE_EVERY_S):
            with contextlib.suppress(httpx.HTTPError):
                samples.append(client.get("/health/db-pool").json())


def server_latencies(api: str) -> dict[tuple[str, str], dict[float, float]]:
    """The API's own latency histogram: cumulative counts per (method route, status) and le."""
    text = httpx.get(f"{api}/metrics", timeout=10).text
    found: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name != "relivchats_http_request_duration_seconds_bucket":
                continue
            key = (f"{sample.labels['method']} {sample.labels['route']}", sample.labels["status"])
            found[key][float(sample.labels["le"])] = sample.value
    return found


def server_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound of the bucket holding quantile q of the requests between two scrapes."""
    counts = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    total = counts[-1][1] if counts else 0.0
    for le, cumulative in counts:
        if total and cumulative >= q * total:
            return le
    return float("inf")


async def drive(traffic: Traffic) -> tuple[float, list[dict[str, float]]]:
    operations: dict[str, Callable[[], Awaitable[None]]] = {
        name: getattr(traffic, name) for name, _, _ in MIX
    }
    names = [name for name, _, _ in MIX]
    weights = [weight for _, weight, _ in MIX]
    per_operation = sum(w * n for _, w, n in MIX) / sum(weights)
    operation_rate = RATE / per_operation
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample_pools, args=(traffic.api, samples, stop))
    sampler.start()
    started = time.perf_counter()
    running = set()
    for index in range(int(operation_rate * SECONDS)):
        delay = started + index / operation_rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        name = traffic.rng.choices(names, weights)[0]
        task = asyncio.create_task(operations[name]())
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return elapsed, samples


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextlib.contextmanager
def platform(dsn: str) -> Iterator[tuple[str, Settings]]:
    """`relivchats run` on its own ports, database and broker namespace."""
    folder = tempfile.mkdtemp(prefix="relivchats-pool-")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "CELERY_KEY_PREFIX": f"bench-pool-{uuid.uuid4().hex}:",
        "DATA_DIR": folder,
        "API_PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_UPLOAD": NOT_LIMITED,
        "RATE_LIMIT_UNLOCK": NOT_LIMITED,
        "RATE_LIMIT_ORDER": NOT_LIMITED,
        **{name: str(free_port()) for name in Settings().metrics_ports},
    }
    log = open(os.path.join(folder, "platform.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "relivchats", "run"], env=env, stdout=log, stderr=log
    )
    try:
        api = f"http://127.0.0.1:{port}"
        wait_for_http(f"{api}/health/ready", within=240)
        yield api, Settings(database_url=dsn)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def measure(api: str, settings: Settings) -> tuple[float, list[dict[str, float]], Traffic]:
    # No connection limit: an open loop must not wait for its own client's pool.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=api, timeout=60, limits=limits) as client:
        traffic = Traffic(api, settings, client)
        await seed(traffic)
        before = await asyncio.to_thread(server_latencies, api)
        elapsed, samples = await drive(traffic)
        traffic.server = (before, await asyncio.to_thread(server_latencies, api))
    return elapsed, samples, traffic


def rows(elapsed: float, samples: list[dict[str, float]], traffic: Traffic, load: str) -> list[Row]:
    sent = sum(len(v) for v in traffic.latencies.values()) + sum(traffic.failures.values())
    conditions = (
        f"`relivchats run` (5 processes), open loop {RATE} req/s planned for {SECONDS} s"
        f" ({sent / elapsed:.0f} req/s sent), {USERS} seeded users, mixed traffic;"
        f" {len(samples)} /health/db-pool samples; load average {load}"
    )
    read_pool = [s["utilisation_percent"] for s in samples]
    threads = [s["eventstore_in_use"] for s in samples]
    queued = [s["eventstore_queued"] for s in samples]
    max_size = samples[0]["max_size"] if samples else 0
    p50, p99 = quantile(read_pool, 0.5), quantile(read_pool, 0.99)
    peak, waited = max(read_pool, default=0), max((s["waiting"] for s in samples), default=0)
    result: list[Row] = [
        {
            "what": "API read pool utilisation (P9)",
            "conditions": conditions,
            "figure": f"p50 {p50:.0f} %, p99 {p99:.0f} %, max {peak:.0f} %; waited {waited:.0f}",
            "baseline": f"bar: p99 <= {P9_BAR_PERCENT:.0f} % of {max_size:.0f} connections",
            "ratio": f"{p99 / P9_BAR_PERCENT:.2f} x the bar",
        },
        {
            "what": "API event store threads (one connection each)",
            "conditions": conditions,
            "figure": f"in use p50 {quantile(threads, 0.5):.0f}, p99 {quantile(threads, 0.99):.0f};"
            f" queued p99 {quantile(queued, 0.99):.0f}, max {max(queued, default=0):.0f}",
            "baseline": f"{samples[0]['eventstore_threads']:.0f} threads" if samples else "",
            "ratio": "",
        },
    ]
    before, after = traffic.server
    for (route, status), buckets in sorted(after.items()):
        earlier = before.get((route, status), {})
        count = buckets.get(float("inf"), 0.0) - earlier.get(float("inf"), 0.0)
        if count < 1 or route.endswith("/health/db-pool"):
            continue
        p50 = server_quantile(earlier, buckets, 0.5) * 1000
        p99 = server_quantile(earlier, buckets, 0.99) * 1000
        result.append(
            {
                "what": f"{route} -> {status}, as the API measured it",
                "conditions": "same run; upper bounds of histogram buckets",
                "figure": f"p50 <= {p50:g} ms, p99 <= {p99:g} ms, n {count:.0f}",
                "baseline": "",
                "ratio": "",
            }
        )
    for route, seconds in sorted(traffic.latencies.items()):
        ms = [s * 1000 for s in seconds]
        result.append(
            {
                "what": f"{route}, as the client saw it",
                "conditions": "same run",
                "figure": f"p50 {statistics.median(ms):.1f} ms, p99 {quantile(ms, 0.99):.1f} ms,"
                f" n {len(ms)}, failed {traffic.failures.get(route, 0)}",
                "baseline": "",
                "ratio": "",
            }
        )
    return result


def main() -> list[Row]:
    with throwaway_database() as dsn, platform(dsn) as (api, settings):
        elapsed, samples, traffic = asyncio.run(measure(api, settings))
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return rows(elapsed, samples, traffic, load)


if __name__ == "__main__":
    for row in main():
        print(row)
