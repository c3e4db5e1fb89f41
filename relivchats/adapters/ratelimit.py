"""Rate limits in Redis: fixed windows, one round trip per check, shared by every API process.

A rule reads like the settings that hold it: "20/hour", or several at once: "10/hour,3/minute".
Each window of each rule is one Redis counter, created with its expiry (`SET NX EX`: unlike
`EXPIRE NX`, the Redis 6.2 that embedded runs ship has it) and `INCR`ed in the same MULTI/EXEC,
which keeps the expiry; a request over any rule is refused with the seconds until that window
ends. A fixed window lets a burst of up to twice the limit straddle a window boundary, which is
acceptable for abuse limits and costs one key per (rule, subject) instead of a sorted set of
timestamps. Keys hold the limit's name and the subject (a user id or a client address), never
request data.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
KEY_PREFIX = "ratelimit"


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: int  # 0 when allowed
    limit: int
    window_s: int


def parse_rule(rule: str) -> tuple[Window, ...]:
    """ "20/hour" -> (Window(20, 3600),); "10/hour,3/minute" -> two windows."""
    windows = []
    for part in rule.split(","):
        count, _, unit = part.strip().partition("/")
        if unit not in _SECONDS or not count.isdigit() or int(count) < 1:
            raise ValueError(f"a rate limit reads like '20/hour', not {part.strip()!r}")
        windows.append(Window(int(count), _SECONDS[unit]))
    return tuple(windows)


class RateLimiter:
    def __init__(self, redis: aioredis.Redis):
        self._redis = redis

    async def hit(self, name: str, subject: str, windows: tuple[Window, ...]) -> Verdict:
        """Count one request of `subject` against every window; refuse if any is exceeded."""
        keys = [f"{KEY_PREFIX}:{name}:{window.seconds}:{subject}" for window in windows]
        async with self._redis.pipeline(transaction=True) as pipe:
            for key, window in zip(keys, windows, strict=True):
                pipe.set(key, 0, ex=window.seconds, nx=True)
                pipe.incr(key)
                pipe.ttl(key)
            replies = await pipe.execute()
        verdicts = [
            self._verdict(window, count=replies[3 * i + 1], ttl=replies[3 * i + 2])
            for i, window in enumerate(windows)
        ]
        refused = [verdict for verdict in verdicts if not verdict.allowed]
        return max(refused, key=lambda v: v.retry_after_s) if refused else verdicts[0]

    @staticmethod
    def _verdict(window: Window, count: int, ttl: int) -> Verdict:
        if count <= window.limit:
            return Verdict(True, 0, window.limit, window.seconds)
        return Verdict(False, max(int(ttl), 1), window.limit, window.seconds)
