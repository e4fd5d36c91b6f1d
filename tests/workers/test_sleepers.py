"""Quiet runs on a shared feed: which ticks wake which run, and the band a run computes."""

from __future__ import annotations

import asyncio
import time

import pytest
from structlog.testing import capture_logs

from tradebot.engine.orders import OrderStatus
from tradebot.engine.risk import GuardThresholds
from tradebot.engine.types import MarketRules, Side
from tradebot.runtime.ports import Tick, TransientVenueError
from tradebot.runtime.quiet import QUIET_MAX_MS, Quiet, guard_floor, lines, wake_by
from tradebot.runtime.store import StoredOrder
from tradebot.workers.feed import (
    SLOW_DECISION_S,
    FeedEndedError,
    FeedSamples,
    SharedFeed,
    Subscription,
)
from tradebot.workers.sleepers import Sleepers
from tradebot.workers.state import RunHandle, StopCause

QUIET = Quiet(below=99.0, above=101.0, close_after=5_000, wake_at=10_000)


def tick(ts: int, price: float, *, closes: bool = False) -> Tick:
    return Tick(ts, price, None, closes_candle=closes)


NOW = 1_000  # the wall clock's ms when the ticks arrive


def test_a_quiet_owner_wakes_outside_its_band_at_a_due_close_or_past_its_time() -> None:
    sleepers: Sleepers[str] = Sleepers(capacity=2)
    for owner in ("a", "b", "c"):  # past the first capacity: the arrays grow
        sleepers.add(owner)
    # (news to them: their band left or they are awake; only due: a close they wait for)
    assert sleepers.woken(tick(1, 100.0), NOW) == (["a", "b", "c"], [], [])  # new: awake
    sleepers.sleep("a", QUIET)
    sleepers.sleep("b", QUIET)
    assert sleepers.woken(tick(2, 100.0), NOW) == (["c"], [], [])
    assert sleepers.woken(tick(3, 99.0), NOW) == (["a", "b", "c"], [], [])  # a buy touched
    assert sleepers.woken(tick(4, 101.5), NOW) == (["a", "b", "c"], [], [])
    assert sleepers.woken(tick(4_999, 100.0, closes=True), NOW) == (["c"], [], [])
    assert sleepers.woken(tick(5_000, 100.0, closes=True), NOW) == (["c"], ["a", "b"], [])
    assert sleepers.woken(tick(5_000, 98.0, closes=True), NOW) == (["a", "b", "c"], [], [])
    # A look by the clock is asked between ticks: the awake owner is never "due".
    assert sleepers.due(9_999) == []
    assert sleepers.due(10_000) == ["a", "b"]
    sleepers.remove("a")  # "c" moves into its slot and keeps its own (awake) state
    assert sleepers.woken(tick(2, 100.0), NOW) == (["c"], [], [])
    assert sleepers.due(10_000) == ["b"]
    sleepers.wake("b")
    assert sleepers.woken(tick(2, 100.0), NOW) == (["c", "b"], [], [])  # in slot order
    assert sleepers.due(10_000) == []


def test_a_price_past_a_line_of_an_owner_told_of_its_fills_wakes_it_after_the_grace() -> None:
    sleepers: Sleepers[str] = Sleepers()
    for owner in ("told", "looks"):
        sleepers.add(owner)
    told = Quiet(90.0, float("inf"), 2**62, 10_000, lines=(99.0, 101.0), grace_ms=2_000)
    sleepers.sleep("told", told)  # its fills come by stream: a line passed does not wake it
    sleepers.sleep("looks", Quiet(99.0, 101.0, 2**62, 10_000))  # it finds its fills by looking
    assert sleepers.woken(tick(2, 98.5), NOW) == (["looks"], [], ["told"])
    assert sleepers.due(NOW + 1_999) == []
    assert sleepers.due(NOW + 2_000) == ["told"]  # its fill did not come: it looks
    sleepers.sleep("told", told)
    assert sleepers.woken(tick(3, 98.5), NOW)[2] == ["told"]
    assert sleepers.woken(tick(4, 98.7), NOW)[2] == []  # not past its last low
    assert sleepers.woken(tick(5, 98.0), NOW + 500)[2] == ["told"]  # a new low: noted
    assert sleepers.due(NOW + 2_000) == ["told"]  # the first one's grace, not the last's
    assert sleepers.woken(tick(6, 101.0), NOW)[2] == ["told"]  # the sell's side
    assert sleepers.woken(tick(7, 89.0), NOW) == (["told", "looks"], [], [])  # a guard: news


