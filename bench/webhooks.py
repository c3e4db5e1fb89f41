"""P7: webhook handling under a duplicate storm, against a real uvicorn API process.

Rows:
- duplicate storm: every request is the same signed Razorpay capture (wrk, 50 connections);
  exactly one delivery may credit coins, and no answer may be a 5xx;
- distinct captures: every request captures another order (receipt, order and coins each
  recorded for real; the deliveries that arrive together are decided in one batch and saved in
  one append, api/webhooks.py). The buyers' accounts are seeded straight into the store, so the
  API starts with none cached: each capture reads its account once.
Baseline, measured in the same run under the same conditions: a bare FastAPI app that only
verifies the signature of the same body (no database), i.e. the floor of any webhook endpoint.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from fastapi import FastAPI, Request

from bench.common import WrkResult, serving, throwaway_database, wrk
from relivchats.adapters.eventstore import EventStore
from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.sandbox import SandboxProvider
from relivchats.adapters.payments.signing import SignedWebhook, SimulatedPayment, signed_webhook
from relivchats.domain import (
    payments,
    payments_rules,
)
from relivchats.domain.events import Event
from relivchats.domain.packages import package_by_id
from relivchats.settings import DEV_SANDBOX_WEBHOOK_SECRET, Settings
from tests.payment_flows import new_order

WEBHOOK_PATH = "/api/payments/webhooks/razorpay"
STORM_CONNECTIONS = 50
DISTINCT_CONNECTIONS = 16
SECONDS = 10
# More orders than the API can capture in SECONDS (about 1,300/s on a loaded 2-core machine):
# a request sent again after the list wraps is a redelivery, answered from memory.
DISTINCT_ORDERS = 24_000
SAVE_BATCH = 100  # orders per event-store save while seeding

verify_only_app = FastAPI()
_verifier = SandboxProvider(name="razorpay", webhook_secret=DEV_SANDBOX_WEBHOOK_SECRET)


@verify_only_app.post(WEBHOOK_PATH)
async def verify_only(request: Request) -> dict[str, str]:
    event = _verifier.parse_webhook(await request.body(), request.headers)
    return {"outcome": "verified", "event_id": event.event_id}


def _lua_request(webhook: SignedWebhook) -> str:
    headers = ", ".join(f'["{k}"] = "{v}"' for k, v in webhook.headers.items())
    body = webhook.body.decode()
    return f'wrk.format("POST", "{WEBHOOK_PATH}", {{{headers}}}, [==[{body}]==])'


def same_request_script(webhook: SignedWebhook) -> str:
    return f"local req = {_lua_request(webhook)}\nrequest = function() return req end\n"


def distinct_requests_script(webhooks: list[SignedWebhook]) -> str:
    """Two wrk threads walk the list interleaved, so no request is sent twice until it wraps."""
    lines = ["local reqs = {}"]
    lines += [f"reqs[{i + 1}] = {_lua_request(w)}" for i, w in enumerate(webhooks)]
    lines += [
        "local threads = 0",
        "function setup(thread) thread:set('tid', threads); threads = threads + 1 end",
        "function init(args) idx = tid end",
        "function request() local r = reqs[idx % #reqs + 1]; idx = idx + 2; return r end",
    ]
    return "\n".join(lines) + "\n"


def seed_orders(store: EventStore, count: int) -> list[payments.PaymentOrder]:
    """Buyers with accounts and sandbox Razorpay orders, written straight to the store."""
    sandbox = SandboxProvider(name="razorpay", webhook_secret=DEV_SANDBOX_WEBHOOK_SECRET)
    price = payments_rules.order_price(package_by_id("popular"), "razorpay")
    orders = []
    for start in range(0, count, SAVE_BATCH):
        events: list[Event] = []
        for _ in range(start, min(count, start + SAVE_BATCH)):
            order_id = uuid.uuid4()
            placed = sandbox.create_order(order_id, *price, {})
            order_events, order = new_order(order_id, placed.provider_order_id)
            events += order_events
            orders.append(order)
        store.append(*events)
    return orders


def capture_of(order: payments.PaymentOrder) -> SignedWebhook:
    payment = SimulatedPayment(
        order.provider_order_id, order.amount_minor, order.currency, order_ref=str(order.id)
    )
    return signed_webhook(
        "razorpay", EventKind.CAPTURED, payment, secret=DEV_SANDBOX_WEBHOOK_SECRET
    )


def purchases(dsn: str) -> tuple[int, int]:
    """(CoinsPurchased events, accounts credited more than once)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT originator_id, count(*) FROM relivchats_events"
            " WHERE topic = 'credits.CoinsPurchased.v1' GROUP BY originator_id"
        ).fetchall()
    return sum(n for _, n in rows), sum(1 for _, n in rows if n > 1)


