"""Market data fan-out: one ticker poll per (exchange, pair) in a worker, many paper runs on it.

A thousand paper bots on BTC/USDT must not poll the exchange a thousand times: the worker keeps
one ``SharedFeed`` per pair, polling a public (keyless) ``CcxtVenue``, and each run subscribes.
A ``Subscription`` is the run's ``PriceFeed``: the paper venue of the run takes its ticks from
it. Every subscriber sees every tick, in order (the paper engine needs the whole path); a run's
first tick is a jump, as for a run that opens its own feed. A run may say it is quiet
(``runtime.quiet``, a live run does after each tick): it then sees only the ticks that wake it,
found for all the feed's runs at once (``Sleepers``), and ``wake`` hands it the latest price
again when news for it comes another way. A price past the resting orders of a run told of
its fills by stream is only noted for it (``passed``): their fills wake it. A tick is handed
first to the runs it is news for (it left their band, or news woke them), then to those whose
candle close it is. A run's routine look by the clock comes at its own time
(``LOOK_EVERY_S``), with the latest price, not with the next tick: a thousand runs' looks
handed with each tick kept the loop busy for tens of milliseconds after it, and a fill's news
that came then waited behind them. Each sample of latency says whether it was news.

``lockstep`` (a stepped sandbox) polls again only once every run has decided on the last tick,
so the simulator's clock holds while any run is busy, as it does for a run stepping it alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from tradebot.engine.types import MarketRules
from tradebot.observability.logs import get_logger
from tradebot.runtime.ports import (
    Done,
    PriceFeed,
    Tick,
    TransientVenueError,
    VenueError,
    nothing_to_tell,
)
from tradebot.runtime.quiet import Quiet
from tradebot.workers.latency import LatencySample
from tradebot.workers.sleepers import Sleepers

log = get_logger(__name__)
FeedKey = tuple[str, str]
"""(exchange, pair)"""
LOOK_EVERY_S = 0.05
"""How often the feed hands the latest price to the runs whose time to look again has come
(each run's time is its own, spread over seconds: a few runs at each turn)."""
SLOW_DECISION_S = 0.25
"""A decision on news slower than this is logged (``slow_decision``), split into the wait for
the run to take the tick (the event loop busy elsewhere) and its own deciding (its awaits)."""


class FeedEndedError(VenueError):
    """The shared feed a run took its prices from has failed: the run's job starts again."""

    retryable = True


@dataclass(slots=True)
class FeedSamples:
    """The latencies of a worker's runs (``workers.latency``), from the event that woke each."""

    latency: LatencySample = field(default_factory=LatencySample)
    """News to done: the run's orders answered and its writes made (but those behind it),
    whether the run waited for them or went on to its next news."""
    decision: LatencySample = field(default_factory=LatencySample)
    """News to decision: the run knows what to send (before the exchange's round trips)."""
    due: LatencySample = field(default_factory=LatencySample)
    """Handed to decision of the runs woken only because they were due, by the clock or a
    candle close (no news for them)."""

    def clear(self) -> None:
        for sample in (self.latency, self.decision, self.due):
            sample.clear()


class Subscription:
    """One run's view of a shared feed (``runs.live.PriceFeed``)."""

    def __init__(self, feed: SharedFeed) -> None:
        self._feed = feed
        self._ticks: deque[tuple[Tick | VenueError | None, float, bool]] = deque()
        self._ready = asyncio.Event()
        self._received_at: float | None = None
        self._undecided_at: float | None = None
        """When the tick the run is deciding on was received, until it has decided."""
        self._taken_at = 0.0
        """When the run took that tick."""
        self._news_tick = True
        """The tick it is deciding on is news to it (not only a due look): sampled as such."""
        self._took = False
        self._first = True
        self._news = False
        self._passed: list[tuple[float, float]] = []
        """Prices past its lines it slept through (``Quiet.lines``), with when they came."""
        self._asleep = False
        self.busy = False
        """A tick was delivered and the run has not asked for the next one yet."""
        self.closed = False
        self.started = asyncio.Event()
        """Set once the run has decided on its first tick: it is loaded, reconciled and its
        book placed (the worker lets only so many runs start at once)."""

    def quiet(self, quiet: Quiet) -> None:
        if self._news:  # news came while it was deciding: it decides again at once instead
            self._news = False
            self._feed.rouse(self)
        else:
            self._feed.sleepers.sleep(self, quiet)
            self._asleep = True

    def wake(self) -> None:
        if self.closed:  # news for a run that has left the feed (its venue closing)
            return
        if self._ticks:
            # A tick waits, not taken yet: the run looks at its venue when it takes it, and
            # sees this news then (a fill's order update and its trade are two pieces of news
            # a moment apart: one decision, not a second one on nothing new). That decision is
            # on news now, timed from when the tick came (no later than the news).
            tick, received_at, _news = self._ticks[-1]
            self._ticks[-1] = (tick, received_at, True)
            return
        if self.busy and not self._asleep:
            self._news = True  # it is deciding and may have looked already: it looks again
        else:
            self._feed.rouse(self)

    def deliver(
        self, tick: Tick | VenueError | None, received_at: float, news: bool = True
    ) -> None:
        self._asleep = False
        if self._first and isinstance(tick, Tick):
            tick = dataclasses.replace(tick, direction=None)
            self._first = False
        self._ticks.append((tick, received_at, news))
        self._ready.set()
        self.busy = True

    def note_passed(self, price: float) -> None:
        self._passed.append((price, time.perf_counter()))

    def passed(self) -> list[tuple[float, int]]:
        now, passed, self._passed = time.perf_counter(), self._passed, []
        return [(price, round((now - at) * 1000)) for price, at in passed]

    async def market_rules(self) -> MarketRules:
        return await self._feed.market_rules()

    def decided(self) -> Done:
        if self._undecided_at is not None:
            now = time.perf_counter()
            sample = self._feed.samples.decision if self._news_tick else self._feed.samples.due
            sample.add((now - self._undecided_at) * 1000)
            if self._news_tick and now - self._undecided_at > SLOW_DECISION_S:
                log.warning(
                    "slow_decision",
                    waited_ms=round((self._taken_at - self._undecided_at) * 1000, 1),
                    deciding_ms=round((now - self._taken_at) * 1000, 1),
                )
            self._undecided_at = None
        received, self._received_at = self._received_at, None
        if received is None or not self._news_tick:
            return nothing_to_tell
        latency = self._feed.samples.latency
        return lambda: latency.add((time.perf_counter() - received) * 1000)

    async def next_tick(self) -> Tick | None:
        if self._received_at is not None:  # the run did not say: it is done as it asks again
            self.decided()()
        if self._took:
            self.started.set()
        if not self._ticks:
            self._feed.idle(self)
            self._ready.clear()
            await self._ready.wait()
        tick, self._received_at, self._news_tick = self._ticks[0]
        if isinstance(tick, Tick):
            self._ticks.popleft()
            self._undecided_at = self._received_at
            self._taken_at = time.perf_counter()
            self._took = True
            return tick
        self._received_at = None  # the feed has ended for good: every later call says so too
        if tick is None:
            return None
        if isinstance(tick, TransientVenueError):
            # Not a tick lost that the run waits out (it would ask again at once, for ever):
            # the run ends, and its job retries later, on a new feed.
            raise FeedEndedError(f"the price feed ended: {tick}") from tick
        raise tick

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            await self._feed.unsubscribe(self)


class SharedFeed:
    """One poll loop over a ``PriceFeed``, delivering each tick to every subscriber."""

    def __init__(
        self,
        source: PriceFeed,
        samples: FeedSamples,
        *,
        lockstep: bool = False,
        on_empty: Callable[[SharedFeed], None] = lambda _feed: None,
    ) -> None:
        self.source = source
        self.samples = samples
        self.lockstep = lockstep
        self._on_empty = on_empty
        self._subscribers: list[Subscription] = []
        self.sleepers: Sleepers[Subscription] = Sleepers()
        self._last: Tick | None = None
        self._busy = 0
        self._all_idle = asyncio.Event()
        self._rules: MarketRules | None = None
        self._rules_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._looks: asyncio.Task[None] | None = None
        self._end: VenueError | None = None
        self._ended = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def market_rules(self) -> MarketRules:
        async with self._rules_lock:  # the first run loads the markets; the others wait for it
            if self._rules is None:
                self._rules = await self.source.market_rules()
            return self._rules

    def subscribe(self) -> Subscription:
        subscription = Subscription(self)
        self._subscribers.append(subscription)
        self.sleepers.add(subscription)
        if self._ended:
            self._busy += 1
            subscription.deliver(self._end, time.perf_counter())
        elif self._task is None:
            self._task = asyncio.create_task(self._poll())
            self._looks = asyncio.create_task(self._look_when_due())
        return subscription

    async def unsubscribe(self, subscription: Subscription) -> None:
        self.idle(subscription)
        self._subscribers.remove(subscription)
        self.sleepers.remove(subscription)
        if not self._subscribers:
            self._on_empty(self)
            for task in (self._task, self._looks):
                if task is not None:
                    task.cancel()
            await self.source.close()

    def idle(self, subscription: Subscription) -> None:
        """``subscription`` has decided on everything delivered to it."""
        if subscription.busy:
            subscription.busy = False
            self._busy -= 1
            if self._busy == 0:
                self._all_idle.set()

    async def _poll(self) -> None:
        try:
            while True:
                while self.lockstep and self._busy:
                    self._all_idle.clear()
                    await self._all_idle.wait()
                tick = await self.source.next_tick()
                self._deliver(tick)
                if tick is None:
                    self._ended = True
                    return
        except Exception as exc:  # every run on the pair must hear of it
            # Each run sees the error and its job retries later, on a new feed.
            log.warning("feed_failed", error=str(exc))
            error = exc if isinstance(exc, VenueError) else TransientVenueError(f"feed: {exc}")
            self._ended, self._end = True, error
            self._on_empty(self)
            self._deliver(error)

    async def _look_when_due(self) -> None:
        while True:
            await asyncio.sleep(LOOK_EVERY_S)
            if self._last is None or self._ended:
                continue
            due = self.sleepers.due(int(time.time() * 1000))
            if due:
                again = self._again()  # one tick (frozen) for all of them
                for subscription in due:
                    self._hand(subscription, again, news=False)

    def rouse(self, subscription: Subscription) -> None:
        """The latest price again, now, for a run (queued behind what it was handed before)."""
        if self._last is not None and not self._ended:
            self._hand(subscription, self._again())

    def _again(self) -> Tick:
        """The latest tick, handed again: no move from the last price, and no candle's close
        (a run that took it already closed that candle; one asleep had no close due)."""
        assert self._last is not None
        return dataclasses.replace(self._last, direction=None, closes_candle=False)

    def _deliver(self, tick: Tick | VenueError | None) -> None:
        due: list[Subscription] = []
        if isinstance(tick, Tick):
            self._last = tick
            news, due, passed = self.sleepers.woken(tick, int(time.time() * 1000))
            for subscription in passed:
                subscription.note_passed(tick.price)
        else:
            news = list(self._subscribers)
        received_at = time.perf_counter()
        for subscription in news:
            self._hand(subscription, tick, received_at)
        for subscription in due:  # after the runs the tick is news to: they decide first
            self._hand(subscription, tick, received_at, news=False)

    def _hand(
        self,
        subscription: Subscription,
        tick: Tick | VenueError | None,
        received_at: float | None = None,
        *,
        news: bool = True,
    ) -> None:
        self.sleepers.wake(subscription)  # awake until it says otherwise after this tick
        if not subscription.busy:
            self._busy += 1
        subscription.deliver(tick, received_at or time.perf_counter(), news)


class MarketFeeds:
    """The worker's feeds by (exchange, pair), opened on the first subscriber, closed after the
    last one leaves."""

    def __init__(
        self, open_source: Callable[[str, str], PriceFeed], *, lockstep: bool = False
    ) -> None:
        self._open = open_source
        self.lockstep = lockstep
        self.samples = FeedSamples()
        self._feeds: dict[FeedKey, SharedFeed] = {}

    def subscribe(self, exchange: str, pair: str) -> Subscription:
        key = (exchange, pair)
        feed = self._feeds.get(key)
        if feed is None:
            feed = SharedFeed(
                self._open(exchange, pair),
                self.samples,
                lockstep=self.lockstep,
                on_empty=lambda done, key=key: self._drop(key, done),  # type: ignore[misc]
            )
            self._feeds[key] = feed
        return feed.subscribe()

    def _drop(self, key: FeedKey, feed: SharedFeed) -> None:
        if self._feeds.get(key) is feed:
            del self._feeds[key]

    def __len__(self) -> int:
        return len(self._feeds)
