"""Request and response bodies of bots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradebot.engine.types import GridConfig, Spacing
from tradebot.kit.text import PlainText

Price = Annotated[float, Field(ge=1e-8, le=1e9, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0.01, le=1e10, allow_inf_nan=False)]
Fee = Annotated[float, Field(ge=0, lt=0.1, allow_inf_nan=False)]


class GridSpec(BaseModel):
    """The grid a bot trades (the fields of ``GridConfig``; take profit in percent)."""

    model_config = ConfigDict(extra="forbid")

    lower: Price
    upper: Price
    lines: Annotated[int, Field(ge=2, le=500)]
    investment: Money
    spacing: Spacing = Spacing.GEOMETRIC
    maker_fee: Fee = 0.001
    taker_fee: Fee = 0.001
    take_profit_pct: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 0.0

    def config(self) -> GridConfig:
        return GridConfig(
            lower=self.lower,
            upper=self.upper,
            lines=self.lines,
            investment=self.investment,
            spacing=self.spacing,
            maker_fee=self.maker_fee,
            taker_fee=self.taker_fee,
            take_profit=self.take_profit_pct / 100.0,
        )


class BotCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[PlainText, Field(min_length=1, max_length=100)]
    exchange: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,31}$")] = "binance"
    pair: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$")] = "BTC/USDT"
    grid: GridSpec
    reference_price: Price | None = None
    """A price to preview the start of the grid at (the empty line, the base to buy)."""


class BotUpdate(BaseModel):
    """A new name and/or grid for a bot; the grid is validated as ``POST /bots`` does."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[PlainText, Field(min_length=1, max_length=100)] | None = None
    grid: GridSpec | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> BotUpdate:
        if self.name is None and self.grid is None:
            raise ValueError("give a new name, a new grid, or both")
        return self


class PlanPreview(BaseModel):
    """The plan summary of ``tradebot plan``: what the grid will place and earn per round trip."""

    model_config = ConfigDict(extra="ignore")

    lower: float
    upper: float
    lines: int
    spacing: str
    investment: float
    line_prices: list[float]
    order_sizes: list[float]
    order_quote_per_cell: float
    min_investment: float
    """The smallest investment whose every order clears the exchange's minimums (a grid under
    it is refused, never traded with levels dropped)."""
    profit_per_grid_pct_min: float
    profit_per_grid_pct_max: float
    profit_per_grid_quote_min: float
    profit_per_grid_quote_max: float
    reference_price: float | None = None
    empty_line: int | None = None
    start_buy_orders: int | None = None
    start_sell_orders: int | None = None
    start_base_to_buy: float | None = None


class BotView(BaseModel):
    id: str
    name: str
    exchange: str
    pair: str
    grid: GridSpec
    created_at: datetime
    updated_at: datetime


class BotCreated(BotView):
    plan: PlanPreview
