"""FastAPI dependencies: who is calling, where reads and writes go, read-your-writes waiting."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import Depends, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from redis.asyncio import Redis
from redis.exceptions import RedisError

from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore
from relivchats.adapters.identity import Principal, TokenInvalid, TokenVerifier
from relivchats.adapters.ingest import IngestPool
from relivchats.adapters.payments import PaymentProvider
from relivchats.adapters.ratelimit import RateLimiter, Window, parse_rule
from relivchats.api.acting_accounts import ActingAccounts
from relivchats.api.errors import ApiError
from relivchats.api.webhooks import WebhookDesk
from relivchats.commands.rag_answers import RagServices
from relivchats.domain import users
from relivchats.domain.errors import UserDeleted
from relivchats.logs import user_id_var
from relivchats.projections import chat_queries
from relivchats.projections.status import projected
from relivchats.settings import Settings

log = logging.getLogger(__name__)

POSITION_POLL_S = 0.01


def app_state(name: str) -> Any:
    """A dependency on what the app's lifespan set up under `name`: the one way routes reach
    app state. Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, one
    hop per request."""

    async def from_app_state(request: Request) -> Any:
        return getattr(request.app.state, name)

    return Depends(from_app_state)


AppSettings = Annotated[Settings, app_state("settings")]
PaymentProviders = Annotated[dict[str, PaymentProvider], app_state("payment_providers")]
ReadDb = Annotated[ReadPool, app_state("read_pool")]
Store = Annotated[AsyncEventStore, app_state("event_store")]
Cipher = Annotated[ContentCipher, app_state("content_cipher")]
Uploads = Annotated[IngestPool, app_state("ingest_pool")]
Webhooks = Annotated[WebhookDesk, app_state("webhooks")]
Broker = Annotated[Redis, app_state("redis")]
ProjectionNames = Annotated[list[str], app_state("projection_names")]
Rag = Annotated[RagServices, app_state("rag")]
# Streamed answers still running (their clients may be gone): shutdown waits for them.
RunningAnswers = Annotated[set[asyncio.Task[None]], app_state("rag_answers")]
Accounts = Annotated[ActingAccounts, app_state("acting_accounts")]


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


class BearerAuthentication(HTTPBearer):
    """Who is calling: the bearer token verified, then the account it acts for.

    An `HTTPBearer`, so OpenAPI declares the scheme, that does the whole authentication in one
    dependency: FastAPI's bookkeeping costs about 80,000 instructions per dependency and request
    (P1). Refusing a missing token stays ours (the envelope).
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        token = _bearer_token(request.headers.get("authorization"))
        if not token:
            raise _unauthenticated("a bearer token is required")
        verifier: TokenVerifier = request.app.state.token_verifier
        try:
            principal = await verifier.verify(token)
        except TokenInvalid as error:
            raise _unauthenticated(str(error)) from None
        principal = await _acting_account(request.app.state.acting_accounts, principal)
        user_id_var.set(str(principal.user_id))
        return principal


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# Callable with a request as well: what a handler that calls its dependencies itself uses
# (api/direct.py).
current_user = BearerAuthentication(
    scheme_name="HTTPBearer",
    auto_error=False,
    description="a JWT from the identity provider (RS256/JWKS, or HS256 locally)",
)


async def _acting_account(accounts: ActingAccounts, principal: Principal) -> Principal:
    """The account the token acts for; a deleted account's token answers 401 account_deleted.

    The subject's newest account in the users read model, remembered by this process until the
    projection announces a change (api/acting_accounts.py): the deletion is in it, and
    announced, before `DELETE /api/users/delete-account` answers.
    """
    latest = await accounts.latest(principal.subject_key)
    try:
        user_id = users.account_for_token(principal.subject_key, latest, principal.issued_at)
    except UserDeleted as deleted:
        raise ApiError(
            401, str(deleted), code=deleted.code, headers={"WWW-Authenticate": "Bearer"}
        ) from None
    if user_id == principal.user_id:
        return principal
    return dataclasses.replace(principal, user_id=user_id)


async def _auditor(user: Annotated[Principal, Depends(current_user)]) -> Principal:
    if not user.is_auditor:
        raise ApiError(404, "not found")  # no existence oracle for the audit surface
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]
Auditor = Annotated[Principal, Depends(_auditor)]


# Event positions are PostgreSQL bigints: nothing above this was ever given out.
MAX_POSITION = 2**63 - 1