def order(side: Side, price: float, kind: str = "limit") -> StoredOrder:
    return StoredOrder(f"{side}-{price}", 1, 1, side, kind, price, 0.01, OrderStatus.OPEN, 0)


def test_the_band_is_the_nearest_lines_and_the_prices_where_a_loss_guard_trips() -> None:
    thresholds = GuardThresholds(200.0, 500.0, 20, 30_000)
    orders = [order(Side.BUY, 95.0), order(Side.BUY, 97.0), order(Side.SELL, 103.0)]
    orders += [order(Side.SELL, 105.0), order(Side.BUY, 99.5, kind="market")]
    assert lines(orders) == (97.0, 103.0)
    quiet = {"quote": 500.0, "investment": 1_000.0, "others_drawdown": 0.0}
    assert guard_floor(base=0.0, peak=1_000.0, thresholds=thresholds, **quiet) == float("-inf")
    # 5 base: equity 500 + 5p; a run loss over 200 below p = 60, the client's drawdown over
    # 500 (others 100 already, this run's peak 1,390) below p = 98: above the highest buy.
    quiet["others_drawdown"] = 100.0
    floor = guard_floor(base=5.0, peak=1_390.0, thresholds=thresholds, **quiet)
    assert floor == pytest.approx(98.0)


def test_runs_wake_at_spread_times_within_the_longest_sleep() -> None:
    times = {wake_by(f"run-{n}", 1_000_000) for n in range(50)}
    assert all(1_000_000 + QUIET_MAX_MS // 2 < t <= 1_000_000 + QUIET_MAX_MS for t in times)
    assert len(times) > 40


class ListedPrices:
    """A feed source of fixed ticks (the exchange's stream stands behind it in a worker)."""

    def __init__(self, ticks: list[Tick]) -> None:
        self.ticks = ticks
        self.more = asyncio.Event()

    async def market_rules(self) -> MarketRules:
        return MarketRules()

    async def next_tick(self) -> Tick | None:
        while not self.ticks:
            await self.more.wait()
            self.more.clear()
        return self.ticks.pop(0)

    async def close(self) -> None:
        return None


async def test_a_quiet_subscription_sleeps_and_news_wakes_it_with_the_latest_price() -> None:
    source = ListedPrices([tick(1, 100.0)])
    far = Quiet(below=99.0, above=101.0, close_after=5_000, wake_at=2**62)
    feed = SharedFeed(source, FeedSamples())
    run = feed.subscribe()
    assert (await run.next_tick()) == tick(1, 100.0)
    run.quiet(far)
    source.ticks += [tick(2, 100.2), tick(3, 100.4), tick(4, 98.5)]
    source.more.set()
    woken = await asyncio.wait_for(run.next_tick(), 2)
    assert woken is not None
    assert (woken.ts, woken.price) == (4, 98.5)  # the two quiet ticks were not handed over
    run.quiet(far)
    run.wake()  # e.g. a fill on the user-data stream
    again = await asyncio.wait_for(run.next_tick(), 2)
    assert again is not None
    assert (again.ts, again.price, again.direction) == (4, 98.5, None)
    run.wake()  # news while it decides: its next quiet is refused, it decides again at once
    run.quiet(far)
    assert (await asyncio.wait_for(run.next_tick(), 2)) is not None
    await run.close()


async def test_news_for_a_run_with_a_tick_waiting_is_seen_when_it_takes_that_tick() -> None:
    # Naive: a fill's order update and its trade (two rows of the user stream, a moment
    # apart) woke a quiet run twice: it decided on both, then again on nothing new.
    source = ListedPrices([tick(1, 100.0)])
    far = Quiet(below=99.0, above=101.0, close_after=5_000, wake_at=2**62)
    samples = FeedSamples()
    feed = SharedFeed(source, samples)
    run = feed.subscribe()
    await run.next_tick()
    run.quiet(far)
    run.wake()  # the order's update
    run.wake()  # its trade, before the run has taken the tick the update handed it
    assert await asyncio.wait_for(run.next_tick(), 2) is not None
    run.quiet(far)  # asleep: no third decision
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run.next_tick(), 0.2)
    assert samples.decision.count == 2
    run.quiet(Quiet(below=90.0, above=110.0, close_after=2**62, wake_at=0))  # due: a look
    await asyncio.sleep(0.2)  # the look is handed over; a fill comes before it is taken
    run.wake()
    await asyncio.wait_for(run.next_tick(), 2)
    run.decided()
    assert (samples.decision.count, samples.due.count) == (3, 0)  # a decision on news
    await run.close()


