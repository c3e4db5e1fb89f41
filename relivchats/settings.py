"""Every configurable value of RelivChats, read once from the environment (prefix-free names).

The README documents each variable. Nothing else in the code reads `os.environ`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relivchats.adapters.ratelimit import parse_rule

# Deterministic all-zero development key: fine for local runs, refused in production.
DEV_CONTENT_KEY = "0" * 64
# Public development secret for sandbox webhooks (`simulate-payment`); refused in production.
DEV_SANDBOX_WEBHOOK_SECRET = "whsec_relivchats_sandbox_development"  # noqa: S105 (public by design)
# Public development secret for local HS256 tokens (`relivchats token`); refused in production.
DEV_JWT_SECRET = "relivchats-local-development-secret"  # noqa: S105 (public by design)
DEV_JWT_ISSUER = "relivchats-local"
# The auditor claim of local runs when none is configured; never used in production, where the
# auditor is whoever carries the claim the operator names (AUDITOR_CLAIM = AUDITOR_CLAIM_VALUE).
DEV_AUDITOR_CLAIM = ("relivchats_local_auditor", "yes")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # Unknown names are refused (a typo like "prod" must not silently mean development).
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/relivchats"
    redis_url: str = "redis://127.0.0.1:6379/0"
    qdrant_url: str | None = None
    data_dir: str = ".data"

    # Event store (the eventsourcing library, psycopg 3).
    eventstore_pool_size: int = 8
    eventstore_lock_timeout_s: int = 2
    eventstore_statement_timeout_ms: int = 5000
    command_max_attempts: int = 8

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_db_pool_min: int = 2
    api_db_pool_max: int = 10
    api_statement_timeout_ms: int = 3000
    min_position_timeout_s: float = 2.0
    readiness_max_lag_events: int = 1000
    # Kill switches (api/switches.py): each API process re-reads them this often; production
    # refuses more than 5 s, the most an operator waits for `relivchats flags set` to bite.
    feature_switch_ttl_s: float = 2.0
    # Deadlines (README "Storage trouble, deadlines and 503"). Past its deadline a request is
    # answered 503 with Retry-After. It must exceed every wait a request may legitimately make
    # (MIN_POSITION_TIMEOUT_S, a provider call, the event store's lock timeout and retries),
    # and in production stay under the load balancer's timeout, so callers see our 503.
    request_deadline_s: float = 20.0
    upload_deadline_s: float = 180.0  # POST /api/chats/upload: parsing a 25 MB export
    log_level: str = "INFO"
    # Prometheus exporters of the processes other than the API (which serves /metrics itself):
    # each listens on METRICS_HOST at its port (README "Metrics"); 0 turns one off.
    metrics_host: str = "127.0.0.1"
    projector_metrics_port: int = 9101
    worker_metrics_port: int = 9102
    indexer_metrics_port: int = 9103
    beat_metrics_port: int = 9104

    # Identity
    jwt_secret: SecretStr | None = SecretStr(DEV_JWT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_issuer: str = DEV_JWT_ISSUER
    jwt_audience: str = "relivchats"
    jwt_leeway_s: int = 30
    jwks_cache_ttl_s: int = 300
    jwks_min_refresh_interval_s: float = 10.0
    # The claim (name and value) that makes a token's bearer an auditor; see `auditor_claim_rule`.
    auditor_claim: str | None = None
    auditor_claim_value: str | None = None

    # Account deletion and erasure (commands/account_deletion.py, commands/erasure.py).
    account_erasure_grace_days: int = 30  # personal data is erased this long after deletion
    erasure_sweep_interval_s: float = 3600.0  # beat: erase accounts whose grace period is over
    erasure_sweep_batch: int = 100  # accounts per erasure run; the next run takes the rest
    # The identity provider's admin API, told to forget a deleted account's subject
    # (adapters/identity_admin.py); unset: nobody is told (a no-op).
    identity_admin_url: str | None = None
    identity_admin_key: SecretStr | None = None
    identity_admin_timeout_s: float = 10.0
    rate_limit_export: str = "5/hour"  # data exports (GET /api/users/me/export) per user

    # Projector
    projector_batch_size: int = 500
    projector_poll_interval_s: float = 1.0
    projector_retry_max_s: float = 60.0

    # Credits: how long a reservation holds coins before the sweeper releases it.
    reservation_expiry_s: int = 1200
    reservation_sweep_interval_s: float = 30.0
    reservation_sweep_batch: int = 500  # accounts per sweep; the next sweep takes the rest

    # Workers (Celery on REDIS_URL). A task's hard time limit must stay under the visibility
    # timeout, else the broker hands a still-running task out again.
    worker_concurrency: int = 2
    celery_task_soft_time_limit_s: int = 45
    celery_task_time_limit_s: int = 50
    celery_visibility_timeout_s: int = 60  # a killed worker's unacked task returns after this
    celery_unacked_restore_interval_s: int = 1  # how often workers look for such tasks
    celery_key_prefix: str = ""  # namespace for broker keys, to share one Redis

    # Payments. A provider is real when its key and webhook secret are both set; otherwise the
    # sandbox stands in for it, verifying webhooks signed with `sandbox_webhook_secret`.
    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    razorpay_base_url: str = "https://api.razorpay.com"
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_base_url: str = "https://api.stripe.com"
    payment_timeout_s: float = 10.0  # per provider HTTP call
    payment_max_retries: int = 2  # retries of 5xx, 429 and network errors per provider call
    sandbox_webhook_secret: SecretStr = SecretStr(DEV_SANDBOX_WEBHOOK_SECRET)
    # Production refuses to start with a sandbox provider unless the operator says so here.
    payments_sandbox_in_production: bool = False

    # Privacy: 32-byte AES-GCM master key, hex. Wraps per-user keys and encrypts chat content.
    content_key: SecretStr = SecretStr(DEV_CONTENT_KEY)

    # Chats. Uploads are parsed in forked processes (one per upload, then it exits, so memory
    # goes back); a 200 MB text needs about 4.5 GB, beyond the cap the upload is refused (413).
    upload_workers: int = 1  # concurrent parsing processes per API process
    upload_worker_memory_mb: int = 6144  # address-space cap of one parsing process
    rate_limit_upload: str = "20/hour"  # per user; "N/second|minute|hour|day", comma-separated
    chat_purge_interval_s: float = 60.0  # beat: erase deleted chats' content this often
    chat_purge_batch: int = 100  # chats (and orphaned contents) per purge run
    orphan_content_grace_s: int = 600  # content no event names is erased after this long
    loop_lag_probe_ms: int = 0  # > 0: the API measures its event-loop lag (metrics, bench)

    # Insights. The LLM is Gemini when GEMINI_API_KEY is set, else the offline writer; so are the
    # embeddings (else the local model). The SDK has no default timeout and no retries: set both.
    gemini_api_key: SecretStr | None = None
    gemini_base_url: str | None = None  # tests point the SDK at a local fake server
    gemini_model: str = "gemini-2.5-flash"
    gemini_embedding_model: str = "gemini-embedding-001"
    gemini_embedding_dimension: int = 768
    gemini_timeout_s: float = 30.0  # per request
    gemini_attempts: int = 2  # per request, by the SDK (408, 429, 5xx, timeouts), incl. the first
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "chat_chunks"  # the embedder's dimension is appended to it
    rate_limit_unlock: str = "10/hour,3/minute"  # per user
    rate_limit_order: str = "10/minute"  # payment orders per user
    # Questions (ask your chat): free, rate limited per user.
    rate_limit_rag: str = "30/hour,5/minute"
    rag_search_timeout_s: float = 2.0  # how long a question waits for the chunk search
    rag_answer_deadline_s: float = 90.0  # a question's request deadline (a streamed answer's)
    rag_indexing_stale_s: int = 900  # an indexing request older than this is made again
    insight_attempts: int = 3  # tries per insight (provider errors, invalid output, timeouts)
    insight_retry_backoff_s: float = 2.0  # before the 2nd try; doubles each time, with jitter
    insight_timeout_s: int = 40  # one insight's generation (a soft limit under the task limit)
    insight_excerpt_chunks: int = 4  # chunks retrieved per insight type
    indexing_attempts: int = 6  # runs of a job's indexing; each resumes where the last stopped
    embedder_threads: int | None = None  # torch threads of the local embedder (default: all)
    # Test and drills only: a JSON file {"fail": [insight types], "delay_s": N} read before each
    # generation, to fail chosen insight types or slow generation down. Never set in production.
    llm_faults_file: str | None = None
    # Production without GEMINI_API_KEY refuses unlocks (503) rather than sell the offline
    # writer's estimates, unless the operator opts in here.
    offline_insights_in_production: bool = False

    @property
    def razorpay_is_real(self) -> bool:
        """Razorpay's real API is used (else the sandbox stands in for it)."""
        return bool(
            self.razorpay_key_id and self.razorpay_key_secret and self.razorpay_webhook_secret
        )

    @property
    def stripe_is_real(self) -> bool:
        return bool(self.stripe_secret_key and self.stripe_webhook_secret)

    @property
    def auditor_claim_rule(self) -> tuple[str, str] | None:
        """(claim, value) that marks an auditor: the configured pair; outside production, the
        local one when none is configured; in production without one, nobody is an auditor."""
        if self.auditor_claim and self.auditor_claim_value:
            return self.auditor_claim, self.auditor_claim_value
        return None if self.environment == "production" else DEV_AUDITOR_CLAIM

    @property
    def insights_on_sale(self) -> bool:
        """Whether unlocks may charge coins: never for offline estimates in production unless
        the operator opted in."""
        return (
            self.gemini_api_key is not None
            or self.environment != "production"
            or self.offline_insights_in_production
        )

    @field_validator(
        "rate_limit_upload",
        "rate_limit_unlock",
        "rate_limit_order",
        "rate_limit_rag",
        "rate_limit_export",
    )
    @classmethod
    def _rate_limit_parses(cls, rule: str) -> str:
        parse_rule(rule)  # a typo must stop start-up, not fail every limited request with a 500
        return rule

    @model_validator(mode="after")
    def _deadlines_outlast_waits(self) -> Settings:
        if min(self.request_deadline_s, self.upload_deadline_s) <= self.min_position_timeout_s:
            raise ValueError(
                "REQUEST_DEADLINE_S and UPLOAD_DEADLINE_S must exceed MIN_POSITION_TIMEOUT_S"
            )
        return self

    @property
    def metrics_ports(self) -> dict[str, int]:
        return {
            "PROJECTOR_METRICS_PORT": self.projector_metrics_port,
            "WORKER_METRICS_PORT": self.worker_metrics_port,
            "INDEXER_METRICS_PORT": self.indexer_metrics_port,
            "BEAT_METRICS_PORT": self.beat_metrics_port,
        }

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/") or "postgres"

    def eventstore_env(self) -> dict[str, str]:
        """The eventsourcing library's environment, derived from `database_url`."""
        url = urlsplit(self.database_url)
        # A Unix-socket URL (embedded PostgreSQL) names its socket folder in `?host=`.
        socket_host = parse_qs(url.query).get("host", [None])[0]
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.database_name,
            "POSTGRES_HOST": socket_host or url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(self.eventstore_pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
            "POSTGRES_LOCK_TIMEOUT": str(self.eventstore_lock_timeout_s),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_PRE_PING": "y",
            # Our migrations own the schema; concurrent CREATE TABLE at start-up is unsafe.
            "CREATE_TABLE": "no",
        }


@lru_cache
def get_settings() -> Settings:
    return Settings()
