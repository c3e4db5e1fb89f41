"""quality.md R7 (first part): every untrustworthy token is a 401 in the error envelope."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from relivchats.adapters.identity import JwksCache, TokenInvalid, TokenVerifier
from relivchats.settings import Settings
from tests.conftest import TEST_SECRET
from tests.fakes.jwks_server import JwksServer, SigningKey
from tests.helpers import auth


def claims(settings: Settings, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "sub": "someone",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    return {**base, **overrides}


def assert_unauthenticated(response, reason: str) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert reason in error["message"]
    assert error["request_id"] == response.headers["x-request-id"]
    assert response.headers["www-authenticate"] == "Bearer"


async def test_missing_token_is_refused(client):
    assert_unauthenticated(await client.get("/api/users/me"), "bearer token is required")


async def test_malformed_token_is_refused(client):
    response = await client.get("/api/users/me", headers=auth("not-a-jwt"))
    assert_unauthenticated(response, "malformed")


async def test_token_signed_with_another_secret_is_refused(client, settings):
    forged = jwt.encode(claims(settings), "some-other-secret-of-sufficient-length!", "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(forged)), "rejected")


async def test_unsigned_token_is_refused(client, settings):
    unsigned = jwt.encode(claims(settings), None, algorithm="none")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(unsigned)), "rejected")


async def test_expired_token_is_refused(client, settings):
    old = int(time.time()) - 3600
    expired = jwt.encode(claims(settings, iat=old, exp=old + 60), TEST_SECRET, "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(expired)), "expired")


async def test_token_not_yet_valid_is_refused(client, settings):
    future = jwt.encode(claims(settings, nbf=int(time.time()) + 3600), TEST_SECRET, "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(future)), "rejected")


async def test_token_from_another_issuer_is_refused(client, settings):
    foreign = jwt.encode(claims(settings, iss="https://elsewhere"), TEST_SECRET, "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(foreign)), "issued")


async def test_token_for_another_audience_is_refused(client, settings):
    other = jwt.encode(claims(settings, aud="another-app"), TEST_SECRET, "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(other)), "audience")


async def test_token_without_subject_is_refused(client, settings):
    anonymous = claims(settings)
    del anonymous["sub"]
    token = jwt.encode(anonymous, TEST_SECRET, "HS256")
    assert_unauthenticated(await client.get("/api/users/me", headers=auth(token)), "rejected")


async def test_authorized_party_stands_in_for_audience(settings):
    verifier = TokenVerifier(issuer=settings.jwt_issuer, audience="web", secret=TEST_SECRET)
    token = jwt.encode(claims(settings, aud=None, azp="web"), TEST_SECRET, "HS256")
    assert (await verifier.verify(token)).subject == "someone"


async def test_jwks_key_rotation_is_picked_up_without_restart(settings):
    with JwksServer() as provider:
        first, second = SigningKey("key-1"), SigningKey("key-2")
        provider.keys = [first]
        jwks = JwksCache(provider.url, ttl_s=300, min_refresh_interval_s=0)
        verifier = TokenVerifier(
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks=jwks
        )
        assert (await verifier.verify(first.sign(claims(settings)))).subject == "someone"

        provider.keys = [second]  # the provider rotates: key-1 retired, key-2 signs
        assert (await verifier.verify(second.sign(claims(settings)))).subject == "someone"
        assert provider.fetches == 2

        # Cached keys are served without a fetch; the retired key no longer verifies anything.
        await verifier.verify(second.sign(claims(settings)))
        assert provider.fetches == 2
        with pytest.raises(TokenInvalid, match="unknown key"):
            await verifier.verify(first.sign(claims(settings)))


async def test_unknown_key_ids_cannot_flood_the_provider(settings):
    with JwksServer() as provider:
        provider.keys = [SigningKey("key-1")]
        jwks = JwksCache(provider.url, ttl_s=300, min_refresh_interval_s=60)
        verifier = TokenVerifier(
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks=jwks
        )
        for attempt in range(5):
            with pytest.raises(TokenInvalid):
                await verifier.verify(SigningKey(f"forged-{attempt}").sign(claims(settings)))
        assert provider.fetches == 1


async def test_a_remembered_token_still_expires_on_time(settings):
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, secret=TEST_SECRET, leeway_s=0
    )
    token = jwt.encode(claims(settings, exp=int(time.time()) + 1), TEST_SECRET, "HS256")
    assert (await verifier.verify(token)).subject == "someone"
    assert (await verifier.verify(token)).subject == "someone"  # served from memory
    await asyncio.sleep(1.1)
    with pytest.raises(TokenInvalid, match="expired"):
        await verifier.verify(token)


async def test_a_refused_token_is_never_remembered(settings):
    verifier = TokenVerifier(issuer=settings.jwt_issuer, audience="web", secret=TEST_SECRET)
    forged = jwt.encode(claims(settings, aud="web"), "another-secret-of-enough-length!!", "HS256")
    for _ in range(2):
        with pytest.raises(TokenInvalid):
            await verifier.verify(forged)