async def test_a_stop_or_a_new_grid_edit_wakes_a_run_asleep_on_its_feed() -> None:
    # Naive: the stop event was set and the run, asleep until its next look by the clock,
    # saw it up to ten seconds later (a client's kill switch too).
    source = ListedPrices([tick(1, 100.0)])
    feed = SharedFeed(source, FeedSamples())
    run = feed.subscribe()
    handle = RunHandle("client", "run", "job", wake=run.wake)
    asleep = Quiet(below=90.0, above=110.0, close_after=2**62, wake_at=2**62)
    await run.next_tick()
    run.quiet(asleep)
    handle.flag_edit(True)
    assert await asyncio.wait_for(run.next_tick(), 1) is not None
    run.quiet(asleep)
    handle.flag_edit(True)  # the same edit, still queued: no news
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(run.next_tick(), 0.2)
    handle.request_stop(StopCause.USER, "stopped on request")
    assert await asyncio.wait_for(run.next_tick(), 1) is not None
    assert handle.stop.is_set()
    await run.close()


class FailingPrices(ListedPrices):
    async def next_tick(self) -> Tick | None:
        if not self.ticks:
            raise TransientVenueError("rate limit: budget, retry in 30 s")
        return await super().next_tick()


async def test_a_failed_feed_ends_its_runs_once_instead_of_losing_ticks_for_ever() -> None:
    # Naive: the feed's error raised as a lost tick: the run asks again at once, for ever (a
    # hundred thousand errors in 24 s, its error guard tripped, the worker starved).
    feed = SharedFeed(FailingPrices([tick(1, 100.0)]), FeedSamples())
    run = feed.subscribe()
    assert await run.next_tick() == tick(1, 100.0)
    with pytest.raises(FeedEndedError) as ended:
        await asyncio.wait_for(run.next_tick(), 2)
    assert ended.value.retryable  # the run's job starts it again, on a new feed
    assert not isinstance(ended.value, TransientVenueError)
    await run.close()


async def test_each_tick_is_timed_to_the_runs_decision_once_and_to_when_it_is_done() -> None:
    source = ListedPrices([tick(1, 100.0), tick(2, 100.5)])
    samples = FeedSamples()
    done, decision = samples.latency, samples.decision
    feed = SharedFeed(source, samples)
    run = feed.subscribe()
    await run.next_tick()
    answered = run.decided()  # before its orders go out
    run.decided()  # and again once they went out: the first one counts
    assert (decision.count, done.count) == (1, 0)
    # A run that sends behind it asks for its next tick before its orders are answered:
    # the first tick is done when the run says so, not when it asks again.
    assert await run.next_tick() == tick(2, 100.5)
    assert (decision.count, done.count) == (1, 0)
    answered()
    assert (decision.count, done.count) == (1, 1)
    source.ticks.append(tick(3, 101.0))
    source.more.set()
    await asyncio.wait_for(run.next_tick(), 2)  # a run that never said: decided when it asks
    assert (decision.count, done.count) == (2, 2)
    assert decision.percentile(1.0) <= done.percentile(1.0) + 1e-6
    await run.close()


async def test_a_tick_goes_first_to_the_runs_it_is_news_to_and_is_timed_as_what_it_was() -> None:
    # Naive: a tick wakes its runs in slot order, and a run whose line it crossed decides
    # behind every run that was only due at that candle's close.
    source = ListedPrices([tick(1, 100.0)])
    samples = FeedSamples()
    feed = SharedFeed(source, samples)
    due, crossed = feed.subscribe(), feed.subscribe()  # the due run has the first slot
    for run in (due, crossed):
        await run.next_tick()
        run.decided()
    due.quiet(Quiet(below=90.0, above=110.0, close_after=2, wake_at=2**62))  # a close due
    crossed.quiet(Quiet(below=99.0, above=101.0, close_after=2**62, wake_at=2**62))
    samples.clear()
    decided: list[str] = []

    async def decide(run: Subscription, name: str) -> None:
        await run.next_tick()
        decided.append(name)
        run.decided()

    runs = [asyncio.create_task(decide(due, "due")), asyncio.create_task(decide(crossed, "news"))]
    await asyncio.sleep(0)
    source.ticks.append(tick(2, 98.0, closes=True))  # past the crossed run's buy line only
    source.more.set()
    await asyncio.wait_for(asyncio.gather(*runs), 2)
    assert decided == ["news", "due"]
    assert (samples.decision.count, samples.due.count) == (1, 1)
    await due.close()
    await crossed.close()


