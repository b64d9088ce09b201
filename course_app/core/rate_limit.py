"""Fixed-window rate limiting behind one interface.

``hit(key, limit, window)`` counts an attempt and answers how many seconds the caller
must wait (0 = allowed). :class:`MemoryRateLimiter` counts per process, so with N
workers an attacker gets N times the budget (lesson 11 shows it); :class:`RedisRateLimiter`
counts once for all workers with an atomic ``INCR`` + ``EXPIRE``;
:class:`FallbackRateLimiter` decides what a Redis outage means (see there).
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from course_app.core.logging import get_logger

log = get_logger(__name__)


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window: int) -> int: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window: int) -> int:
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        count += 1
        if len(self._windows) >= self.max_keys and key not in self._windows:
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window}
        self._windows[key] = (started, count)
        if count > limit:
            return max(1, math.ceil(started + window - now))
        return 0

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str = "ratelimit") -> None:
        self.redis = redis
        self.prefix = prefix

    async def hit(self, key: str, limit: int, window: int) -> int:
        name = f"{self.prefix}:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window, nx=True)
            pipe.ttl(name)
            count, _, ttl = await pipe.execute()
        if int(count) > limit:
            return max(1, int(ttl))
        return 0

    async def reset(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}:{key}")

    async def close(self) -> None:
        await self.redis.aclose()


class FallbackRateLimiter:
    """A shared limiter that degrades to a per-process one when it is unreachable.

    The outage policy, made explicit. *Failing closed* (every login a 429 or a 500 while
    Redis is down) turns a cache outage into an authentication outage. *Failing open*
    (no limit at all) hands a brute-force attacker the window they wait for. In between:
    while the shared store errors, each process counts on its own, so the limit still
    holds per worker (N workers: N times the budget, for the outage only), every
    degraded hit is logged, and the shared counts take over again as soon as Redis
    answers.
    """

    def __init__(self, primary: RateLimiter, fallback: RateLimiter | None = None) -> None:
        self.primary = primary
        self.fallback = fallback if fallback is not None else MemoryRateLimiter()

    async def hit(self, key: str, limit: int, window: int) -> int:
        try:
            return await self.primary.hit(key, limit, window)
        except (RedisError, OSError) as exc:
            log.warning("rate_limiter_degraded", operation="hit", error=type(exc).__name__)
            return await self.fallback.hit(key, limit, window)

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        try:
            await self.primary.reset(key)
        except (RedisError, OSError) as exc:
            log.warning("rate_limiter_degraded", operation="reset", error=type(exc).__name__)

    async def close(self) -> None:
        await self.fallback.close()
        await self.primary.close()
