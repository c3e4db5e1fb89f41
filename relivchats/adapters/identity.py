"""Verifying the identity provider's JWTs: RS256 against a JWKS URL, or HS256 with a local secret.

Checked on every request: signature, `exp`/`nbf` (with a small leeway), issuer, and audience or
authorized party. JWKS keys are cached; an unknown `kid` triggers one refresh (rate limited), so a
provider's key rotation is picked up without a restart and a flood of forged kids cannot turn
into a flood of JWKS fetches.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import jwt

from relivchats.domain.users import FIRST_GENERATION, subject_key_for, user_id_for_key


class TokenInvalid(Exception):
    """The bearer token cannot be trusted; the message says why (safe to show the caller)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    subject_key: UUID  # pseudonymous (domain/users.py), derived once per verified token
    user_id: UUID  # the subject's first account, until authentication says which one acts
    is_auditor: bool
    email: str | None
    name: str | None
    issued_at: datetime | None = None  # `iat`: tokens issued before a deletion are refused


AuditorClaim = tuple[str, str]  # (claim name, value) the operator configured


def principal_from(claims: dict[str, Any], auditor_claim: AuditorClaim | None) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise TokenInvalid("token has no subject")
    subject_key = subject_key_for(subject)
    return Principal(
        subject=subject,
        subject_key=subject_key,
        user_id=user_id_for_key(subject_key, FIRST_GENERATION),
        is_auditor=carries(claims, auditor_claim),
        email=claims.get("email") if isinstance(claims.get("email"), str) else None,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        issued_at=_issued_at(claims),
    )


def _issued_at(claims: dict[str, Any]) -> datetime | None:
    issued = claims.get("iat")
    if isinstance(issued, int | float) and not isinstance(issued, bool):
        return datetime.fromtimestamp(issued, tz=UTC)
    return None


def carries(claims: dict[str, Any], wanted: AuditorClaim | None) -> bool:
    """Whether the claim `wanted` names holds its value (or, for a list claim, contains it).

    Only the operator's claim counts: a generic `roles` claim is something many identity
    providers let any application or user set, so it never makes an auditor by itself.
    """
    if wanted is None:
        return False
    name, value = wanted
    held = claims.get(name)
    if isinstance(held, list):
        return value in [str(item) for item in held]
    return held is not None and str(held) == value


class JwksCache:
    """The provider's signing keys by `kid`, refreshed on a TTL or when a new kid shows up."""

    def __init__(self, url: str, ttl_s: float, min_refresh_interval_s: float):
        self.url = url
        self.ttl_s = ttl_s
        self.min_refresh_interval_s = min_refresh_interval_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    def knows(self, kid: str) -> bool:
        """Whether `kid` is still among the provider's keys as last fetched."""
        return kid in self._keys

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys or self._expired():
            await self._refresh(force=kid not in self._keys)
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenInvalid("token signed with an unknown key") from None

    def _expired(self) -> bool:
        return time.monotonic() - self._fetched_at > self.ttl_s

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            since = time.monotonic() - self._fetched_at
            if since < self.min_refresh_interval_s or (not force and not self._expired()):
                return
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    document = response.json()
            except (httpx.HTTPError, ValueError) as error:
                if not self._keys:
                    raise TokenInvalid("identity provider keys are unavailable") from error
                return  # keep serving with the keys we have
            self._keys = {
                key["kid"]: jwt.PyJWK(key) for key in document.get("keys", []) if "kid" in key
            }
            self._fetched_at = time.monotonic()


class VerifiedTokens:
    """Tokens that passed every check, remembered until they expire (or for `ttl_s` at most).

    Verifying a signature costs more than the rest of a cheap read request; a client sends the
    same token many times. Only fully verified tokens are stored, so a hit is exactly as
    trustworthy as a fresh verification until the token's own `exp` — unless its signing key has
    since been retired by the provider, which ends the memory at once. Bounded: the oldest
    entries go first.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 10_000):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, str, Principal]] = {}

    def get(self, token: str, jwks: JwksCache | None) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        valid_until, kid, principal = entry
        retired = jwks is not None and not jwks.knows(kid)
        if retired or time.time() >= valid_until:
            del self._entries[token]
            return None
        return principal

    def remember(self, token: str, kid: str, principal: Principal, expires_at: float) -> None:
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[token] = (min(expires_at, time.time() + self.ttl_s), kid, principal)


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        secret: str | None = None,
        jwks: JwksCache | None = None,
        leeway_s: int = 30,
        auditor_claim: AuditorClaim | None = None,
    ):
        if not secret and not jwks:
            raise ValueError("configure JWT_JWKS_URL or JWT_SECRET")
        self.issuer = issuer
        self.audience = audience
        self.secret = secret
        self.jwks = jwks
        self.leeway_s = leeway_s
        self.auditor_claim = auditor_claim
        self.verified = VerifiedTokens()

    async def verify(self, token: str) -> Principal:
        remembered = self.verified.get(token, self.jwks)
        if remembered is not None:
            return remembered
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenInvalid("malformed token") from None
        kid = str(header.get("kid", ""))
        if self.jwks is not None:
            key: Any = (await self.jwks.key_for(kid)).key
            algorithms = ["RS256"]
        else:
            key, algorithms = self.secret, ["HS256"]
        claims = self._decode(token, key, algorithms)
        principal = principal_from(claims, self.auditor_claim)
        self.verified.remember(token, kid, principal, expires_at=float(claims["exp"]))
        return principal

    def _decode(self, token: str, key: Any, algorithms: list[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "sub", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("token has expired") from None
        except jwt.InvalidIssuerError:
            raise TokenInvalid("token was issued by someone else") from None
        except jwt.PyJWTError as error:
            raise TokenInvalid(f"token rejected: {error}") from None
        self._check_audience(claims)
        return claims

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.audience not in audiences and claims.get("azp") != self.audience:
            raise TokenInvalid("token is meant for another audience")


def mint_local_token(
    secret: str,
    subject: str,
    *,
    issuer: str,
    audience: str,
    ttl_s: int = 3600,
    extra_claims: dict[str, Any] | None = None,
    email: str | None = None,
) -> str:
    """An HS256 token for local runs and tests (`relivchats token --sub ID`)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_s,
    }
    claims.update(extra_claims or {})
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")