async def test_news_for_a_run_that_has_left_the_feed_is_dropped() -> None:
    # Naive: a closing venue's last news (its background read cancelled) handed the run a
    # tick: counted busy for ever, a stepped sandbox's feed waited for it and never moved on.
    source = ListedPrices([tick(1, 100.0)])
    feed = SharedFeed(source, FeedSamples(), lockstep=True)
    gone, staying = feed.subscribe(), feed.subscribe()
    for run in (gone, staying):
        await run.next_tick()
    await gone.close()
    gone.wake()
    assert not gone.busy
    await staying.close()


async def test_a_run_looks_again_at_its_time_between_ticks_with_the_latest_price() -> None:
    # Naive: the runs due to look again were handed the next tick, all at once: at 1,000
    # runs, about 200 looks after every tick kept the loop busy for tens of milliseconds, and
    # a fill's news that came then waited behind them.
    source = ListedPrices([tick(59_999, 100.0, closes=True)])
    samples = FeedSamples()
    feed = SharedFeed(source, samples)
    run = feed.subscribe()
    assert await run.next_tick() == tick(59_999, 100.0, closes=True)
    run.decided()
    samples.clear()
    now_ms = int(time.time() * 1000)
    run.quiet(Quiet(below=90.0, above=110.0, close_after=2**62, wake_at=now_ms + 150))
    looked = asyncio.ensure_future(run.next_tick())
    await asyncio.sleep(0.1)
    assert not looked.done()  # asleep until its time, with no tick coming
    again = await asyncio.wait_for(looked, 2)
    assert int(time.time() * 1000) >= now_ms + 150
    # The same price again: no move, and not a second close of the candle it had closed.
    assert again == Tick(59_999, 100.0, None, closes_candle=False)
    run.decided()
    assert (samples.decision.count, samples.due.count) == (0, 1)
    await run.close()


async def test_a_run_told_of_its_fills_sleeps_through_its_lines_and_hears_what_it_passed() -> None:
    # Naive: a live run woke at every price past its orders, then again at their fills a
    # moment later: a crowd of runs one price crossed decided twice, the first time on nothing,
    # and the fills' decisions waited behind those.
    source = ListedPrices([tick(1, 100.0)])
    samples = FeedSamples()
    feed = SharedFeed(source, samples)
    run = feed.subscribe()
    await run.next_tick()
    run.decided()
    samples.clear()
    told = Quiet(90.0, float("inf"), 2**62, 2**62, lines=(99.0, 101.0), grace_ms=300)
    run.quiet(told)
    looked = asyncio.ensure_future(run.next_tick())
    source.ticks += [tick(2, 98.5), tick(3, 98.8), tick(4, 97.0), tick(5, 100.0)]
    source.more.set()
    await asyncio.sleep(0.1)
    assert not looked.done()  # past its buy: noted, not woken
    run.wake()  # its fill, by stream
    again = await asyncio.wait_for(looked, 2)
    assert again is not None
    assert again.price == 100.0
    passed = run.passed()
    assert [price for price, _ago in passed] == [98.5, 97.0]  # each new low, once
    assert all(0 <= ago < 1_000 for _price, ago in passed)
    assert run.passed() == []
    run.decided()
    assert (samples.decision.count, samples.due.count) == (1, 0)  # one decision: the fill's
    # A fill that never comes: the run looks once the grace is over.
    run.quiet(told)
    source.ticks.append(tick(6, 98.0))
    source.more.set()
    started = time.monotonic()
    assert await asyncio.wait_for(run.next_tick(), 2) is not None
    assert time.monotonic() - started >= 0.25
    assert [price for price, _ago in run.passed()] == [98.0]
    await run.close()


async def test_a_slow_decision_on_news_is_logged_with_where_its_time_went() -> None:
    source = ListedPrices([tick(1, 100.0), tick(2, 100.5)])
    feed = SharedFeed(source, FeedSamples())
    run = feed.subscribe()
    await run.next_tick()
    with capture_logs() as logs:
        run.decided()  # at once: not logged
        await run.next_tick()
        await asyncio.sleep(SLOW_DECISION_S + 0.05)  # the run's own awaits, say a REST read
        run.decided()
    await run.close()
    [slow] = [entry for entry in logs if entry["event"] == "slow_decision"]
    assert slow["log_level"] == "warning"
    assert slow["deciding_ms"] >= SLOW_DECISION_S * 1000
    assert slow["waited_ms"] < slow["deciding_ms"]
