"""The shared exchange rate limiter on a real Redis (``TEST_REDIS_URL``, default DB 9 on
127.0.0.1:6379): budgets across tasks and OS processes, exchange headers, penalties, fair
share, headroom, and failing closed when Redis is gone.

Every test works under its own key prefix (deleted afterwards) with 1-second windows and small
limits, so the suite stays fast. Each limiter gets its own Redis connection, as separate
workers would have.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
import structlog
from redis.asyncio import Redis

from tradebot.config import load_settings
from tradebot.runtime.ports import TransientVenueError
from tradebot.venues.rate_limit import (
    Grant,
    RateLimitBlocked,
    RateLimiter,
    RateLimiterUnavailable,
    RateLimits,
    RateWindow,
)
from tradebot.venues.rate_limit_ccxt import throttled

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
SPAN_MS = 1_000
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
ORDERS_HEADER = "X-MBX-ORDER-COUNT-10S"


def small_limits(
    weight: int = 25, orders: int = 100, headroom: float = 80.0, share: float = 100.0
) -> RateLimits:
    """1-second windows: ``weight`` per second for the IP, ``orders`` per second per account."""
    return RateLimits(
        weight=RateWindow(weight, SPAN_MS / 1000, WEIGHT_HEADER),
        orders=(RateWindow(orders, SPAN_MS / 1000, ORDERS_HEADER),),
        headroom_pct=headroom,
        tenant_share_pct=share,
    )


def limiter_for(prefix: str, limits: RateLimits, url: str = REDIS_URL) -> RateLimiter:
    redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
    return RateLimiter(redis, "binance", "198.51.100.7", limits, key_prefix=prefix)


class Limiters:
    """Limiters on one test's own keys (``prefix``), each on its own Redis connection."""

    def __init__(self) -> None:
        self.prefix = f"test-rl-{secrets.token_hex(6)}:"
        self._made: list[RateLimiter] = []

    def __call__(self, limits: RateLimits | None = None, url: str = REDIS_URL) -> RateLimiter:
        limiter = limiter_for(self.prefix, limits or small_limits(), url)
        self._made.append(limiter)
        return limiter

    async def close(self) -> None:
        """Close every limiter and delete the test's keys."""
        for limiter in self._made:
            await limiter.close()
        redis = Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter(match=f"{self.prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@asynccontextmanager
async def own_limiters() -> AsyncIterator[Limiters]:
    limiters = Limiters()
    try:
        yield limiters
    finally:
        await limiters.close()


@pytest.fixture
async def make_limiter() -> AsyncIterator[Limiters]:
    async with own_limiters() as limiters:
        yield limiters


def busiest_window(grants: list[tuple[int, int]], span_ms: int = SPAN_MS) -> int:
    """The most weight admitted within any ``span_ms`` (ends included), from (at_ms, weight)."""
    ordered = sorted(grants)
    return max(sum(w for at, w in ordered if end - span_ms <= at <= end) for end, _ in ordered)


async def spend(
    limiter: RateLimiter, count: int, weight: int, account: str | None = None
) -> list[tuple[int, int]]:
    grants: list[tuple[int, int]] = []
    for _ in range(count):
        grant = await limiter.acquire(weight, account=account)
        grants.append((grant.at_ms, weight))
    return grants


# ---- in another OS process (spawned: a fresh interpreter, nothing shared but Redis) ---------
def _spend_in_process(
    prefix: str, start_at: float, count: int, weight: int
) -> tuple[float, list[tuple[int, int]]]:
    """Spend from ``start_at`` (wall clock); returns when it really began, and the grants."""

    async def main() -> tuple[float, list[tuple[int, int]]]:
        limiter = limiter_for(prefix, small_limits())
        await asyncio.sleep(max(0.0, start_at - time.time()))
        began = time.time()
        try:
            return began, await spend(limiter, count, weight)
        finally:
            await limiter.close()

    return asyncio.run(main())


def _penalize_in_process(prefix: str, seconds: float, status: int) -> float:
    async def main() -> float:
        limiter = limiter_for(prefix, small_limits())
        try:
            return await limiter.penalize(seconds, status)
        finally:
            await limiter.close()

    return asyncio.run(main())


def _ready() -> int:
    time.sleep(0.3)  # keeps this worker busy so that the other one gets the second call
    return os.getpid()


async def in_process(pool: ProcessPoolExecutor, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in one of the pool's processes, awaited from a thread with a deadline.

    (asyncio's run_in_executor bridge to a process pool shared across the tests' event loops
    was seen to never wake its loop under xdist; a thread waiting on the future cannot hang.)
    """
    return await asyncio.to_thread(lambda: pool.submit(fn, *args).result(timeout=60))


@pytest.fixture(scope="module")
def processes() -> Iterator[ProcessPoolExecutor]:
    """Two worker processes, started (and this module imported in them) before any test."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert len({f.result() for f in [pool.submit(_ready) for _ in range(2)]}) == 2
        yield pool


# ---- one budget for everyone ----------------------------------------------------------------
async def test_two_tasks_with_their_own_limiters_share_one_budget(make_limiter):
    # Catches a per-instance (in-memory) limiter: each task would get the whole budget at once.
    first, second = make_limiter(), make_limiter()
    budget = first.limits.budget  # 20 = 80 % of 25 per second
    started = time.monotonic()
    a, b = await asyncio.gather(spend(first, 20, 1), spend(second, 20, 1))
    assert busiest_window(a + b) <= budget
    assert time.monotonic() - started >= 0.9  # 40 weight over a 20-per-second budget: waited


async def test_two_processes_share_one_budget(make_limiter, processes):
    # Catches a per-process limiter (module-level state, a lock, a local token bucket): two
    # workers would each spend the full budget within the same second.
    start_at = time.time() + 0.3
    runs = [
        in_process(processes, _spend_in_process, make_limiter.prefix, start_at, 15, 2)
        for _ in range(2)
    ]
    (began_a, a), (began_b, b) = await asyncio.gather(*runs)
    assert abs(began_a - began_b) < 0.4  # they really competed for the same first window
    grants = a + b
    assert busiest_window(grants) <= small_limits().budget
    first, last = min(at for at, _ in grants), max(at for at, _ in grants)
    assert last - first >= SPAN_MS  # 60 weight over a 20-per-second budget takes > 1 window


async def test_headroom_stops_short_of_the_exchange_limit(make_limiter):
    # Catches a limiter that runs right up to the exchange's limit (any unseen traffic on the
    # IP then tips it into 429s).
    limiter = make_limiter(small_limits(weight=10, headroom=80.0))
    for _ in range(8):
        await limiter.acquire(1, max_wait=0)
    with pytest.raises(RateLimitBlocked) as blocked:
        await limiter.acquire(1, max_wait=0)
    assert blocked.value.reason == "budget"
    assert 0 < blocked.value.retry_after <= SPAN_MS / 1000 + 0.1


async def test_routine_polls_leave_the_rest_of_the_budget_to_orders_and_queries(make_limiter):
    # Catches one queue for all: a crowd of polling runs fills the budget and a restarting
    # run's reconciliation (or an order) waits behind polls for a whole window.
    limiter = make_limiter(replace(small_limits(weight=20), routine_pct=50.0))  # budget 16
    for _ in range(8):
        await limiter.acquire(1, max_wait=0, routine=True)
    with pytest.raises(RateLimitBlocked) as blocked:
        await limiter.acquire(1, max_wait=0, routine=True)
    assert blocked.value.reason == "budget"
    for _ in range(8):  # what the polls may not take is there for everything else
        await limiter.acquire(1, max_wait=0)
    with pytest.raises(RateLimitBlocked):
        await limiter.acquire(1, max_wait=0)
    assert (await limiter.usage()).weight == 16


async def test_weight_beyond_the_budget_is_refused_at_once(make_limiter):
    limiter = make_limiter(small_limits(weight=10))
    with pytest.raises(ValueError, match=r"outside 1\.\.8"):
        await limiter.acquire(9)


# ---- the exchange's own count ---------------------------------------------------------------
async def test_used_weight_header_raises_the_shared_counter_and_never_lowers_it(make_limiter):
    # Catches ignoring the exchange's headers (other clients on the IP go unseen), reading
    # them case-sensitively, and letting a lower report erase weight we did spend.
    limiter, other_worker = make_limiter(small_limits(weight=50)), make_limiter(small_limits(50))
    await limiter.acquire(5)
    assert await limiter.observe({"x-mbx-used-weight-1m": "30"}) == 25
    assert (await other_worker.usage()).weight == 30
    assert await limiter.observe({"X-Mbx-Used-Weight-1M": "10"}) == 0
    assert (await limiter.usage()).weight == 30
    with pytest.raises(RateLimitBlocked, match="budget"):  # 30 + 15 > 40: the header counts
        await other_worker.acquire(15, max_wait=0)


async def at_phase(fraction: float) -> None:
    """Until the next moment ``fraction`` of the way through a (1 s) window of the exchange."""
    span = SPAN_MS / 1000
    await asyncio.sleep((fraction * span - time.time() % span) % span)


async def test_reported_weight_leaves_when_the_exchanges_window_resets(make_limiter):
    # Catches dating the exchange's count at the time it was read: after a Redis restart the
    # first answer's header then filled the budget for a whole span (the soak's restarts
    # waited 54 s), though the exchange's fixed window reset within seconds.
    limiter = make_limiter(small_limits(weight=50))
    await at_phase(0.6)  # late in the exchange's window
    assert await limiter.observe({"x-mbx-used-weight-1m": "30"}) == 30
    assert (await limiter.usage()).weight == 30
    await at_phase(0.2)  # early in the next one: the exchange counts from zero again
    assert (await limiter.usage()).weight == 0


async def test_order_count_header_raises_the_accounts_order_window(make_limiter):
    # Catches counting orders per process or ignoring X-MBX-ORDER-COUNT-*: an order placed by
    # another program on the account must use up our allowance (here 4 = 80 % of 5).
    limiter = make_limiter(small_limits(orders=5))
    await limiter.acquire(1, account="acct-a", is_order=True)
    await limiter.observe({"x-mbx-order-count-10s": "4"}, account="acct-a")
    assert (await limiter.usage("acct-a")).orders == {ORDERS_HEADER: 4}
    with pytest.raises(RateLimitBlocked, match="orders"):
        await limiter.acquire(1, account="acct-a", is_order=True, max_wait=0)
    await limiter.acquire(1, account="acct-b", is_order=True, max_wait=0)  # its own count


async def test_orders_per_account_wait_for_their_window(make_limiter):
    limiter = make_limiter(small_limits(orders=5))
    grants = [await limiter.acquire(1, account="acct-a", is_order=True) for _ in range(6)]
    assert all(g.waited_s < 0.3 for g in grants[:4])  # 4 = 80 % of 5 per second
    assert grants[4].waited_s >= 0.5  # the fifth waits for the window to move on


# ---- Retry-After ----------------------------------------------------------------------------
async def test_penalty_in_one_process_blocks_acquire_in_another(make_limiter, processes):
    # Catches ignoring Retry-After, or keeping the penalty in the process that got the 429:
    # every worker on the IP must stop until it has passed.
    await in_process(processes, _penalize_in_process, make_limiter.prefix, 1.5, 429)
    limiter = make_limiter()
    left = (await limiter.usage()).blocked_s
    assert left > 0.5
    with pytest.raises(RateLimitBlocked, match="blocked:429") as blocked:
        await limiter.acquire(1, max_wait=0.1)
    assert blocked.value.retry_after == pytest.approx(left, abs=0.2)
    grant = await limiter.acquire(1)
    assert grant.waited_s >= left - 0.25


async def test_ban_is_logged_loudly_and_not_shortened_by_a_later_429(make_limiter):
    # Catches a penalty that the next (shorter) Retry-After overwrites, and a silent 418.
    limiter = make_limiter()
    with structlog.testing.capture_logs() as logs:
        await limiter.penalize(2.0, 418)
        left = await limiter.penalize(0.1, 429)
    assert left > 1.5
    ban = next(entry for entry in logs if entry["event"] == "exchange_ip_banned")
    assert ban["log_level"] == "critical"
    assert ban["egress_ip"] == "198.51.100.7"
    with pytest.raises(RateLimitBlocked, match="blocked:418") as blocked:
        await limiter.acquire(1, max_wait=0.5)
    assert blocked.value.retry_after > 1.0


async def test_report_of_a_429_without_retry_after_blocks_for_a_default(make_limiter):
    limiter = make_limiter()
    await limiter.report(429, {"Content-Type": "application/json"})
    assert (await limiter.usage()).blocked_s > 50  # a minute, as when Binance gives no time


# ---- fairness -------------------------------------------------------------------------------
async def test_noisy_tenant_is_capped_while_a_quiet_tenant_gets_through(make_limiter):
    # Catches one first-come budget for all tenants: the noisy loop would hold the whole
    # window and the quiet tenant would wait behind it every time.
    limits = small_limits(weight=50, share=25.0)  # budget 40, a tenant's cap 10
    noisy_limiter, quiet_limiter = make_limiter(limits), make_limiter(limits)
    noisy: list[tuple[int, int]] = []
    quiet: list[Grant] = []

    async def hammer() -> None:
        while True:
            noisy.append(((await noisy_limiter.acquire(2, account="noisy")).at_ms, 2))

    task = asyncio.create_task(hammer())
    await asyncio.sleep(0.3)  # alone, the noisy tenant may use the whole budget
    alone = sum(w for _, w in noisy)
    for _ in range(10):
        quiet.append(await quiet_limiter.acquire(1, account="quiet"))
        await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert alone > limits.tenant_cap
    assert max(g.waited_s for g in quiet[1:]) < 0.25  # once present, it is never held up
    since_quiet = [(at, w) for at, w in noisy if at > quiet[0].at_ms]
    assert busiest_window(since_quiet) <= limits.tenant_cap


# ---- Redis gone -----------------------------------------------------------------------------
async def test_orders_fail_closed_when_redis_is_unreachable(make_limiter):
    # Catches a limiter that, when Redis errors, lets the request through unthrottled.
    limiter = make_limiter(url="redis://127.0.0.1:1/0")  # nothing listens there
    sent: list[str] = []

    async def send_order() -> str:
        sent.append("order")
        return "sent"

    with pytest.raises(RateLimiterUnavailable) as failed:
        await throttled(limiter, 1, send_order, account="acct-a", is_order=True)
    assert sent == []
    assert isinstance(failed.value, TransientVenueError)
    assert failed.value.retryable
    assert failed.value.order_state_unknown is False  # nothing was sent: safe to retry


# ---- settings -----------------------------------------------------------------------------
async def test_settings_give_the_binance_limiter_of_the_egress_ip():
    settings = load_settings(
        REDIS_URL=REDIS_URL,
        EGRESS_IP="203.0.113.9",
        RATE_LIMIT_WEIGHT_PER_MIN=1200,
        RATE_LIMIT_ORDERS_PER_10S=50,
        RATE_LIMIT_HEADROOM_PCT=90,
        RATE_LIMIT_TENANT_SHARE_PCT=10,
    )
    limiter = RateLimiter.from_settings(settings, "binance")
    try:
        assert limiter.key == "ratelimit:binance:203.0.113.9"
        assert (limiter.limits.budget, limiter.limits.tenant_cap) == (1080, 108)
        assert [limiter.limits.allowed(w) for w in limiter.limits.orders] == [45, 180_000]
        assert limiter.limits.weight.header == WEIGHT_HEADER
        assert (await limiter.usage()).blocked_s >= 0  # it reaches Redis
    finally:
        await limiter.close()


def connection_limits(per_second: int, headroom: float = 100.0) -> RateLimits:
    """``per_second`` new connections a second (1-second window): with no headroom, a burst
    of one, then one every 1/``per_second`` s."""
    return replace(
        small_limits(headroom=headroom), connections=RateWindow(per_second, SPAN_MS / 1000, "")
    )


async def test_new_connections_take_turns_one_slot_apart_across_processes(make_limiter):
    limits = connection_limits(10, headroom=60.0)  # 6 a second, a burst of 2
    assert (limits.connection_burst, limits.connection_interval_ms) == (2, 167)
    first, second = make_limiter(limits), make_limiter(limits)  # two workers on one IP
    waits = await asyncio.gather(*(limiter.connect() for limiter in [first, second] * 3))
    expected = [0.0, 0.0, 0.167, 0.334, 0.501, 0.668]
    assert sorted(waits) == pytest.approx(expected, abs=0.03)


async def test_an_urgent_connection_goes_at_once_and_the_queue_one_slot_later(make_limiter):
    limiter = make_limiter(connection_limits(10))  # a burst of 1, then 100 ms apart
    queued = [asyncio.create_task(limiter.connect()) for _ in range(3)]
    await asyncio.sleep(0.02)  # booked: at 0, 100 and 200 ms
    assert await limiter.connect(urgent=True) == 0.0  # a price stream every run reads
    after = await limiter.connect()
    assert [await task for task in queued] == pytest.approx([0.0, 0.1, 0.2], abs=0.03)
    assert after == pytest.approx(0.4 - 0.02, abs=0.03)  # 300 ms was the urgent one's


async def test_no_connection_opens_uncounted_while_redis_is_down(make_limiter):
    limiter = make_limiter(connection_limits(10), url="redis://127.0.0.1:1/0")
    with pytest.raises(RateLimiterUnavailable):
        await limiter.connect()
