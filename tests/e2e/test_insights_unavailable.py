"""A production deployment without Gemini never sells the offline writer's estimates: unlock and
retry answer 503 `insights_unavailable` and reserve nothing, unless the operator opted in with
OFFLINE_INSIGHTS_IN_PRODUCTION=true."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from relivchats.adapters.identity import mint_local_token
from relivchats.api.app import create_app
from relivchats.settings import Settings
from tests.conftest import TEST_SECRET
from tests.helpers import auth
from tests.unit.test_production_rules import SAFE_PRODUCTION


@asynccontextmanager
async def production_api(settings: Settings, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    production = {**SAFE_PRODUCTION, "jwt_secret": TEST_SECRET}
    configured = Settings(
        **{
            **settings.model_dump(),
            **production,
            "gemini_api_key": None,
            **overrides,
        }
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://production") as http:
            yield http


def token(settings: Settings, subject: str) -> dict[str, str]:
    issuer = SAFE_PRODUCTION["jwt_issuer"]
    return auth(
        mint_local_token(TEST_SECRET, subject, issuer=issuer, audience=settings.jwt_audience)
    )


async def test_unlock_and_retry_answer_503_and_reserve_nothing(
    settings: Settings, store, subject: str
) -> None:
    async with production_api(settings) as client:
        headers = token(settings, subject)
        assert (await client.post("/api/users/store", headers=headers)).status_code == 201
        head = store.head()

        unlock = await client.post(
            "/api/insights/unlock",
            json={"chat_id": str(uuid.uuid4()), "category_id": "romantic"},
            headers=headers,
        )
        retry = await client.post(f"/api/insights/jobs/{uuid.uuid4()}/retry", headers=headers)

    for response in (unlock, retry):
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "insights_unavailable"
    assert store.head() == head  # nothing appended: no job, no reservation


async def test_the_operator_may_opt_in_to_offline_insights(
    settings: Settings, subject: str
) -> None:
    async with production_api(settings, offline_insights_in_production=True) as client:
        headers = token(settings, subject)
        await client.post("/api/users/store", headers=headers)
        unlock = await client.post(
            "/api/insights/unlock",
            json={"chat_id": str(uuid.uuid4()), "category_id": "romantic"},
            headers=headers,
        )

    assert unlock.status_code == 404  # past the gate: the chat does not exist
