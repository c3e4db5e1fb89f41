"""The production rules: what a process refuses to start with when `ENVIRONMENT=production`.

Every default in `settings.py` is chosen so a laptop runs with no set-up; several of them are
public (the development JWT secret, content key and sandbox webhook secret) and would let anyone
sign in as anyone, read chats or mint coins. Each rule below names the variable to fix. Every
process entry point (cli/main.py) and the API factory call `refuse_unsafe_production`;
`relivchats check-config` prints the same list.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from relivchats.settings import (
    DEV_CONTENT_KEY,
    DEV_JWT_ISSUER,
    DEV_JWT_SECRET,
    DEV_SANDBOX_WEBHOOK_SECRET,
    Settings,
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIN_SECRET_BYTES = 32  # HS256 keys shorter than the hash output are brute-forceable (RFC 7518)
CONTENT_KEY_BYTES = 32  # AES-256


class UnsafeProductionConfig(Exception):
    """Raised at start-up; its message is one line per problem, each naming its variable."""


def production_problems(settings: Settings) -> list[str]:
    """Why this configuration must not run in production (empty when it may)."""
    if settings.environment != "production":
        return []
    return [
        *_identity_problems(settings),
        *_content_key_problems(settings),
        *_payment_problems(settings),
        *_drill_problems(settings),
        *_plain_http_problems(settings),
        *_question_problems(settings),
        *_operations_problems(settings),
        *_identity_admin_problems(settings),
    ]


def refuse_unsafe_production(settings: Settings) -> None:
    problems = production_problems(settings)
    if problems:
        raise UnsafeProductionConfig(
            "\n".join(f"refusing to start in production: {problem}" for problem in problems)
        )


def _identity_problems(settings: Settings) -> list[str]:
    problems = []
    if not settings.jwt_jwks_url:  # HS256 with the shared secret
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else ""
        if not secret:
            problems.append("JWT_JWKS_URL (RS256) or JWT_SECRET (HS256) must be set")
        elif secret == DEV_JWT_SECRET:
            problems.append(
                "JWT_SECRET is the public development secret;"
                " set JWT_JWKS_URL (RS256) or your own JWT_SECRET"
            )
        elif len(secret.encode()) < MIN_SECRET_BYTES:
            problems.append(f"JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
    if settings.jwt_issuer == DEV_JWT_ISSUER:
        problems.append(f"JWT_ISSUER is the local default {DEV_JWT_ISSUER!r}; set your issuer")
    if bool(settings.auditor_claim) != bool(settings.auditor_claim_value):
        problems.append("AUDITOR_CLAIM and AUDITOR_CLAIM_VALUE must be set together")
    return problems


def _content_key_problems(settings: Settings) -> list[str]:
    key = settings.content_key.get_secret_value()
    if key == DEV_CONTENT_KEY:
        return ["CONTENT_KEY is the all-zero development key; set a random 32-byte hex key"]
    if not _is_hex_of(key, CONTENT_KEY_BYTES):
        return [f"CONTENT_KEY must be {CONTENT_KEY_BYTES} bytes written in hexadecimal"]
    return []


def _is_hex_of(text: str, size: int) -> bool:
    try:
        return len(bytes.fromhex(text)) == size
    except ValueError:
        return False


def _payment_problems(settings: Settings) -> list[str]:
    problems: list[str] = []
    real = {
        "RAZORPAY_KEY_ID, RAZORPAY_KEY_SECRET, RAZORPAY_WEBHOOK_SECRET": settings.razorpay_is_real,
        "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET": settings.stripe_is_real,
    }
    sandboxed = [variables for variables, is_real in real.items() if not is_real]
    if sandboxed and not settings.payments_sandbox_in_production:
        problems.extend(
            f"{variables} are not all set, so the sandbox payment provider would sell coins"
            " (or set PAYMENTS_SANDBOX_IN_PRODUCTION=true)"
            for variables in sandboxed
        )
    secret = settings.sandbox_webhook_secret.get_secret_value()
    if secret == DEV_SANDBOX_WEBHOOK_SECRET:
        problems.append("SANDBOX_WEBHOOK_SECRET is the public development secret; set your own")
    elif len(secret.encode()) < MIN_SECRET_BYTES:
        problems.append(f"SANDBOX_WEBHOOK_SECRET is shorter than {MIN_SECRET_BYTES} bytes")
    return problems


def _drill_problems(settings: Settings) -> list[str]:
    if settings.llm_faults_file:
        return ["LLM_FAULTS_FILE is set; it fails insights on purpose (tests and drills only)"]
    return []


def _identity_admin_problems(settings: Settings) -> list[str]:
    """Telling the identity provider to forget a user needs its admin key; a key without an
    address would silently tell nobody."""
    key = settings.identity_admin_key.get_secret_value() if settings.identity_admin_key else ""
    if settings.identity_admin_url and not key:
        return ["IDENTITY_ADMIN_URL is set without IDENTITY_ADMIN_KEY"]
    if key and not settings.identity_admin_url:
        return ["IDENTITY_ADMIN_KEY is set without IDENTITY_ADMIN_URL"]
    return []


def _plain_http_problems(settings: Settings) -> list[str]:
    """Keys fetched or sent over plain HTTP can be swapped or read on the way: a forged JWKS signs
    in as anyone. Loopback addresses (a local proxy, the test fakes) are let through."""
    addresses = {
        "JWT_JWKS_URL": settings.jwt_jwks_url,
        "GEMINI_BASE_URL": settings.gemini_base_url,
        "RAZORPAY_BASE_URL": settings.razorpay_base_url,
        "STRIPE_BASE_URL": settings.stripe_base_url,
        "IDENTITY_ADMIN_URL": settings.identity_admin_url,
    }
    return [
        f"{name} must use https (or a loopback address)"
        for name, url in addresses.items()
        if url and urlsplit(url).scheme != "https" and urlsplit(url).hostname not in LOOPBACK
    ]


def _question_problems(settings: Settings) -> list[str]:
    """A search that may outlast the request turns every slow search into a 503 deadline; a
    lost indexing request repeated before its task could time out sends it twice; a question's
    deadline under the model's timeout cuts answers the model would have finished."""
    problems = []
    if not 0 < settings.rag_search_timeout_s < settings.request_deadline_s:
        problems.append("RAG_SEARCH_TIMEOUT_S must be above 0 and below REQUEST_DEADLINE_S")
    if settings.rag_indexing_stale_s <= settings.celery_visibility_timeout_s:
        problems.append("RAG_INDEXING_STALE_S must exceed CELERY_VISIBILITY_TIMEOUT_S")
    if settings.rag_answer_deadline_s <= settings.gemini_timeout_s:
        problems.append("RAG_ANSWER_DEADLINE_S must exceed GEMINI_TIMEOUT_S")
    return problems


MAX_FEATURE_SWITCH_TTL_S = 5.0  # issue 13: a kill switch bites on every API process within 5 s


def _operations_problems(settings: Settings) -> list[str]:
    """What an operator on call relies on: switches that bite, and metrics from every process."""
    problems = []
    if not 0 <= settings.feature_switch_ttl_s <= MAX_FEATURE_SWITCH_TTL_S:
        problems.append(
            f"FEATURE_SWITCH_TTL_S must be between 0 and {MAX_FEATURE_SWITCH_TTL_S:g} s,"
            " or a kill switch may take longer than that to stop a feature"
        )
    ports = settings.metrics_ports
    problems.extend(
        f"{name} is 0: that process would export no metrics"
        for name, port in ports.items()
        if not port
    )
    taken = [port for port in [settings.api_port, *ports.values()] if port]
    if len(taken) != len(set(taken)):
        problems.append("API_PORT and the *_METRICS_PORT settings must all differ")
    return problems
