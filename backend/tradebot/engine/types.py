"""Plain value types of the engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Spacing(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class FeeAsset(StrEnum):
    """What one trade's commission was paid in, as the venue reports it: a fill is booked by
    where its fee really came from, not by which exchange the prices came from."""

    QUOTE = "quote"
    """Out of the quote balance: the spec's convention (backtest and paper)."""
    BASE = "base"
    """Out of the base: Binance spot takes a buy's fee from the base it delivers."""
    OTHER = "other"
    """Out of another asset (BNB, on an account that pays fees with it): the pair's balances
    are untouched."""


class FeeConvention(StrEnum):
    """Which convention a run's fees were booked under, as its results report it."""

    QUOTE_FEE = "quote_fee"
    """The spec's: every fee paid in quote (backtest and paper replay)."""
    ASSET_RECEIVED = "asset_received"
    """As the exchange charged them (Binance spot): a buy's fee out of the base it delivered
    (or out of BNB), so the grid holds less base than the spec's q per buy and its P&L differs
    from the spec's by what that base was worth at the end rather than when it was paid."""


@dataclass(frozen=True, slots=True)
class MarketRules:
    """An exchange's precision for one pair; zero disables a rule (the oracle runs that way)."""

    tick_size: float = 0.0
    lot_step: float = 0.0
    min_notional: float = 0.0
    min_qty: float = 0.0

    @property
    def enabled(self) -> bool:
        return any((self.tick_size, self.lot_step, self.min_notional, self.min_qty))


@dataclass(frozen=True, slots=True)
class GridConfig:
    """What a user chooses. Sizing: ``investment`` is the capital C of the spec."""

    lower: float
    upper: float
    lines: int
    investment: float
    spacing: Spacing = Spacing.ARITHMETIC
    maker_fee: float = 0.001
    taker_fee: float = 0.001
    take_profit: float = 0.0
    """Stop the grid once equity reaches C * (1 + take_profit); 0 disables it."""

    def to_dict(self) -> dict[str, float | int | str]:
        return {
            "lower": self.lower,
            "upper": self.upper,
            "lines": self.lines,
            "spacing": self.spacing.value,
            "investment": self.investment,
            "maker_fee": self.maker_fee,
            "taker_fee": self.taker_fee,
            "take_profit": self.take_profit,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GridConfig:
        return cls(
            lower=float(data["lower"]),
            upper=float(data["upper"]),
            lines=int(data["lines"]),
            investment=float(data["investment"]),
            spacing=Spacing(data["spacing"]),
            maker_fee=float(data["maker_fee"]),
            taker_fee=float(data["taker_fee"]),
            take_profit=float(data.get("take_profit", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution as every report and the parity test see it (fee in quote)."""

    ts: int
    side: Side
    line: int
    """Grid line index; -1 for a market order (the start buy, a take-profit close)."""
    price: float
    qty: float
    fee: float

    @property
    def is_market(self) -> bool:
        return self.line < 0