async def wait_for_min_position(request: Request, response: Response) -> None:
    """Read-your-writes: hold a GET (bounded) until the read models reach the caller's write.

    The position comes as `min_position` or `X-Min-Position`; 0 (the default) does not wait;
    given both ways, the later one is waited for. Parsed here rather than declared as FastAPI
    parameters, which cost ~50,000 instructions each on every read (P1); api/contract.py
    declares them in OpenAPI, and a bad value is the same 422 FastAPI would answer.
    """
    wanted = max(
        _position(request.query_params.get("min_position"), "query", "min_position"),
        _position(request.headers.get("x-min-position"), "header", "x-min-position"),
    )
    if not wanted:
        return
    names: list[str] = request.app.state.projection_names
    await wait_until_projected(request, response, names, wanted)


async def read_models(request: Request, response: Response) -> ReadPool:
    """The read pool, once the read models hold the caller's write (`wait_for_min_position`).

    A read route's one dependency for both, instead of `dependencies=[Depends(wait_for_min_
    position)]` beside `ReadDb`: each dependency costs ~65,000 instructions per request (P1).
    Declare it before `CurrentUser` (FastAPI resolves them in order): authentication then sees
    the caller's write too, so a token refused by a deletion at that position stays refused.
    """
    await wait_for_min_position(request, response)
    pool: ReadPool = request.app.state.read_pool
    return pool


ReadModels = Annotated[ReadPool, Depends(read_models)]
# Every dependency that reads the position: api/contract.py declares it on their routes.
WAITS_FOR_POSITION = (wait_for_min_position, read_models)


_DIGITS = re.compile(r"[0-9]{1,19}")


def _position(given: str | None, *location: str) -> int:
    if given is None:
        return 0
    if _DIGITS.fullmatch(given) and int(given) <= MAX_POSITION:
        return int(given)
    problem = f"Input should be a whole number from 0 to {MAX_POSITION}"
    raise RequestValidationError([{"type": "int_parsing", "loc": location, "msg": problem}])


async def wait_until_projected(
    request: Request, response: Response, names: list[str], wanted: int
) -> bool:
    """Wait (bounded) until the named projections reach `wanted`; False, and say so, if not."""
    settings: Settings = request.app.state.settings
    pool: ReadPool = request.app.state.read_pool
    deadline = time.monotonic() + settings.min_position_timeout_s
    while True:
        async with pool.connection() as conn:
            reached, read_position = await projected(conn, names, wanted)
        if reached:
            response.headers["X-Read-Position"] = str(read_position)
            return True
        if time.monotonic() >= deadline:
            response.headers["X-Read-Position"] = str(read_position)
            response.headers["X-Consistency"] = "stale"
            return False
        await asyncio.sleep(POSITION_POLL_S)


async def _owned_chat(chat_id: UUID, user: CurrentUser, db: ReadDb) -> asyncpg.Record:
    """The caller's live chat (its `chats` read row); 404 for missing, deleted or not theirs."""
    row = await chat_queries.owned_chat(db, chat_id, user.user_id)
    if row is None:
        raise ApiError(404, "no such chat", code="chat_not_found")
    return row


OwnedChat = Annotated[asyncpg.Record, Depends(_owned_chat)]


def rate_limited(name: str, rule: Callable[[Settings], str]) -> Callable[..., Awaitable[None]]:
    """A dependency counting the caller's request against a configured rule ("20/hour").

    Over the limit: 429 with Retry-After. If Redis cannot be reached the request is let through
    (and logged): an abuse limit must not take the API down with it.
    """

    async def check(request: Request, user: CurrentUser) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        windows = _windows(rule(request.app.state.settings))
        try:
            verdict = await limiter.hit(name, str(user.user_id), windows)
        except (OSError, RedisError):
            log.warning("rate limit not checked: Redis unavailable", extra={"limit": name})
            return
        if not verdict.allowed:
            raise ApiError(
                429,
                f"too many requests: at most {verdict.limit} every {verdict.window_s} s;"
                f" try again in {verdict.retry_after_s} s",
                details={"limit": verdict.limit, "window_s": verdict.window_s},
                headers={"Retry-After": str(verdict.retry_after_s)},
            )

    return check


@cache
def _windows(rule: str) -> tuple[Window, ...]:
    return parse_rule(rule)


_IDEMPOTENCY_KEY_HEADER = Header(
    alias="Idempotency-Key", min_length=1, max_length=200, description="unique per user"
)
# Optional where a retry without a key is allowed to do the work twice (uploads, unlocks).
IdempotencyKey = Annotated[str | None, _IDEMPOTENCY_KEY_HEADER]
RequiredIdempotencyKey = Annotated[str, _IDEMPOTENCY_KEY_HEADER]
