"""The public market streams: which stream names exist, and their events as the replay walks.

Streams are named as Binance names them, ``<symbol in lower case>@<kind>``. Each walked segment
is one synthetic public trade (the same trades, ids and quantities GET /api/v3/aggTrades shows)
and moves the tickers and the book. The ticker kinds also send the current state at once when
subscribed (Binance pushes them every second, changed or not), so a client has a first value
without waiting for the market to move. While the ``stale`` fault freezes the public data the
streams are silent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradebot.engine.walk import Direction
from tradebot.venues.exchange_sim.market import Position, Step, book_around
from tradebot.venues.exchange_sim.stream_wire import (
    agg_trade_event,
    book_ticker_event,
    mini_ticker_event,
    ticker_event,
    trade_event,
)

if TYPE_CHECKING:
    from tradebot.venues.exchange_sim.simulator import ExchangeSimulator

TRADE_KINDS = ("trade", "aggTrade")
TICKER_KINDS = ("miniTicker", "ticker", "bookTicker")
KINDS = (*TRADE_KINDS, *TICKER_KINDS)


def valid_stream(name: str) -> bool:
    """Whether ``name`` is a stream this exchange serves for some symbol (Binance accepts a
    subscription to any symbol's stream; one it does not list simply never sends)."""
    symbol, _, kind = name.partition("@")
    return bool(symbol) and symbol == symbol.lower() and kind in KINDS


def ticker_snapshot(sim: ExchangeSimulator, name: str) -> dict[str, Any] | None:
    """The current event of a ticker kind stream of our symbol; None for other streams."""
    symbol, _, kind = name.partition("@")
    market_id = sim.config.market.market_id
    if symbol != market_id.lower() or kind not in TICKER_KINDS:
        return None
    view = sim.view
    bid, ask = book_around(sim.market.price_at(view), sim.config.market.tick_size)
    if kind == "bookTicker":
        return book_ticker_event(market_id, _sequence(view), bid, ask)
    stats = sim.market.day_stats(view)
    if kind == "miniTicker":
        return mini_ticker_event(market_id, stats)
    return ticker_event(market_id, stats, bid, ask)


def publish_step(sim: ExchangeSimulator, before: Position, step: Step) -> None:
    """The events of one walked segment: its trade, then the tickers at the new position."""
    hub, market_id = sim.streams, sim.config.market.market_id
    if sim.faults.stale or not hub.connections:
        return
    prefix = market_id.lower() + "@"
    seg = step.segment
    trade_id = before.index * 3 + before.walked
    qty = float(sim.market.candles.volume[before.index]) / 3
    falling = seg.direction is Direction.FALLING
    if hub.listening(prefix + "trade"):
        event = trade_event(market_id, trade_id, seg.price, qty, seg.ts, falling)
        hub.publish_market(prefix + "trade", event)
    if hub.listening(prefix + "aggTrade"):
        event = agg_trade_event(market_id, trade_id, seg.price, qty, seg.ts, falling)
        hub.publish_market(prefix + "aggTrade", event)
    for kind in TICKER_KINDS:
        if hub.listening(prefix + kind):
            snapshot = ticker_snapshot(sim, prefix + kind)
            assert snapshot is not None
            hub.publish_market(prefix + kind, snapshot)


def _sequence(pos: Position) -> int:
    """An update id that grows with every walked segment (bookTicker's ``u``)."""
    return pos.index * 3 + pos.walked + 1
