"""The rate limiter's counters in Redis: a key over its limit stays refused for the rest of
the window without another trip to Redis."""

from __future__ import annotations

import secrets

import pytest
from redis.asyncio import Redis

from tradebot.config import Settings
from tradebot.kit.ratelimit import RequestLimiter, TooManyRequestsError


async def test_over_the_limit_is_refused_without_counting_again() -> None:
    redis = Redis.from_url(Settings().REDIS_URL)
    prefix = f"tradebot-test-{secrets.token_hex(4)}"
    limiter = RequestLimiter(redis, prefix, 3600)  # an hour: no window ends mid-test
    try:
        await limiter.hit("client:c-1", 2, "this client")
        await limiter.hit("client:c-1", 2, "this client")
        for _ in range(3):
            with pytest.raises(TooManyRequestsError) as refused:
                await limiter.hit("client:c-1", 2, "this client")
            assert 1 <= refused.value.retry_after <= 3600
        (counter,) = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        assert int(await redis.get(counter) or 0) == 3  # the 4th and 5th never reached Redis
        await limiter.hit("client:c-2", 2, "this client")  # another key has its own count
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
