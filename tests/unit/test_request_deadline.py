"""The request deadline: 503 with Retry-After in the envelope, and only for the deadline itself."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from relivchats.api.errors import install_error_handlers
from relivchats.api.middleware import RequestContextMiddleware


def app_with_deadline(deadline_s: float) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"finished": "yes"}

    @app.get("/own-timeout")
    async def own_timeout() -> dict[str, str]:
        await asyncio.wait_for(asyncio.sleep(5), timeout=0.01)
        return {"finished": "yes"}

    @app.get("/upload")
    async def upload() -> dict[str, str]:
        await asyncio.sleep(0.3)
        return {"finished": "yes"}

    app.add_middleware(
        RequestContextMiddleware, deadline_s=deadline_s, longer_deadlines={"/upload": 2.0}
    )
    return app


async def get(app: FastAPI, path: str) -> tuple[httpx.Response, float]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        started = time.monotonic()
        response = await client.get(path)
        return response, time.monotonic() - started


async def test_a_request_past_its_deadline_answers_503_with_retry_after_at_the_deadline():
    response, took = await get(app_with_deadline(0.2), "/slow")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "deadline_exceeded"
    assert response.headers["x-request-id"] == response.json()["error"]["request_id"]
    assert took < 2


async def test_the_applications_own_timeout_is_a_500_not_the_deadline():
    response, _ = await get(app_with_deadline(1.0), "/own-timeout")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


async def test_a_path_with_a_longer_deadline_may_take_longer():
    response, _ = await get(app_with_deadline(0.1), "/upload")
    assert response.status_code == 200
