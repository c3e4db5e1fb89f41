"""The FastAPI application: factory, lifespan (pools, event store, verifier), routers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from fastapi import FastAPI

from relivchats import __version__
from relivchats.adapters.crypto import ContentCipher
from relivchats.adapters.database import ReadPool
from relivchats.adapters.eventstore import AsyncEventStore, EventStore
from relivchats.adapters.identity import JwksCache, TokenVerifier
from relivchats.adapters.ingest import IngestPool
from relivchats.adapters.payments.providers import build_providers
from relivchats.adapters.ratelimit import RateLimiter
from relivchats.adapters.webhook_receipts import RecordedReceipts
from relivchats.api.acting_accounts import ActingAccounts
from relivchats.api.contract import declare_read_position
from relivchats.api.errors import install_error_handlers
from relivchats.api.looplag import loop_lag_probe
from relivchats.api.middleware import RequestContextMiddleware
from relivchats.api.rag_wiring import build_rag_services, finish_answers
from relivchats.api.routes import (
    account,
    audit,
    catalogue,
    chats,
    credits,
    health,
    insights,
    payments,
    rag,
    users,
)
from relivchats.api.switches import SwitchBoard
from relivchats.api.webhooks import WebhookBatches, WebhookDesk
from relivchats.production import refuse_unsafe_production
from relivchats.projections.registry import all_projections
from relivchats.settings import Settings, get_settings

# Routes are tried in order until one matches, router by router (~20,000 instructions per route
# tried, P1). The two payment webhooks come first: provider bursts are the hot write path
# (bench/webhooks.py); then the credits router with the balance read, the hottest read. FastAPI's
# own pages (/openapi.json, /docs, …) go last (`_docs_last`). No two routes share a path, so the
# order changes nothing else (but the order of the OpenAPI document's paths).
ROUTERS = (
    payments.webhooks_router,
    credits.router,
    payments.router,
    chats.router,
    insights.router,
    users.router,
    account.router,
    catalogue.router,
    rag.router,
    audit.router,
    health.router,
)


def _docs_last(app: FastAPI) -> None:
    """FastAPI adds its documentation routes before any router: move them behind the API's."""
    docs = {app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url}
    docs.discard(None)  # a page switched off
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) in docs)


def build_token_verifier(settings: Settings) -> TokenVerifier:
    jwks = None
    if settings.jwt_jwks_url:
        jwks = JwksCache(
            settings.jwt_jwks_url, settings.jwks_cache_ttl_s, settings.jwks_min_refresh_interval_s
        )
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    return TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        secret=None if jwks else secret,
        jwks=jwks,
        leeway_s=settings.jwt_leeway_s,
        auditor_claim=settings.auditor_claim_rule,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.payment_providers = build_providers(settings)
    app.state.read_pool = await ReadPool.open(
        settings.database_url,
        min_size=settings.api_db_pool_min,
        max_size=settings.api_db_pool_max,
        statement_timeout_ms=settings.api_statement_timeout_ms,
    )
    app.state.switch_board = SwitchBoard(app.state.read_pool, settings.feature_switch_ttl_s)
    app.state.acting_accounts = ActingAccounts(app.state.read_pool)
    listening = await app.state.acting_accounts.listen(settings.database_url)
    account_changes = asyncio.create_task(
        app.state.acting_accounts.keep_listening(settings.database_url, listening)
    )
    store = await asyncio.to_thread(EventStore, settings)
    app.state.event_store = AsyncEventStore(store, threads=settings.eventstore_pool_size)
    app.state.webhooks = WebhookDesk(
        app.state.payment_providers,
        RecordedReceipts(),
        WebhookBatches(app.state.event_store),
        app.state.read_pool,
    )
    app.state.redis = aioredis.from_url(settings.redis_url, socket_timeout=2)
    app.state.content_cipher = ContentCipher.from_settings(settings)
    app.state.rate_limiter = RateLimiter(app.state.redis)
    app.state.rag = build_rag_services(
        settings,
        app.state.event_store,
        app.state.read_pool,
        app.state.content_cipher,
        app.state.redis,
    )
    app.state.rag_answers = set()  # streamed answers still running (their clients may be gone)
    app.state.ingest_pool = IngestPool(settings)
    warming = asyncio.create_task(app.state.ingest_pool.warm())  # not worth delaying start-up
    # Everything loaded so far (SDKs, models, routes) lives as long as the process. A full
    # collection walking it paused every request ~60 ms (the p99 tail); frozen, it is skipped.
    gc.collect()
    gc.freeze()
    try:
        async with loop_lag_probe(settings.loop_lag_probe_ms):
            yield
    finally:
        warming.cancel()
        account_changes.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await account_changes
        await finish_answers(app.state.rag_answers)
        app.state.rag.search.close()
        await asyncio.to_thread(app.state.ingest_pool.close)
        await app.state.redis.aclose()
        await asyncio.to_thread(app.state.event_store.close)
        await app.state.read_pool.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    refuse_unsafe_production(settings)  # also when served without the CLI (`uvicorn --factory`)
    app = FastAPI(
        title="RelivChats",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token_verifier = build_token_verifier(settings)
    app.state.projection_names = [p.name for p in all_projections()]
    install_error_handlers(app)
    for router in ROUTERS:
        declare_read_position(router.routes)
        app.include_router(router)
    _docs_last(app)
    app.add_middleware(
        RequestContextMiddleware,
        deadline_s=settings.request_deadline_s,
        longer_deadlines={
            "/api/chats/upload": settings.upload_deadline_s,
            "/api/rag/query": settings.rag_answer_deadline_s,  # a model's answer, streamed
        },
    )
    return app
