"""`relivchats demo` (`make demo`): the main journey against a running `make run`, over HTTP.

Signs a new user in (a local token), registers them (welcome bonus), uploads the bundled sample
chat, buys the Popular package through the sandbox provider and a correctly signed webhook,
unlocks the romantic category, follows the job to its end, prints the insights' titles, asks
the chat two questions (the second a follow-up) and prints the answers with their sources, the
balance and the ledger, and has the auditor replay the ledger from its events. It talks to the
API only, like a client would; any failure prints why and exits 1.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from importlib import resources
from typing import Any

import httpx

from relivchats.adapters.identity import mint_local_token
from relivchats.adapters.payments import EventKind
from relivchats.adapters.payments.signing import SimulatedPayment, signed_webhook
from relivchats.cli.tokens import role_claims
from relivchats.settings import Settings, get_settings

SAMPLE_CHAT = "asha_and_rahul.txt"
PACKAGE = "popular"
CATEGORY = "romantic"
OVER = ("captured", "released", "expired")
QUESTIONS = ("When did we plan the Goa trip?", "And who said sorry after that?")


class DemoFailed(Exception):
    pass


def register(subcommands: Any) -> None:
    demo = subcommands.add_parser("demo", help="drive the whole journey against a running API")
    demo.add_argument("--api", default=None, help="API base URL (default: API_HOST:API_PORT)")
    demo.add_argument("--timeout", type=float, default=300, help="seconds to wait for the job")
    demo.set_defaults(handler=run_demo)


def run_demo(arguments: argparse.Namespace) -> int:
    settings = get_settings()
    if settings.environment == "production":
        print("the demo signs in with local HS256 tokens: refused in production", file=sys.stderr)
        return 1
    api = arguments.api or f"http://{settings.api_host}:{settings.api_port}"
    try:
        with httpx.Client(base_url=api, timeout=30) as http:
            Journey(http, settings, arguments.timeout).run()
    except (DemoFailed, httpx.HTTPError) as failure:
        print(f"\ndemo failed: {failure}", file=sys.stderr)
        return 1
    return 0


class Journey:
    def __init__(self, http: httpx.Client, settings: Settings, timeout_s: float):
        self.http, self.settings, self.timeout_s = http, settings, timeout_s
        self.subject = f"demo-{uuid.uuid4().hex[:8]}"
        self.headers = {"Authorization": f"Bearer {self._token()}"}

    def run(self) -> None:
        self._wait_ready()
        user_id = self._call("POST", "/api/users/store")["user_id"]
        say(f"signed in as {self.subject} (user {user_id}); welcome bonus credited")
        chat = self._upload()
        self._buy_coins()
        job = self._call(
            "POST", "/api/insights/unlock", json={"chat_id": chat, "category_id": CATEGORY}
        )
        say(f"unlocked {CATEGORY}: job {job['job_id']}, {job['reservation']['amount']} coins held")
        final = self._follow(f"{job['poll_url']}?min_position={job['position']}")
        self._print_insights(chat)
        for question in QUESTIONS:
            self._ask(chat, question)
        self._print_ledger()
        self._audit(user_id)
        if final["status"] != "captured":
            raise DemoFailed(f"the job ended {final['status']}, not captured")

    def _token(self, roles: list[str] | None = None) -> str:
        if self.settings.jwt_secret is None:
            raise DemoFailed("JWT_SECRET is not set: the demo signs in with a local token")
        return mint_local_token(
            self.settings.jwt_secret.get_secret_value(),
            self.subject if roles is None else f"{self.subject}-auditor",
            issuer=self.settings.jwt_issuer,
            audience=self.settings.jwt_audience,
            extra_claims=role_claims(self.settings, roles or []),
        )

    def _call(self, method: str, path: str, **options: Any) -> Any:
        headers = {**self.headers, **options.pop("headers", {})}
        response = self.http.request(method, path, headers=headers, **options)
        if response.status_code >= 400:
            raise DemoFailed(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.http.get("/health/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise DemoFailed(f"{self.http.base_url} is not ready: is `make run` running?")
            time.sleep(1)

    def _upload(self) -> str:
        sample = resources.files("relivchats.samples").joinpath(SAMPLE_CHAT).read_bytes()
        files = {"file": (SAMPLE_CHAT, sample, "text/plain")}
        written = self._call("POST", "/api/chats/upload", files=files)
        chat = written["chat"]
        say(f"uploaded {chat['title']!r}: {chat['message_count']} messages")
        return str(chat["chat_id"])

    def _buy_coins(self) -> None:
        order = self._call(
            "POST",
            "/api/payments/orders",
            json={"package_id": PACKAGE, "provider": "razorpay"},
            headers={"Idempotency-Key": f"demo-{uuid.uuid4()}"},
        )
        payment = SimulatedPayment(
            order["provider_order_id"], order["amount_minor"], order["currency"], order["order_id"]
        )
        secret = self.settings.sandbox_webhook_secret.get_secret_value()
        webhook = signed_webhook(order["provider"], EventKind.CAPTURED, payment, secret=secret)
        ack = self.http.post(
            f"/api/payments/webhooks/{order['provider']}",
            content=webhook.body,
            headers=webhook.headers,
        )
        if ack.status_code != 200 or ack.json()["outcome"] != "applied":
            raise DemoFailed(f"the signed webhook was not applied: {ack.text}")
        balance = self._call("GET", f"/api/credits/balance?min_position={ack.json()['position']}")
        say(
            f"bought {order['coins']} coins ({order['amount_minor'] / 100:.2f} "
            f"{order['currency']}, sandbox); balance {balance['balance']}"
        )

    def _follow(self, poll_url: str) -> dict[str, Any]:
        started, last = time.monotonic(), None
        while True:
            status = self._call("GET", poll_url)
            progress = (
                status["status"],
                status["progress"]["succeeded"],
                status["progress"]["failed"],
            )
            if progress != last:
                say(
                    f"  {status['status']}: {status['progress']['percent']}% "
                    f"({status['progress']['succeeded']} written, {status['progress']['failed']} "
                    f"failed), eta {status['eta_seconds']} s"
                )
                last = progress
            if status["status"] in OVER:
                say(f"job {status['status']} after {time.monotonic() - started:.1f} s")
                return dict(status)
            if time.monotonic() - started > self.timeout_s:
                raise DemoFailed(f"the job is still {status['status']} after {self.timeout_s} s")
            time.sleep(0.5)

    def _print_insights(self, chat: str) -> None:
        found = self._call("GET", f"/api/insights/chats/{chat}")["insights"]
        say(f"{len(found)} insights:")
        for insight in found:
            overall = insight["content"]["overall"]
            source = (
                "offline" if insight["generation"]["offline"] else insight["generation"]["model"]
            )
            say(
                f"  {insight['icon']} {insight['title']}: {overall['score']}/10, "
                f"{overall['status']} ({source})"
            )

    def _ask(self, chat: str, question: str) -> None:
        """Ask as a client does: a 202 (the chat is being indexed) means ask again later."""
        deadline = time.monotonic() + self.timeout_s
        body = {"chat_id": chat, "question": question, "max_chunks": 3}
        while True:
            response = self.http.post("/api/rag/query", json=body, headers=self.headers)
            if response.status_code == 200:
                break
            if response.status_code not in (202, 503) or time.monotonic() > deadline:
                raise DemoFailed(
                    f"POST /api/rag/query answered {response.status_code}: {response.text}"
                )
            time.sleep(float(response.headers.get("Retry-After", "2")))
        answer = response.json()
        say(f"Q: {question}")
        say(f"A ({answer['confidence']} confidence, {answer['response_time_ms']} ms):")
        for line in answer["answer"].splitlines():
            say(f"   {line}")
        for source in answer["sources"]:
            say(
                f"   source: chunk {source['chunk_index']}, {', '.join(source['speakers'])}, "
                f"{source['start'][:16]} to {source['end'][:16]}, "
                f"{source['message_count']} messages, similarity {source['similarity']:.2f}"
            )

    def _print_ledger(self) -> None:
        balance = self._call("GET", "/api/credits/balance")
        say(
            f"balance {balance['balance']}, held {balance['held']}, "
            f"available {balance['available']}"
        )
        for entry in reversed(self._call("GET", "/api/credits/transactions")["items"]):
            say(
                f"  {entry['sequence']:>2} {entry['type']:<14} {entry['amount']:>+6} "
                f"-> {entry['balance_after']:>5}  {entry['description']}"
            )

    def _audit(self, user_id: str) -> None:
        auditor = {"Authorization": f"Bearer {self._token(roles=['auditor'])}"}
        report = self._call("GET", f"/api/audit/users/{user_id}/verify", headers=auditor)
        if not report["ok"]:
            raise DemoFailed(
                f"the audit replay differs from the read model: {report['differences']}"
            )
        say(
            f"audit replay: {report['events']} events replayed, read model identical "
            f"(balance {report['balance']}, held {report['held']})"
        )


def say(line: str) -> None:
    print(line, flush=True)
