"""TradeBot: multi-tenant grid-trading bots with one engine for backtest, paper and live."""

__version__ = "0.1.0"
