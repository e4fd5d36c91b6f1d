"""The run loop that paper replay, paper-on-live-prices and live trading all share.

load -> refuse if a guard is tripped -> reconcile -> (start) -> for each tick: trades in,
fills recorded and applied, book synced, equity marked, guards checked. The loop never knows
which venue it drives.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from tradebot.engine import core
from tradebot.engine.errors import GridPlanError
from tradebot.engine.orders import OrderStatus
from tradebot.engine.plan import build_plan
from tradebot.engine.regime import Regime, RegimeAnalysis, analyse
from tradebot.engine.risk import ApiErrorWindow, Guard, GuardThresholds, Trip, check_guards
from tradebot.engine.strategy import GridInvariantError, GridStrategy, WantedOrder
from tradebot.engine.types import FeeAsset, FeeConvention, GridConfig, Side
from tradebot.errors import TradeBotError
from tradebot.kit.clock import Laps
from tradebot.observability.logs import bind_log_context, get_logger
from tradebot.observability.run_events import run_observer
from tradebot.runtime.asking import AskSchedule
from tradebot.runtime.book import Funds, affordable, diff_book, whole_lots
from tradebot.runtime.grid_edits import GridEdit, GridEdits, edited_config
from tradebot.runtime.journal import Journal
from tradebot.runtime.order_manager import OrderManager, OrderPolicy, Rejection
from tradebot.runtime.ports import (
    Done,
    FatalVenueError,
    OrderReport,
    Tick,
    TradeReport,
    TransientVenueError,
    Venue,
    VenueError,
    VenueOrderStatus,
    nothing_to_tell,
)
from tradebot.runtime.quiet import Quiet, guard_floor, lines, wake_by
from tradebot.runtime.reconcile import reconcile_order
from tradebot.runtime.sends import Sends
from tradebot.runtime.store import (
    FillRecord,
    InventorySnapshot,
    OrderUpdate,
    RunRecord,
    RunStore,
    StoredOrder,
)

log = get_logger(__name__)
STOP_REQUESTED = "stop requested"
"""The stop reason of a run whose stop event ended it without saying why."""
HOUR_MS = 3_600_000
REGIME_WINDOW = 720
"""Closes the regime analysis reads (12 hours of 1-minute candles)."""
EDIT_CHECK_INTERVAL_MS = 1_000
"""How often a run asks its store for an edit of its grid (one query, not one per tick)."""
LIST_FROM = 2
"""Orders to reconcile from which one read of the open orders is cheaper than a query each."""


class RunBlockedError(TradeBotError):
    """A guard of this run (or the client's kill switch) is tripped: an operator must reset it."""


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    thresholds: GuardThresholds
    orders: OrderPolicy = field(default_factory=OrderPolicy)
    snapshot_interval_ms: int = HOUR_MS
    regime_interval_ms: int = 6 * HOUR_MS
    regime_auto_adjust: bool = False
    write_behind: bool = False
    """What is safe to lose (orders' acknowledgements, a tick's last fills) is written by a
    task behind the run, which goes on to its next decision (``runtime.journal``)."""
    send_behind: bool = False
    """A tick's new orders are written ahead and sent by a task of the run's (one at a time,
    in order), while the run goes on to decide on its next news (``runtime.sends``)."""


@dataclass(slots=True)
class RunOutcome:
    run_id: str
    status: str
    reason: str | None
    equity_ts: list[int] = field(default_factory=list)
    equity: list[float] = field(default_factory=list)
    fee_convention: FeeConvention = FeeConvention.QUOTE_FEE
    """How the run's fees were booked: as its fills said the venue took them."""


@dataclass(slots=True)
class _Partial:
    """Trades of an order not yet complete: the engine sees an order only once it is filled.
    Their fees are kept by where the venue took them, each trade as it reported it."""

    qty: float = 0.0
    notional: float = 0.0
    fee: float = 0.0
    """Paid in quote."""
    fee_base: float = 0.0
    """Taken out of the base, in base."""
    fee_elsewhere: float = 0.0
    """Paid in another asset, valued in quote."""

    def add(self, price: float, qty: float, fee: float, paid_in: FeeAsset) -> None:
        """One trade; ``fee`` as venues report it, valued in quote (a base fee at ``price``)."""
        self.qty += qty
        self.notional += price * qty
        if paid_in is FeeAsset.BASE:
            self.fee_base += fee / price
        elif paid_in is FeeAsset.OTHER:
            self.fee_elsewhere += fee
        else:
            self.fee += fee


def _fill_order(trade: TradeReport) -> tuple[int, float]:
    return trade.ts, -trade.price if trade.side is Side.BUY else trade.price


class GridRunner:
    def __init__(
        self,
        record: RunRecord,
        strategy: GridStrategy,
        venue: Venue,
        store: RunStore,
        settings: RunnerSettings,
        wall_clock: Callable[[], int] | None = None,
        stop: asyncio.Event | None = None,
        stop_reason: Callable[[], str | None] | None = None,
        grid_edits: GridEdits | None = None,
        quiet: Callable[[Quiet], None] | None = None,
        decided: Callable[[], Done | None] | None = None,
        wake: Callable[[], None] | None = None,
        laps: Laps | None = None,
        ready: Awaitable[None] | None = None,
    ) -> None:
        self.record = record
        self.strategy = strategy
        self.venue = venue
        self.store = store
        self.settings = settings
        self.now = record.clock_ts
        self._wall_clock = wall_clock
        self._stop = stop
        self._stop_reason = stop_reason
        """Why ``stop`` was set, when its setter says (recorded as the run's stop reason)."""
        self._grid_edits = grid_edits
        self._next_edit_check = 0
        self._quiet = quiet
        """Told after each tick until when the run has nothing to decide (a shared feed then
        wakes it only for ticks that matter to it)."""
        self._decided = decided
        """Told when the run has decided on a tick: before its orders go out. It may answer
        with what to tell once the tick is done (its orders answered)."""
        self._tick_done: Done | None = None
        self._ready = ready
        """Awaited once the book is read, before anything is sent (a live key's check)."""
        self._live = False
        """It has decided on a tick since it (re)started: its book is known, it trades."""
        self._laps = laps or Laps()
        """The start's steps so far (its caller's, then the book's and the first tick's)."""
        self._errors = ApiErrorWindow()
        self.observer = run_observer(record.client_id, record.run_id, record.pair)
        venue.on_error = self._count_error  # retried reads count against the error budget too
        self.journal = Journal(
            store, lambda: (self.strategy.state.tolist(), self.now), behind=settings.write_behind
        )
        """Every write of the run's orders and state: its fills ride along with the next one."""
        self.orders = OrderManager(
            record.run_id,
            venue,
            self.journal,
            settings.orders,
            lambda: self.now,
            self._count_error,
            observer=self.observer,
        )
        self.sends = Sends(self.orders, wake)
        """The send stage: with ``send_behind``, a tick's new limits go out behind the run."""
        self._partials: dict[str, _Partial] = {}
        self._seen: set[str] = set()
        self._may_top_up = True
        """A market buy may restore missing base only at the start and after a restart."""
        self._entry_replacements = 0
        self._last_fill_ts = 0
        self._missing_since: dict[str, int] = {}
        self._asking = AskSchedule(first_ms=settings.orders.ask_again_ms)
        """When each order in doubt is asked about again (not at every price event)."""
        self._unasked: set[str] = set()
        """Orders the venue could not be asked about (a transient error): asked again at each
        tick, and until then no order is placed, for the book they might have changed."""
        self._book_dirty = True
        self._last_tick_ts = record.clock_ts
        self._fresh_at = wall_clock() if wall_clock is not None else 0
        """Wall-clock time of the last tick whose market time moved on (staleness is measured
        by our clock, so a venue whose clock lags ours, or a sandbox replaying 2024, is fine)."""
        self._last_price: float | None = None
        self._next_snapshot = 0
        """Snapshots come at the run's first close, then at its own phase of the interval (and
        when it finishes)."""
        self._next_regime = 0
        self._others_drawdown = 0.0
        self.outcome = RunOutcome(record.run_id, status="running", reason=None)

    def _count_error(self, error: VenueError) -> None:
        log.warning("venue_error", run_id=self.record.run_id, error=str(error))
        self.observer.venue_error(type(error).__name__)
        self._errors.add(self._wall_now())

    # ---- the loop -----------------------------------------------------------------------
    async def run(self) -> RunOutcome:
        # Every later line of this run, ours and the libraries', says whose run it is.
        record = self.record
        bind_log_context(client_id=record.client_id, run_id=record.run_id, pair=record.pair)
        try:
            return await self._run()
        finally:
            await self.sends.quiesce()
            await self.journal.written()
            self.observer.ended()  # its per-run series leave with it: run ids stay bounded

    async def _run(self) -> RunOutcome:
        trip = await self.store.active_trip()
        if trip is not None:
            if self._ready is not None:
                await self._ready  # a key refused at this start says so (it may have tripped)
            await self._withdraw()
            raise RunBlockedError(
                f"run {self.record.run_id} is stopped by guard {trip.guard}: {trip.reason} "
                "(an operator must reset it)"
            )
        await self.orders.load()
        await self._load_fills()
        if self.record.status in ("tripped", "stopped"):
            self.strategy.resume()  # its guard was reset (or it was only paused): trade again
        await self.store.set_status("running")
        try:
            await self._reconcile(list(self.orders.active.values()))
            self._laps.lap("book")
            if self._ready is not None:
                await self._ready
                self._laps.lap("ready")
            ticking = False
            while not self.strategy.stopped:
                if self._stop is not None and self._stop.is_set():
                    # A plain stop leaves the orders on the venue (a restart reconciles and
                    # adopts them); a tripped guard or the client's kill switch cancels them
                    # first, as the run's own trip does.
                    said = self._stop_reason() if self._stop_reason is not None else None
                    await self.sends.answered()
                    if await self.store.active_trip() is not None:
                        await self._cancel_resting()
                    await self._finish("stopped", said or STOP_REQUESTED)
                    break
                try:
                    tick = await self.venue.next_tick()
                    if tick is None:
                        await self._finish("finished", "replay complete")
                        break
                    await self._on_tick(tick)
                    if not ticking:  # its requests answered too (an order may time out)
                        ticking = True
                        self._laps.lap("requests")
                        log.info("run_first_tick_done", run_id=self.record.run_id, **self._laps.ms)
                except TransientVenueError as exc:
                    # The venue is unreachable for now (its reads already retried with
                    # backoff): this tick is lost, the next poll picks up where it left off.
                    self._count_error(exc)
                    await self._check_guards(self._last_price)
                finally:
                    self._end_tick()
        except FatalVenueError as exc:
            await self._trip(Trip(Guard.VENUE, str(exc)))
        except Rejection as exc:
            await self._trip(
                Trip(
                    Guard.INSUFFICIENT_FUNDS if exc.insufficient_funds else Guard.INVARIANT,
                    str(exc),
                )
            )
        except GridInvariantError as exc:
            await self._trip(Trip(Guard.INVARIANT, str(exc)))
        return self.outcome

    async def _on_tick(self, tick: Tick) -> None:
        self.sends.raise_failed()
        self.now = tick.ts
        if tick.ts > self._last_tick_ts and self._wall_clock is not None:
            self._fresh_at = self._wall_clock()
        self._last_tick_ts = tick.ts
        self._last_price = tick.price
        if not self.strategy.started:
            await self._start(tick.price)
        trades = await self.venue.new_trades()
        if trades:
            await self._on_trades(trades)
        self._unasked.intersection_update(self.orders.active)  # settled meanwhile: not asked
        unresolved = self._in_doubt()
        asked = {o.client_order_id for o in unresolved}
        unresolved += [self.orders.active[c] for c in sorted(self._unasked - asked)]
        due = self._asking.due(unresolved, self._wall_now())
        if due:
            await self.sends.answered()
            await self._reconcile(due)
        await self._take_grid_edit(tick.price)
        if self.settings.orders.entry_limit:
            await self._watch_entry(tick.price)
        if self._book_dirty and not self._unasked:
            self._tell_decided()
            await self._sync_book()
        self._tell_decided()  # nothing to send (or it went out: the feed counts the first call)
        if self.settings.send_behind:
            # A price that crosses many runs' lines wakes them all at once: each lets the
            # others decide before it books the rest of its tick (checks, guards, figures,
            # its sleep), so the last of two hundred decides behind their decisions alone.
            await asyncio.sleep(0)
        missed = await self.venue.reconciled_trades()
        if missed:
            await self._on_trades(missed)
            if not self._unasked:
                await self._sync_book()
        if not self._next_snapshot and self.strategy.started and not self.strategy.stopped:
            # The run's first tick (and a restart's): a snapshot at once, so its P&L shows
            # from its start, not after its first close or interval.
            await self._snapshot(tick, self._value(tick.price))
        if tick.closes_candle:
            await self._on_close(tick)
        if not self.strategy.stopped:
            await self._check_guards(tick.price)
        await self.journal.settle()  # the tick's fills, if no order they called for has gone yet
        self._report_figures(tick.price)
        if self._quiet is not None and self._settled():
            self._quiet(self._quiet_until(tick))

    def _tell_decided(self) -> None:
        if not self._live:  # operators (and the soak) see when a (re)start is live again
            self._live = True
            self._laps.lap("first_decision")
            log.info("run_ticking", run_id=self.record.run_id, ts=self.now, **self._laps.ms)
        if self._decided is not None and self._tick_done is None:  # the first call counts
            self._tick_done = self._decided() or nothing_to_tell

    def _end_tick(self) -> None:
        """The tick is done once the orders it sent are answered: told then."""
        done, self._tick_done = self._tick_done, None
        if done is not None:
            self.sends.then(done)

    def _in_doubt(self) -> list[StoredOrder]:
        """Orders whose fate is to be asked: those on their way are answered by their send."""
        return [
            o for o in self.orders.unresolved() if o.client_order_id not in self.sends.on_the_way
        ]

    def _settled(self) -> bool:
        """Nothing is in doubt or waiting: the next tick that crosses nothing is a no-op."""
        return (
            self.strategy.started
            and not self.strategy.stopped
            and not self._book_dirty
            and not self._unasked
            and not self._in_doubt()
            and self._entry_leg() is None
        )

    def _quiet_until(self, tick: Tick) -> Quiet:
        state = self.strategy.state
        buy, sell = lines(self.orders.active.values())
        floor = guard_floor(
            quote=float(state[core.QUOTE]),
            base=float(state[core.BASE]),
            investment=self.strategy.investment or self.strategy.plan.config.investment,
            peak=float(state[core.PEAK]),
            others_drawdown=self._others_drawdown,
            thresholds=self.settings.thresholds,
        )
        due = [self._next_snapshot, self._next_regime]
        if self.strategy.plan.config.take_profit > 0:
            due.append(tick.ts)  # the take profit is looked at every close
        wake_at = wake_by(self.record.run_id, self._wall_now())
        grace = self.venue.fill_grace()
        if grace is None:  # the run finds its fills by looking: a price past a line wakes it
            return Quiet(max(buy, floor), sell, min(due), wake_at)
        return Quiet(floor, float("inf"), min(due), wake_at, lines=(buy, sell), grace_ms=grace)

    def _report_figures(self, price: float) -> None:
        if not self.strategy.started:
            return
        equity = self._value(price)
        investment = self.strategy.investment or self.strategy.plan.config.investment
        self.observer.figures(
            pnl=equity - investment,
            grid_profit=float(self.strategy.state[core.GRID_PROFIT]),
            open_orders=len(self.orders.active),
        )

    async def _start(self, price: float) -> None:
        """The spec's start: choose the empty line; the book sync buys B0 and places orders."""
        self.strategy.begin(price)
        self._may_top_up = True
        await self.journal.save_state()
        self._book_dirty = True

    async def _sync_book(self) -> None:
        """Make the venue's book the strategy's, within what the grid's balances can pay for.

        Orders the grid no longer wants are cancelled first: what they hold is free then. At
        the start (and after a restart or a move of the grid) the base the sells need is then
        bought at market: B0, or whatever went missing while the run was down or the new grid
        needs, once no cancel is in doubt (its order may still hold the quote that buy needs).
        Any other time a missing base means fills the venue has not shown yet, so nothing is
        bought on that guess: the orders that cannot be paid for wait until the balances are
        there.

        With ``send_behind``, a book that only needs new limits (the steady state: a fill
        calls for the order on its other side) hands them to the send stage; anything else
        (a cancel, a buy of base, a market order out) waits for the orders on their way.
        """
        if self.settings.send_behind and self._send_behind():
            return
        await self.sends.answered()
        await self.orders.cancel(
            diff_book(self.strategy.wanted(), self.orders.active.values()).cancel
        )
        if (
            self._may_top_up
            and self._base_missing()
            and self._entry_leg() is None
            and not self._cancelling()
        ):
            await self._enter()
        if self._market_unsettled():
            # Its trade is not in the balances yet: limits paid from them would spend the
            # quote it spent (the exchange refuses them, and the run trips for funds).
            self._book_dirty = True
            return
        diff = diff_book(self.strategy.wanted(), self.orders.active.values())
        places = self._affordable(diff.place)
        await self.orders.place_limits(places)
        waiting = len(places) < len(diff.place)
        self._may_top_up = self._may_top_up and self._base_missing()
        self._book_dirty = waiting

    def _send_behind(self) -> bool:
        """Place the book's new limits by the send stage, if that is all the book needs."""
        if self._may_top_up or self._market_unsettled():
            return False
        diff = diff_book(self.strategy.wanted(), self.orders.active.values())
        if diff.cancel:
            return False
        places = self._affordable(diff.place)
        self.sends.send(self.orders.prepare(places))
        self._book_dirty = len(places) < len(diff.place)
        return True

    def _affordable(self, places: list[WantedOrder]) -> list[WantedOrder]:
        state = self.strategy.state
        funds = Funds(base=float(state[core.BASE]), quote=float(state[core.QUOTE]))
        return affordable(
            places, self.orders.active.values(), funds, self.strategy.plan.config.maker_fee
        )

    def _market_unsettled(self) -> bool:
        """A market order of the run is out and its trades are not all in: its answer was
        lost, or its fill has not come (a user stream reports it a moment later)."""
        return any(o.kind == "market" for o in self.orders.active.values())

    def _cancelling(self) -> bool:
        """An order is being cancelled: until the venue confirms it, what it holds is not free
        for a market buy."""
        return any(o.status is OrderStatus.CANCELLING for o in self.orders.active.values())

    def _base_missing(self) -> bool:
        shortfall = self.strategy.base_shortfall()
        return shortfall > 1e-9 * max(1.0, float(self.strategy.plan.qtys.sum()))

    def _entry_leg(self) -> StoredOrder | None:
        """The working order that buys the grid's base (off the lines), if any."""
        return next((o for o in self.orders.active.values() if o.line < 0), None)

    async def _enter(self) -> None:
        """Buy the base the sells need: at market (the spec's start), or with a limit at the
        price that is cancelled and replaced while it lags, then at market once replacements
        are spent."""
        policy = self.settings.orders
        qty = whole_lots(self.strategy.base_shortfall(), self.strategy.plan.rules.lot_step)
        as_limit = policy.entry_limit and self._last_price is not None
        if as_limit and self._entry_replacements < policy.replace_max_retries + 1:
            await self.orders.place_market(Side.BUY, qty, price=self._last_price)
            return
        await self.orders.place_market(Side.BUY, qty)
        trades = await self.venue.new_trades()
        if trades:
            await self._on_trades(trades)

    async def _watch_entry(self, price: float) -> None:
        """Cancel an entry limit that has waited too long or that the price ran away from."""
        leg = self._entry_leg()
        if leg is None or leg.kind != "limit" or leg.status is not OrderStatus.OPEN:
            return
        policy = self.settings.orders
        sent = self.orders.submitted_at.get(leg.client_order_id)
        waited_ms = (time.monotonic() - sent) * 1000 if sent is not None else 0.0
        drift_pct = (price / leg.price - 1) * 100
        if waited_ms < policy.replace_timeout_ms and drift_pct <= policy.replace_slippage_pct:
            return
        await self.sends.answered()
        self._entry_replacements += 1
        log.info(
            "execution_metrics",
            stage="replace",
            client_order_id=leg.client_order_id,
            waited_ms=round(waited_ms),
            drift_pct=round(drift_pct, 4),
            replacements=self._entry_replacements,
            run_id=self.record.run_id,
        )
        await self.orders.cancel([leg])
        self._book_dirty = True

    # ---- the client's edits of the grid -------------------------------------------------
    async def _take_grid_edit(self, price: float) -> None:
        """Apply the client's newest edit of the grid, once the book is known: a grid moved
        while an order's fate is unknown could buy the base that order already bought."""
        if self._grid_edits is None or not self.strategy.started or self.strategy.stopped:
            return
        now = self._wall_now()
        if now < self._next_edit_check:  # first: the cheapest look, at every tick
            return
        if self._unasked or self.orders.unresolved():
            return
        self._next_edit_check = now + EDIT_CHECK_INTERVAL_MS
        edit = await self._grid_edits.take()
        if edit is not None:
            await self._edit_grid(self._grid_edits, edit, price)

    async def _edit_grid(self, edits: GridEdits, edit: GridEdit, price: float) -> None:
        """Move the grid to the edited range and lines, investing what the run holds at
        ``price`` (the API's preview computes the same)."""
        moved = edited_config(
            self.strategy.plan.config,
            lower=edit.lower,
            upper=edit.upper,
            lines=edit.lines,
            equity=self._value(price),
        )
        refusal = await self._move_grid(moved, price, "grid_edit_applied")
        if refusal is None:
            await edits.applied(edit, moved)
            return
        log.warning(
            "grid_edit_refused",
            run_id=self.record.run_id,
            request_id=edit.request_id,
            reason=refusal,
        )
        await edits.refused(edit, refusal)

    # ---- reconciliation -----------------------------------------------------------------
    async def _load_fills(self) -> None:
        """Trades already stored, and the partial fills of orders still working."""
        for fill in await self.store.fills():
            self._seen.add(fill.trade_id)
            if fill.line >= 0:
                self._last_fill_ts = max(self._last_fill_ts, fill.ts)
            paid_in = self._paid_in(fill.fee_currency)
            if fill.fee > 0:
                self.strategy.fee_assets.add(paid_in)
            if self.orders.by_id(fill.client_order_id) is not None:
                part = self._partials.setdefault(fill.client_order_id, _Partial())
                part.add(fill.price, fill.qty, fill.fee, paid_in)

    def _paid_in(self, fee_currency: str) -> FeeAsset:
        """Where a trade's fee came from, by the currency the venue charged it in: each fill is
        booked as it was reported, whichever exchange the run's prices come from."""
        base, quote = self.record.pair.split("/")
        if fee_currency == base:
            return FeeAsset.BASE
        if fee_currency in (quote, ""):
            return FeeAsset.QUOTE
        return FeeAsset.OTHER

    async def _reconcile(self, orders: list[StoredOrder]) -> None:
        """Ask the venue about each order whose fate we do not know for sure, and settle it."""
        trades: list[TradeReport] = []
        updates: list[OrderUpdate] = []
        listed = await self._open_among(orders)
        for order in orders:
            try:
                report = listed.get(order.client_order_id) or await self.venue.query(
                    order.client_order_id
                )
                # A "not found" is as old as the answer, on our clock (a paused sandbox
                # market must not stop the grace window): the trade read after it may wait
                # out seconds of 429s, and those must not count as the venue not knowing it.
                answered_at = self._wall_now()
                needs_trades = report is None or report.filled_qty > 0
                found = await self.venue.trades_for(order.client_order_id) if needs_trades else []
            except TransientVenueError as exc:
                self._count_error(exc)
                self._unasked.add(order.client_order_id)
                continue
            self._unasked.discard(order.client_order_id)
            if report is None:
                since = self._missing_since.setdefault(order.client_order_id, answered_at)
                missing_for = answered_at - since
            else:
                self._missing_since.pop(order.client_order_id, None)
                missing_for = 0
            resolution = reconcile_order(
                order,
                report,
                found,
                now=self.now,
                missing_for_ms=missing_for,
                grace_ms=self.settings.orders.not_found_grace_ms,
            )
            if report is None and not found:
                # Each "not found" of an order in doubt, and the verdict it led to: the one
                # that frees a line for a new order must be traceable to its answers.
                verdict = resolution.update.status.value if resolution.update else "waits"
                log.info(
                    "order_not_found",
                    client_order_id=order.client_order_id,
                    status=order.status.value,
                    missing_for_ms=missing_for,
                    verdict=verdict,
                )
            trades.extend(resolution.trades)
            if resolution.update is not None and not self._trades_owed(order, report, found):
                updates.append(resolution.update)
        if trades:
            await self._on_trades(trades)
        applied = []
        for update in updates:
            working = self.orders.by_id(update.client_order_id)
            if working is None:
                continue  # its trades just completed it: the stored FILLED must stand
            if update.status is OrderStatus.CANCELLED:
                self._settle_cancelled(working)
            self.orders.apply(update)
            applied.append(update)
            self._book_dirty = True
        if applied:
            self.journal.hold((), applied)
        for coid in [c for c in self._missing_since if self.orders.by_id(c) is None]:
            del self._missing_since[coid]  # settled (never placed, or its trades came)

    async def _open_among(self, orders: list[StoredOrder]) -> dict[str, OrderReport]:
        """The orders among ``orders`` that are open, in one read when that costs less than
        asking for each (a restart's whole book: on Binance 6 weight instead of 4 an order);
        only the orders it does not list are then asked for. A failed read asks for each."""
        if len(orders) < LIST_FROM:
            return {}
        try:
            return await self.venue.open_among([o.client_order_id for o in orders])
        except TransientVenueError as exc:
            self._count_error(exc)
            return {}

    def _trades_owed(
        self, order: StoredOrder, report: OrderReport | None, found: list[TradeReport]
    ) -> bool:
        """A cancelled order whose filled part the venue does not show trades for yet: it is
        asked about again (settled now, its late trades would find no order)."""
        if report is None or report.status is not VenueOrderStatus.CANCELLED:
            return False
        part = self._partials.get(order.client_order_id)
        booked = (part.qty if part is not None else 0.0) + sum(t.qty for t in found)
        return report.filled_qty > booked + 1e-12

    def _settle_cancelled(self, order: StoredOrder) -> None:
        """A cancelled order's partial fill still moved balances (but not the grid's lines)."""
        part = self._partials.pop(order.client_order_id, None)
        if part is not None and part.qty > 0:
            self._book_off_lines(order.side, part)

    # ---- fills --------------------------------------------------------------------------
    async def _on_trades(self, trades: list[TradeReport]) -> None:
        fills: list[FillRecord] = []
        updates: list[OrderUpdate] = []
        # Venues report trades in whatever order they were asked for; the grid needs them as
        # they happened, and within one instant as the spec walks a segment: buys top-down,
        # sells bottom-up.
        for trade in sorted(trades, key=_fill_order):
            if trade.trade_id in self._seen:
                continue
            self._seen.add(trade.trade_id)
            order = self.orders.by_id(trade.client_order_id)
            if order is None:
                log.warning("trade_not_active", run_id=self.record.run_id, trade_id=trade.trade_id)
                continue
            fills.append(
                FillRecord(
                    trade.trade_id,
                    trade.client_order_id,
                    trade.side,
                    order.line,
                    trade.price,
                    trade.qty,
                    trade.fee,
                    trade.fee_currency,
                    trade.ts,
                )
            )
            part = self._partials.setdefault(order.client_order_id, _Partial())
            part.add(trade.price, trade.qty, trade.fee, self._paid_in(trade.fee_currency))
            done = part.qty >= order.qty * (1 - 1e-9)
            status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
            update = OrderUpdate(order.client_order_id, status, trade.ts, filled_qty=part.qty)
            updates.append(update)
            if done:
                self._log_fill_latency(order)
                self._apply_filled(
                    order.line, order.side, self._partials.pop(order.client_order_id), trade.ts
                )
            self.orders.apply(update)
        self._book_dirty = True
        if fills:
            self.journal.hold(fills, updates)  # written before anything they call for is sent

    def _log_fill_latency(self, order: StoredOrder) -> None:
        sent = self.orders.submitted_at.pop(order.client_order_id, None)
        latency = time.monotonic() - sent if sent is not None else None
        self.observer.order_filled(order.side.value, latency)
        if latency is not None:
            log.info(
                "execution_metrics",
                stage="fill",
                client_order_id=order.client_order_id,
                latency_ms=round(latency * 1000, 1),
                run_id=self.record.run_id,
            )

    def _book_off_lines(self, side: Side, part: _Partial) -> None:
        """Money that moved off the grid's lines (an entry, a cancelled order's part)."""
        self.strategy.on_market_fill(
            side,
            part.notional / part.qty,
            part.qty,
            part.fee,
            fee_base=part.fee_base,
            fee_elsewhere=part.fee_elsewhere,
        )

    def _apply_filled(self, line: int, side: Side, part: _Partial, ts: int) -> None:
        if line < 0:
            self._book_off_lines(side, part)
            return
        # A fill older than one already applied was reported late (hidden by the venue for a
        # while): its money counts, but the grid's empty line stays where the newer fill put it.
        # Within one instant the spec orders fills (buys top-down, sells bottom-up): a fill that
        # comes after one it should have preceded is late too. So is a newer fill on the wrong
        # side of the empty line: an order placed on a view a fill had just made stale (the
        # price ran through a lower buy while a higher one was on its way). It is our own
        # order, so its money is real; the grid's lines stay, and the book sync then holds the
        # orders the grid wants with the balances it has.
        in_order = self.strategy.in_order(side, line)
        if not in_order and ts > self._last_fill_ts:
            log.warning(
                "fill_out_of_order",
                run_id=self.record.run_id,
                side=side.value,
                line=line,
                empty_line=self.strategy.empty_line,
            )
        late = ts < self._last_fill_ts or not in_order
        self._last_fill_ts = max(self._last_fill_ts, ts)
        self.strategy.on_fill(
            side,
            line,
            part.notional / part.qty,
            part.qty,
            part.fee,
            fee_base=part.fee_base,
            fee_elsewhere=part.fee_elsewhere,
            late=late,
        )

    # ---- candle close: equity, take profit, guards, snapshots ---------------------------
    async def _on_close(self, tick: Tick) -> None:
        equity = self.strategy.mark(tick.price)
        self.outcome.equity_ts.append(tick.ts)
        self.outcome.equity.append(equity)
        if self.strategy.take_profit_reached(equity):
            await self._take_profit()
            return
        if tick.ts >= self._next_regime and await self._analyse_regime():
            self._next_regime = tick.ts + self.settings.regime_interval_ms
        if tick.ts >= self._next_snapshot:
            await self._snapshot(tick, equity)

    def _value(self, price: float) -> float:
        """The grid's balances at ``price``. Not ``mark``: the peak and drawdown are tracked
        at candle closes alone, as in the backtest."""
        state = self.strategy.state
        return float(state[core.QUOTE] + state[core.BASE] * price)

    def _next_slot(self, now: int, interval: int) -> int:
        """The next time of this run's own phase of ``interval``: runs sharing a worker (and a
        database) snapshot at different moments instead of all on the hour."""
        phase = zlib.crc32(self.record.run_id.encode()) % interval
        return now - (now - phase) % interval + interval

    async def _check_guards(self, price: float | None) -> None:
        """Every tick: the loss, the client's drawdown, the venue's errors, the price's age."""
        state = self.strategy.state
        equity = (
            self._value(price)
            if price is not None and self.strategy.started
            else self.strategy.plan.config.investment  # before the start: nothing traded
        )
        trip = check_guards(
            self.settings.thresholds,
            investment=self.strategy.investment or self.strategy.plan.config.investment,
            equity=equity,
            client_drawdown_usd=self._others_drawdown + max(0.0, state[core.PEAK] - equity),
            api_errors_last_min=self._errors.count(self._wall_now()),
            ticker_age_ms=self._ticker_age(),
        )
        if trip is not None:
            await self._trip(trip)

    async def _analyse_regime(self) -> bool:
        """Log the market regime (volatility, trend, a fitting range) beside the grid's range."""
        closes, timeframe_ms = await self.venue.recent_closes(REGIME_WINDOW)
        if len(closes) < REGIME_WINDOW // 4:
            return False
        reading = analyse(np.asarray(closes, dtype=np.float64), timeframe_ms)
        config = self.strategy.plan.config
        log.info(
            "regime_analysis",
            run_id=self.record.run_id,
            ts=self.now,
            lower=config.lower,
            upper=config.upper,
            **dataclasses.asdict(reading),
        )
        price = self._last_price
        config = self.strategy.plan.config
        outside = price is not None and not config.lower <= price <= config.upper
        if self.settings.regime_auto_adjust and reading.regime is Regime.RANGING and outside:
            await self._recentre(reading)
        return True

    async def _recentre(self, reading: RegimeAnalysis) -> None:
        """The market ranges outside the grid: move the grid onto it, with what the run holds."""
        assert self._last_price is not None
        price = self._last_price
        moved = dataclasses.replace(
            self.strategy.plan.config,
            lower=reading.suggested_lower,
            upper=reading.suggested_upper,
            investment=self._value(price),
        )
        refusal = await self._move_grid(moved, price, "regime_applied")
        if refusal is not None:
            log.warning("regime_not_applied", run_id=self.record.run_id, reason=refusal)

    async def _move_grid(self, moved: GridConfig, price: float, event: str) -> str | None:
        """Trade ``moved`` from ``price`` on, with what the run holds (logged as ``event``);
        why the new grid cannot trade, if it cannot (the run keeps its grid then). The book
        sync cancels the old grid's orders, buys the base the new one needs and places it."""
        await self.sends.answered()  # the old grid's orders are answered before it moves
        old = self.strategy.plan.config
        try:
            plan = build_plan(moved, self.strategy.plan.rules)
        except (ArithmeticError, ValueError) as exc:  # GridPlanError, or numbers out of range
            if isinstance(exc, GridPlanError):
                return str(exc)
            return "the grid's numbers are out of range: narrow the range or use fewer lines"
        self.strategy.recentre(plan, price)
        await self.store.save_config({**self.record.config, **moved.to_dict()})
        await self.journal.save_state()
        self._may_top_up = True
        self._book_dirty = True
        log.info(
            event,
            run_id=self.record.run_id,
            ts=self.now,
            price=price,
            old_lower=old.lower,
            old_upper=old.upper,
            old_lines=old.lines,
            lower=moved.lower,
            upper=moved.upper,
            lines=moved.lines,
            investment=moved.investment,
        )
        return None

    def _wall_now(self) -> int:
        return self._wall_clock() if self._wall_clock is not None else self.now

    def _ticker_age(self) -> int:
        return 0 if self._wall_clock is None else max(0, self._wall_clock() - self._fresh_at)

    async def _snapshot(self, tick: Tick, equity: float) -> None:
        """Store the run's inventory, then set the next at the run's own phase of the interval."""
        self._others_drawdown = await self.store.client_drawdown_usd()
        await self._write_snapshot(tick.price, equity)
        self._next_snapshot = self._next_slot(tick.ts, self.settings.snapshot_interval_ms)

    async def _write_snapshot(self, price: float, equity: float) -> None:
        snap = self.strategy.snapshot()
        await self.store.add_snapshot(
            InventorySnapshot(
                ts=self.now,
                price=price,
                base=snap.base,
                quote=snap.quote,
                equity=equity,
                grid_profit=snap.grid_profit,
                fees=snap.fees,
                round_trips=snap.round_trips,
                empty_line=snap.empty_line,
            )
        )

    async def _take_profit(self) -> None:
        """Cancel the book and sell the base at market; the run ends with its profit taken."""
        await self.sends.answered()
        self.strategy.stop()
        await self.orders.cancel_all()
        base = float(self.strategy.state[core.BASE])
        if base > 0 and not math.isclose(base, 0.0, abs_tol=1e-12):
            await self.orders.place_market(Side.SELL, base)
            trades = await self.venue.new_trades()
            if trades:
                await self._on_trades(trades)
        await self._finish("finished", "take profit reached")

    async def _withdraw(self) -> None:
        """A run refused for a trip may still have orders on the venue: its worker died
        before it could cancel them, or the kill switch tripped while no worker drove it. They
        are asked about (fills meanwhile are booked) and cancelled, so nothing of the grid
        fills after the trip; the run stays refused until an operator resets it."""
        await self.orders.load()
        if not self.orders.active:
            return
        await self._load_fills()
        await self._reconcile(list(self.orders.active.values()))
        await self._cancel_resting()
        await self.journal.save_state()

    async def _cancel_resting(self) -> None:
        """Cancel every open order (a failure is logged: the venue keeps what it kept)."""
        try:
            await self.orders.cancel_all()
        except VenueError as exc:
            log.critical("cancel_failed_after_trip", run_id=self.record.run_id, error=str(exc))

    async def _trip(self, trip: Trip) -> None:
        """Cancel every open order, stop, and store the trip so it survives restarts."""
        log.error(
            "guard_tripped", run_id=self.record.run_id, guard=trip.guard.value, reason=trip.reason
        )
        self.observer.guard_tripped(trip.guard.value)
        self.strategy.stop()
        await self.sends.quiesce()  # what is on its way is known before the book is cancelled
        try:
            await self._cancel_resting()
        finally:
            await self.journal.save_state()
            await self.store.trip(trip.guard.value, trip.reason, self.now)
            self.outcome.status = "tripped"
            self.outcome.reason = f"{trip.guard.value}: {trip.reason}"

    async def _finish(self, status: str, reason: str) -> None:
        await self.sends.answered()
        if self._last_price is not None:
            await self._write_snapshot(self._last_price, self._value(self._last_price))
        await self.journal.save_state()
        await self.store.set_status(status, reason)
        self.outcome.status = status
        self.outcome.reason = reason
        self.outcome.fee_convention = self.strategy.fee_convention
