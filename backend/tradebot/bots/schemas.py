"""Request and response bodies of bots and runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from tradebot.engine.types import GridConfig, Spacing

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

    name: Annotated[str, Field(min_length=1, max_length=100)]
    exchange: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,31}$")] = "binance"
    pair: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,12}/[A-Z0-9]{2,12}$")] = "BTC/USDT"
    grid: GridSpec
    reference_price: Price | None = None
    """A price to preview the start of the grid at (the empty line, the base to buy)."""


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


class RunStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,32}$")]
    live: bool = False


class RunView(BaseModel):
    id: str
    bot_id: str | None
    mode: str
    exchange: str
    pair: str
    status: str
    stop_reason: str | None
    created_at: datetime
    updated_at: datetime


class SnapshotView(BaseModel):
    ts: int
    price: float
    base: float
    quote: float
    equity: float
    grid_profit: float
    fees: float
    round_trips: int


class RunStatusView(RunView):
    latest: SnapshotView | None
    open_orders: int
    fills: int


class OrderView(BaseModel):
    client_order_id: str
    exchange_order_id: str | None
    line: int
    side: str
    kind: str
    price: float
    qty: float
    filled_qty: float
    status: str
    created_ts: int
    updated_ts: int


class FillView(BaseModel):
    trade_id: str
    client_order_id: str
    ts: int
    side: str
    line: int
    price: float
    qty: float
    fee: float
    fee_currency: str


class EquityPoint(BaseModel):
    ts: int
    equity: float
    price: float


class GuardView(BaseModel):
    id: int
    run_id: str | None
    guard: str
    reason: str
    active: bool
    tripped_ts: int
    tripped_at: datetime
    reset_at: datetime | None
    reset_by: str | None


class KillSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=300)] = "kill switch by the client"


class KillSwitchState(BaseModel):
    active: bool
    guards: list[GuardView]
    runs_stopped: list[str] = []


def views(rows: Any, schema: type[BaseModel]) -> list[Any]:
    """``schema`` views of ORM rows (by attribute)."""
    return [schema.model_validate(row, from_attributes=True) for row in rows]
