"""FastAPI dependencies: who is calling, where reads and writes go, read-your-writes waiting."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.identity import Principal, TokenInvalid, TokenVerifier
from relivchats.adapters.payments import PaymentProvider
from relivchats.api.errors import ApiError
from relivchats.logs import user_id_var
from relivchats.projections.status import slowest_position
from relivchats.settings import Settings

POSITION_POLL_S = 0.01


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _read_pool(request: Request) -> ReadPool:
    pool: ReadPool = request.app.state.read_pool
    return pool


async def _event_store(request: Request) -> AsyncEventStore:
    store: AsyncEventStore = request.app.state.event_store
    return store


async def _payment_providers(request: Request) -> dict[str, PaymentProvider]:
    providers: dict[str, PaymentProvider] = request.app.state.payment_providers
    return providers


# Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, one hop per request.
AppSettings = Annotated[Settings, Depends(_settings)]
PaymentProviders = Annotated[dict[str, PaymentProvider], Depends(_payment_providers)]
ReadDb = Annotated[ReadPool, Depends(_read_pool)]
Store = Annotated[AsyncEventStore, Depends(_event_store)]


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


async def _current_user(request: Request) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated("a bearer token is required")
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.verify(token.strip())
    except TokenInvalid as error:
        raise _unauthenticated(str(error)) from None
    user_id_var.set(str(principal.user_id))
    return principal


async def _auditor(user: Annotated[Principal, Depends(_current_user)]) -> Principal:
    if not user.is_auditor:
        raise ApiError(404, "not found")  # no existence oracle for the audit surface
    return user


CurrentUser = Annotated[Principal, Depends(_current_user)]
Auditor = Annotated[Principal, Depends(_auditor)]


async def wait_for_min_position(
    request: Request,
    response: Response,
    min_position: Annotated[
        int | None, Query(ge=0, description="wait for this log position")
    ] = None,
    x_min_position: Annotated[int | None, Header(ge=0)] = None,
) -> None:
    """Read-your-writes: hold a GET (bounded) until the read models reach the caller's write."""
    wanted = min_position if min_position is not None else x_min_position
    if not wanted:
        return
    settings: Settings = request.app.state.settings
    pool: ReadPool = request.app.state.read_pool
    names: list[str] = request.app.state.projection_names
    deadline = time.monotonic() + settings.min_position_timeout_s
    while True:
        async with pool.connection() as conn:
            reached = await slowest_position(conn, names)
        if reached >= wanted:
            response.headers["X-Read-Position"] = str(reached)
            return
        if time.monotonic() >= deadline:
            response.headers["X-Read-Position"] = str(reached)
            response.headers["X-Consistency"] = "stale"
            return
        await asyncio.sleep(POSITION_POLL_S)
