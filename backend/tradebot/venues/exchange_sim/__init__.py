"""A local Binance spot exchange over replayed candles, for tests, demos and the sandbox.

It speaks the subset of Binance's REST API that ccxt's ``binance`` class uses for spot trading
(markets, klines, tickers, orders, trades, balances, the key's restrictions), checks HMAC
signatures, counts request weight per IP (429, then 418), and matches orders with
``venues.matching.MatchingEngine`` as ``grid-semantics.md`` says, over the spec's three-segment
walk of each candle. Faults (5xx, timeouts, dropped answers, garbage, 429 bursts, stale data,
an order visibility lag) are switched on through ``/_sim/faults``.

Point ccxt at it with ``venues.ccxt_factory.make_exchange("binance", ..., sandbox_url=url)``.
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
