"""A fake Stripe API for the real `stripe` SDK, plus the scripted HTTP server both fakes share.

The server runs on 127.0.0.1 on a random port in a background thread, records every request,
and can be told to answer the next requests with an error status or to answer them late, so
tests can drive the SDKs through their retry and timeout paths.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl

Reply = tuple[int, bytes]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass(frozen=True)
class Fault:
    status: int | None  # None: answer normally, but only after `delay_s`
    body: bytes
    delay_s: float = 0.0


def json_reply(status: int, document: dict[str, Any]) -> Reply:
    return status, json.dumps(document).encode()


class ScriptedProviderServer:
    """Subclasses answer `route(request)`; tests queue faults that win over the route."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping through a delay
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def fail_next(self, count: int = 1, status: int = 503, body: bytes | None = None) -> None:
        fault = Fault(status=status, body=self.error_body(status) if body is None else body)
        with self._lock:
            self._faults.extend([fault] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def delay_next(self, count: int = 1, seconds: float = 1.0) -> None:
        with self._lock:
            self._faults.extend([Fault(status=None, body=b"", delay_s=seconds)] * count)

    def route(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def error_body(self, status: int) -> bytes:
        raise NotImplementedError

    def answer(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.delay_s:
            self._stopping.wait(fault.delay_s)
        if fault is not None and fault.status is not None:
            return fault.status, fault.body
        return self.route(request)


def _handler_for(server: ScriptedProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = RecordedRequest(
                method=self.command,
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            status, body = server.answer(request)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing left to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


class FakeStripe(ScriptedProviderServer):
    """POST /v1/payment_intents with Bearer auth and Stripe's idempotency-key replay."""

    def __init__(self, *, secret_key: str) -> None:
        super().__init__()
        self.secret_key = secret_key
        self.intents: dict[str, dict[str, Any]] = {}
        self._by_idempotency_key: dict[str, Reply] = {}

    def error_body(self, status: int) -> bytes:
        kind = "rate_limit_error" if status == 429 else "api_error"
        return json.dumps({"error": {"type": kind, "message": "fake failure"}}).encode()

    def route(self, request: RecordedRequest) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.secret_key}":
            return _stripe_error(401, "invalid_request_error", "Invalid API Key provided")
        if request.method == "GET" and request.path.startswith("/v1/payment_intents/"):
            return self._retrieve_intent(request.path.rsplit("/", 1)[-1])
        if (request.method, request.path) != ("POST", "/v1/payment_intents"):
            return _stripe_error(404, "invalid_request_error", "Unrecognized request URL")
        key = request.headers.get("idempotency-key", "")
        with self._lock:
            if key not in self._by_idempotency_key:
                self._by_idempotency_key[key] = self._create_intent(
                    dict(parse_qsl(request.body.decode()))
                )
            return self._by_idempotency_key[key]

    def _retrieve_intent(self, intent_id: str) -> Reply:
        intent = self.intents.get(intent_id)
        if intent is None:
            return _stripe_error(
                404, "invalid_request_error", f"No such payment_intent: {intent_id}"
            )
        return json_reply(200, intent)

    def _create_intent(self, form: dict[str, str]) -> Reply:
        if not form.get("amount", "").isdigit() or "currency" not in form:
            return _stripe_error(400, "invalid_request_error", "Missing required param: amount.")
        intent_id = f"pi_fake{len(self.intents):08d}"
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(form["amount"]),
            "currency": form["currency"],
            "client_secret": f"{intent_id}_secret_fake",
            "status": "requires_payment_method",
            "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            "livemode": False,
        }
        self.intents[intent_id] = intent
        return json_reply(200, intent)


def _stripe_error(status: int, kind: str, message: str) -> Reply:
    return json_reply(status, {"error": {"type": kind, "message": message}})
