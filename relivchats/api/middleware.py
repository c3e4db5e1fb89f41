"""Request context as plain ASGI middleware: request id, deadline, access log, latency,
last-resort 500.

The deadline (`REQUEST_DEADLINE_S`; uploads `UPLOAD_DEADLINE_S`) bounds every request, whatever
it waits for (a lock, a pool, a thread, a restarting database): past it the handler is cancelled
and the caller gets 503 with Retry-After, unless the response has already started. Work handed
to a thread (an append) may still finish after that answer, which is why every write is safe
to repeat: a 503 acknowledges nothing.

Plain ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from functools import lru_cache
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relivchats.api.caching import default_no_store
from relivchats.api.errors import unavailable_response, unexpected_error_response
from relivchats.api.metrics import REQUEST_LATENCY
from relivchats.logs import request_id_var, user_id_var

log = logging.getLogger("relivchats.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = str(value.decode("latin-1"))
            if _VALID_REQUEST_ID.match(candidate):
                return candidate
    return os.urandom(16).hex()  # as random as uuid4().hex, without building a UUID (P1)


@lru_cache(maxsize=4096)  # routes x methods x statuses: a few hundred; a label lookup costs
def _latency(method: str, route: str, status: int) -> Any:
    return REQUEST_LATENCY.labels(method, route, str(status))


def _route_template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, deadline_s: float, longer_deadlines: dict[str, float] | None = None
    ):
        self.app = app
        self.deadline_s = deadline_s
        self.longer_deadlines = longer_deadlines or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        request_token = request_id_var.set(request_id)
        user_token = user_id_var.set(None)
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                default_no_store(headers)
                message = {**message, "headers": headers}
            await send(message)

        deadline = self.longer_deadlines.get(scope["path"], self.deadline_s)
        try:
            await self._within(deadline, scope, receive, send_with_id, status)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not status["sent"]:
                await unexpected_error_response()(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)

    async def _within(
        self, deadline_s: float, scope: Scope, receive: Receive, send: Send, status: dict[str, Any]
    ) -> None:
        timeout = asyncio.timeout(deadline_s)
        try:
            async with timeout:
                await self.app(scope, receive, send)
        except TimeoutError:
            if not timeout.expired():
                raise  # the application's own timeout: a bug, not the deadline
            log.warning("request deadline passed", extra={"deadline_s": deadline_s})
            if status["sent"]:
                return  # a response already started cannot be replaced; it ends here
            answer = unavailable_response(
                "deadline_exceeded", f"the request could not finish within {deadline_s:g} s"
            )
            await answer(scope, receive, send)

    @staticmethod
    def _observe(scope: Scope, status: dict[str, Any], seconds: float) -> None:
        route = _route_template(scope)
        _latency(scope["method"], route, status["code"]).observe(seconds)
        if not log.isEnabledFor(logging.INFO):
            return
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "status": status["code"],
                "duration_ms": round(seconds * 1000, 2),
            },
        )
