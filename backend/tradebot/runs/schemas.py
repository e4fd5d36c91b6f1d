"""Request and response bodies of runs and the kill switch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradebot.bots.schemas import PlanPreview, Price
from tradebot.engine.types import Spacing
from tradebot.kit.text import PlainText


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


# A run's inventory snapshot as the API shows it: the run loop's record
# (``runtime.store.InventorySnapshot``) without the grid's internals (``empty_line``), the same
# names and types in the same order (tests/runs/test_snapshot_fields.py); the API reads exactly
# these columns (``runs.repository.SNAPSHOT_FIELDS``). A comment, not a docstring: a docstring
# would become the schema's description in the OpenAPI document.
class SnapshotView(BaseModel):
    ts: int
    price: float
    base: float
    quote: float
    equity: float
    grid_profit: float
    fees: float
    round_trips: int


class RunGrid(BaseModel):
    """The grid a run trades now: its bot's at the start, then each applied edit's (or an
    automatic re-centre's)."""

    lower: float
    upper: float
    lines: int
    spacing: Spacing
    investment: float


class RunStatusView(RunView):
    latest: SnapshotView | None
    open_orders: int
    fills: int
    grid: RunGrid | None
    """None for a run whose grid is not recorded (an old run)."""
    clock_ts: int
    """The run's clock (market time, ms) when it last saved its state (its start, each fill,
    its end); ``updated_at`` is the wall time it did. A paper replay's clock is the replay's."""
    started_ts: int | None
    """The run's clock at its first snapshot (its first candle close); None before it."""


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


class RunUpdates(BaseModel):
    """What changed on a run since the browser's last poll (``GET /runs/{id}/updates``)."""

    cursor: str
    """Give it back as ``since`` on the next poll (opaque: only the API reads it)."""
    more: bool
    """More fills are waiting than one answer carries: poll again at once."""
    run: RunStatusView
    fills: list[FillView]
    """Fills recorded after ``since``, in the order they were recorded (none given: the
    latest ones)."""
    orders: list[OrderView]
    """Every order of the run still working (open, or on its way to or from the exchange)."""
    guards: list[GuardView]


class GridEdit(BaseModel):
    """A new range and number of lines for a running grid (its spacing, fees and take profit
    stay; everything the run holds is invested in the new grid, as a regime re-centre does)."""

    model_config = ConfigDict(extra="forbid")

    lower: Price
    upper: Price
    lines: Annotated[int, Field(ge=2, le=500)]
    reference_price: Price | None = None
    """The price to preview at (unset: the run's last known price, from its last fill or
    snapshot). The run applies the edit at the price of the tick it takes it on."""

    @model_validator(mode="after")
    def _ordered(self) -> GridEdit:
        if self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower:g}) must be below upper ({self.upper:g})")
        return self


class PlannedOrder(BaseModel):
    line: int
    side: str
    price: float
    qty: float


class GridEditPreview(BaseModel):
    """What applying a grid edit does to the run, computed by the engine from its state."""

    reference_price: float
    reference_ts: int | None
    """When the run last saw ``reference_price`` (ms; ``None``: the price was given)."""
    cancel: list[OrderView]
    """Working orders the new grid does not want."""
    place: list[PlannedOrder]
    """Orders the new grid wants that are not resting yet."""
    base_to_buy: float
    """Base bought at market first, for the new sells (0: the run holds enough)."""
    quote_for_base: float
    """What that market buy costs in quote, taker fee included."""
    investment_before: float
    investment_after: float
    """The new grid's capital: the run's quote and base at the reference price."""
    capital_change: float
    """``investment_after - investment_before`` (quote): the run's result so far moves into
    (or out of) the grid."""
    empty_line: int
    plan: PlanPreview
    """The new grid's plan summary at the reference price."""


class GridEditAccepted(BaseModel):
    request_id: int
    status: str
    """``queued``: recorded for the run's worker, which applies it at a tick of the run."""
    preview: GridEditPreview


class KillSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[PlainText, Field(min_length=1, max_length=300)] = "kill switch by the client"


class KillSwitchState(BaseModel):
    active: bool
    guards: list[GuardView]
    runs_stopped: list[str] = []


def views(rows: Any, schema: type[BaseModel]) -> list[Any]:
    """``schema`` views of ORM rows (by attribute)."""
    return [schema.model_validate(row, from_attributes=True) for row in rows]
