"""The pure grid engine: plan, state, fills and P&L. No I/O, no asyncio, no ORM, no ccxt.

Everything here follows ``grid-semantics.md``: the book is determined by the index of the one
empty line plus two balances, so a candle costs O(fills) and the same compiled core serves the
fast backtest, the sweep, the paper replay and live trading.
"""
