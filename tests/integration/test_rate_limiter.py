"""The Redis rate limiter: the limit is honoured exactly, with the wait until the window ends."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

from relivchats.adapters.ratelimit import RateLimiter, parse_rule


async def test_requests_past_the_limit_are_refused_until_the_window_ends(settings):
    redis = aioredis.from_url(settings.redis_url)
    limiter, subject = RateLimiter(redis), uuid.uuid4().hex
    try:
        verdicts = [await limiter.hit("test", subject, parse_rule("3/hour")) for _ in range(5)]
        other = await limiter.hit("test", uuid.uuid4().hex, parse_rule("3/hour"))
    finally:
        await redis.aclose()

    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert 3590 <= verdicts[-1].retry_after_s <= 3600
    assert other.allowed


async def test_the_tightest_of_several_windows_refuses(settings):
    redis = aioredis.from_url(settings.redis_url)
    limiter, subject = RateLimiter(redis), uuid.uuid4().hex
    try:
        verdicts = [
            await limiter.hit("test", subject, parse_rule("10/hour,2/minute")) for _ in range(3)
        ]
    finally:
        await redis.aclose()

    assert [v.allowed for v in verdicts] == [True, True, False]
    assert (verdicts[-1].limit, verdicts[-1].window_s) == (2, 60)
    assert verdicts[-1].retry_after_s <= 60