def row(what: str, conditions: str, api: WrkResult, base: WrkResult, checks: str) -> dict[str, str]:
    return {
        "what": what,
        "conditions": conditions,
        "figure": f"p50 {api.p50_ms:.1f} ms, p99 {api.p99_ms:.1f} ms,"
        f" {api.requests_per_second:,.0f} req/s; {checks}",
        "baseline": f"verify-only FastAPI: p50 {base.p50_ms:.1f} ms, p99 {base.p99_ms:.1f} ms,"
        f" {base.requests_per_second:,.0f} req/s",
        "ratio": f"{api.requests_per_second / base.requests_per_second:.2f}",
    }


@contextmanager
def lua_script(text: str) -> Iterator[Path]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(text)
        lua.flush()
        yield Path(lua.name)


def run_wrk(url: str, script: str, connections: int, seconds: int) -> WrkResult:
    with lua_script(script) as path:
        return wrk(url, connections=connections, seconds=seconds, script=path)


def main() -> list[dict[str, str]]:
    with throwaway_database() as dsn:
        env = {**os.environ, "DATABASE_URL": dsn, "LOG_LEVEL": "WARNING", "ENVIRONMENT": "test"}
        store = EventStore(Settings(database_url=dsn))
        [stormed, *distinct] = seed_orders(store, 1 + DISTINCT_ORDERS)
        store.close()
        storm = same_request_script(capture_of(stormed))
        many = distinct_requests_script([capture_of(order) for order in distinct])
        with serving("bench.webhooks:verify_only_app", env) as url:
            base_storm = run_wrk(url + WEBHOOK_PATH, storm, STORM_CONNECTIONS, SECONDS)
            base_many = run_wrk(url + WEBHOOK_PATH, many, DISTINCT_CONNECTIONS, SECONDS)
        with serving("relivchats.api.app:create_app", env, factory=True) as url:
            api_storm = run_wrk(url + WEBHOOK_PATH, storm, STORM_CONNECTIONS, SECONDS)
            credited, twice = purchases(dsn)
            storm_checks = (
                f"{api_storm.requests:,} deliveries, {credited} credit, {api_storm.non_2xx} non-2xx"
            )
            api_many = run_wrk(url + WEBHOOK_PATH, many, DISTINCT_CONNECTIONS, SECONDS)
            credited_many, twice_many = purchases(dsn)
        many_checks = (
            f"{credited_many - credited:,} orders credited, {twice + twice_many} credited twice,"
            f" {max(0, api_many.requests - DISTINCT_ORDERS):,} sent twice,"
            f" {api_many.non_2xx} non-2xx"
        )
    common = f"wrk -t2, {SECONDS} s, one uvicorn worker (uvloop, httptools), PostgreSQL on loopback"
    return [
        row(
            "webhook duplicate storm (same Razorpay capture)",
            f"{STORM_CONNECTIONS} connections, {common}",
            api_storm,
            base_storm,
            storm_checks,
        ),
        row(
            "webhook distinct captures (one order each)",
            f"{DISTINCT_CONNECTIONS} connections, {DISTINCT_ORDERS:,} orders, {common}",
            api_many,
            base_many,
            many_checks,
        ),
    ]


if __name__ == "__main__":
    for result in main():
        print(result)
