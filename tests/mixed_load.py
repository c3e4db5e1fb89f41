"""Mixed load for resilience tests: virtual users walking the journey, readers polling.

A journey: register, order, signed webhook (capture), upload, unlock (which reserves coins). A
client that gets 503 honours Retry-After (up to 1 s) and sends the same request again (the same
Idempotency-Key, the same webhook event id), as a provider would. Every answer is recorded with
the phase it fell in; every acknowledged write is remembered, to be looked for afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.payments import EventKind
from relivchats.domain.webhooks import receipt_id_for
from tests.chat_uploads import small_export
from tests.conftest import TEST_SECRET
from tests.helpers import auth
from tests.payment_flows import delivery

JOURNEYS = 4
READERS = 2


@dataclass(frozen=True)
class Answer:
    phase: str
    method: str
    route: str
    status: int
    seconds: float
    retry_after: str | None
    at: float = field(default_factory=time.monotonic)  # when the answer came


@dataclass
class Load:
    """Every answer the clients got, and the writes the API acknowledged."""

    phase: str = "before"
    answers: list[Answer] = field(default_factory=list)
    acknowledged: list[tuple[str, uuid.UUID]] = field(default_factory=list)
    stopping: bool = False
    started_again: list[float] = field(default_factory=list)  # each restart's start-up

    def by_status(self, *phases: str) -> dict[int, int]:
        return dict(Counter(a.status for a in self.answers if not phases or a.phase in phases))


class Unexpected(Exception):
    """An answer that is neither a success nor a 503: the test fails on it."""


async def call(
    client: httpx.AsyncClient, load: Load, method: str, route: str, url: str, **sent: Any
) -> httpx.Response:
    """Send until answered 2xx; a 503 is honoured (waited on) and the same request sent again."""
    while True:
        started = time.monotonic()
        try:
            response = await client.request(method, url, **sent)
        except httpx.HTTPError as error:
            load.answers.append(Answer(load.phase, method, route, 0, 0.0, None))
            raise Unexpected(f"{method} {route}: {type(error).__name__}") from error
        seconds = time.monotonic() - started
        load.answers.append(
            Answer(
                load.phase,
                method,
                route,
                response.status_code,
                seconds,
                response.headers.get("retry-after"),
            )
        )
        if response.status_code < 300:
            return response
        if response.status_code != 503:
            raise Unexpected(f"{method} {route}: {response.status_code} {response.text[:300]}")
        await asyncio.sleep(min(float(response.headers.get("retry-after", "1")), 1.0))


def new_user() -> dict[str, str]:
    subject = f"r9-{uuid.uuid4().hex}"
    return auth(
        mint_local_token(TEST_SECRET, subject, issuer="relivchats-local", audience="relivchats")
    )


async def journey(client: httpx.AsyncClient, load: Load) -> None:
    """One new user's way through the product; each acknowledged write is remembered."""
    headers = new_user()
    stored = await call(client, load, "POST", "register", "/api/users/store", headers=headers)
    load.acknowledged.append(("user", uuid.UUID(stored.json()["user_id"])))

    order_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"package_id": "popular", "provider": "razorpay"}
    placed = await call(
        client, load, "POST", "order", "/api/payments/orders", json=body, headers=order_headers
    )
    order = placed.json()
    load.acknowledged.append(("order", uuid.UUID(order["order_id"])))

    event_id = f"evt_{uuid.uuid4().hex[:20]}"
    webhook = delivery(order, EventKind.CAPTURED, event_id=event_id)
    url = "/api/payments/webhooks/razorpay"
    await call(client, load, "POST", "webhook", url, content=webhook.body, headers=webhook.headers)
    load.acknowledged.append(("webhook receipt", receipt_id_for("razorpay", event_id)))

    upload_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    files = {"file": ("WhatsApp Chat.txt", small_export(60, participants=("Asha", "Ben")))}
    uploaded = await call(
        client, load, "POST", "upload", "/api/chats/upload", files=files, headers=upload_headers
    )
    chat_id = uploaded.json()["chat"]["chat_id"]
    load.acknowledged.append(("chat", uuid.UUID(chat_id)))

    unlock_headers = {**headers, "Idempotency-Key": uuid.uuid4().hex}
    body = {"chat_id": chat_id, "category_id": "romantic"}
    opened = await call(
        client, load, "POST", "unlock", "/api/insights/unlock", json=body, headers=unlock_headers
    )
    load.acknowledged.append(("insight job", uuid.UUID(opened.json()["job_id"])))


async def keep_walking(client: httpx.AsyncClient, load: Load) -> None:
    while not load.stopping:
        await journey(client, load)


async def keep_reading(client: httpx.AsyncClient, load: Load) -> None:
    headers = new_user()
    stored = await call(client, load, "POST", "register", "/api/users/store", headers=headers)
    # Read-your-writes once, so the reader's rows exist before the restarts begin.
    position = stored.json()["position"]
    url = f"/api/credits/balance?min_position={position}"
    await call(client, load, "GET", "balance", url, headers=headers)
    reads = [("balance", "/api/credits/balance"), ("me", "/api/users/me"), ("chats", "/api/chats")]
    while not load.stopping:
        for route, url in reads:
            await call(client, load, "GET", route, url, headers=headers)
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def running_load(client: httpx.AsyncClient, load: Load) -> AsyncIterator[list[asyncio.Task]]:
    tasks = [asyncio.create_task(keep_walking(client, load)) for _ in range(JOURNEYS)]
    tasks += [asyncio.create_task(keep_reading(client, load)) for _ in range(READERS)]
    try:
        yield tasks
    finally:
        load.stopping = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        problems = [r for r in results if isinstance(r, BaseException)]
        assert not problems, problems


async def under_load(clients: list[asyncio.Task], seconds: float) -> None:
    """Let the load run; a client that met an unexpected answer fails the test at once."""
    done, _ = await asyncio.wait(clients, timeout=seconds, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        task.result()


def report(load: Load, deadline_s: float) -> str:
    phases = list(dict.fromkeys(a.phase for a in load.answers))
    lines = ["R9 request counts by status:"]
    lines += [f"  {phase}: {load.by_status(phase)}" for phase in phases]
    restarts = [p for p in phases if p.startswith("restart")]
    lines.append(f"  during the restarts (down + recovering): {load.by_status(*restarts)}")
    lines.append(f"  all: {load.by_status()}; acknowledged writes: {len(load.acknowledged)}")
    slowest = max((a.seconds for a in load.answers if a.status == 503), default=0.0)
    lines.append(f"  slowest 503: {slowest:.2f} s (deadline {deadline_s:g} s)")
    for n, started in enumerate(load.started_again, 1):
        writes = [a.at for a in load.answers if a.method == "POST" and a.status < 300]
        reads = [a.at for a in load.answers if a.method == "GET" and a.status < 300]
        lines.append(
            f"  restart {n}: first read served {first_after(reads, started)},"
            f" first write acknowledged {first_after(writes, started)} after the cluster was up"
        )
    return "\n".join(lines)


def first_after(moments: list[float], started: float) -> str:
    later = [moment - started for moment in moments if moment >= started]
    return f"{min(later):.1f} s" if later else "never"
