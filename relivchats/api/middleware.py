"""Request context as plain ASGI middleware: request id, access log, latency, last-resort 500.

Plain ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relivchats.api.errors import unexpected_error_response
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
    return uuid.uuid4().hex


def _route_template(scope: Scope) -> str:
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

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
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not status["sent"]:
                await unexpected_error_response()(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)
            request_id_var.reset(request_token)
            user_id_var.reset(user_token)

    @staticmethod
    def _observe(scope: Scope, status: dict[str, Any], seconds: float) -> None:
        route = _route_template(scope)
        REQUEST_LATENCY.labels(scope["method"], route, str(status["code"])).observe(seconds)
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "status": status["code"],
                "duration_ms": round(seconds * 1000, 2),
            },
        )
