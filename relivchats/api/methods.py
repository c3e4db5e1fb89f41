"""The `Allow` header of a 405: every method the path supports, not only its first route's.

FastAPI registers one route per (path, method), and Starlette's 405 names the methods of the
first route whose path matched; `GET /api/chats/{id}` would hide `DELETE`. This asks the
router, method by method, which ones the path would really serve (only on 405s: rare).
"""

from __future__ import annotations

from fastapi import Request
from starlette.routing import Match

METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str:
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )
