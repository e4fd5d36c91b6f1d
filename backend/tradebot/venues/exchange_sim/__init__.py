"""A local Binance spot exchange over replayed candles, for tests, demos and the sandbox.

It speaks the subset of Binance's REST API that ccxt's ``binance`` class uses for spot trading
(markets, klines, tickers, orders, trades, balances, the key's restrictions), checks HMAC
signatures, counts request weight per IP (429, then 418) and new WebSocket connections per IP
(300 in 5 minutes, then 429 at the handshake), and matches orders with
``venues.matching.MatchingEngine`` as ``grid-semantics.md`` says, over the spec's three-segment
walk of each candle (or, with ``SimConfig.fill_share``, in parts bounded by the volume each step
trades: ``partial_fills``). It also speaks Binance's WebSocket streams as ccxt.pro connects to
them: the market streams on ``/ws/<n>`` and the user-data stream through the WebSocket API on
``/ws-api/v3`` (``stream_routes``). Faults (5xx, timeouts, dropped answers, garbage, 429 bursts,
stale data, an order visibility lag; on the streams: stalls, drops, duplicates, late and
reordered events, disconnects) are switched on through ``/_sim/faults`` and
``/_sim/streams/disconnect``.

Point ccxt at it with ``venues.ccxt_factory.make_exchange("binance", ..., sandbox_url=url)``, and
ccxt.pro with ``make_exchange(..., sandbox_url=url, streams=True)``.
"""

from tradebot.venues.exchange_sim.app import RunningSimulator, SimThread, create_app, serve
from tradebot.venues.exchange_sim.config import (
    AccountConfig,
    LimitsConfig,
    MarketConfig,
    SimConfig,
    load_accounts,
)
from tradebot.venues.exchange_sim.simulator import ExchangeSimulator

__all__ = [
    "AccountConfig",
    "ExchangeSimulator",
    "LimitsConfig",
    "MarketConfig",
    "RunningSimulator",
    "SimConfig",
    "SimThread",
    "create_app",
    "load_accounts",
    "serve",
]
