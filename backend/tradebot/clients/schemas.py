"""The shape of a client's ``limits`` JSON, and the client as shown to operators.

``limits`` overrides the runtime defaults (``tradebot.config.Settings``) for one client::

    {"risk":  {"bankrollUsd": 5000, "maxPerTradePct": 2, "perTradeUsd": 50},
     "guard": {"maxGlobalDrawdownUsd": 800, "maxRunLossUsd": 300,
               "maxApiErrorsPerMin": 10, "staleTickerMs": 15000},
     "plan":  {"maxRuns": 3, "maxGridSteps": 60, "liveTrading": false}}

Every key is optional; unknown keys and wrong types are refused (strict: ``"5"`` is not a
number) with the path of the field, e.g. ``limits.guard.maxRunLossUsd: Input should be a
valid number``.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from tradebot.clients.plans import PlanName, plan_spec
from tradebot.errors import BadInputError
from tradebot.models.clients import Client

Usd = Annotated[float, Field(gt=0)]


class ClientStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class _Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel)


class RiskLimits(_Limits):
    bankroll_usd: Usd | None = None
    max_per_trade_pct: Annotated[float, Field(gt=0, le=100)] | None = None
    per_trade_usd: Usd | None = None


class GuardLimits(_Limits):
    max_global_drawdown_usd: Usd | None = None
    max_run_loss_usd: Usd | None = None
    max_api_errors_per_min: Annotated[int, Field(ge=1)] | None = None
    stale_ticker_ms: Annotated[int, Field(ge=100)] | None = None


class PlanLimits(_Limits):
    max_runs: Annotated[int, Field(ge=0)] | None = None
    max_grid_steps: Annotated[int, Field(ge=2)] | None = None
    live_trading: bool | None = None


class RegimeLimits(_Limits):
    auto_adjust: bool | None = None
    """Re-centre the grid when the regime analysis says the market ranges outside it."""


class ClientLimits(_Limits):
    risk: RiskLimits = RiskLimits()
    guard: GuardLimits = GuardLimits()
    plan: PlanLimits = PlanLimits()
    regime: RegimeLimits = RegimeLimits()

    def to_json(self) -> dict[str, Any]:
        """The stored form: camelCase keys, unset fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)


class EffectivePlan(BaseModel):
    """A plan's limits after the client's overrides."""

    model_config = ConfigDict(frozen=True)

    max_runs: int
    max_grid_steps: int
    live_trading: bool


MAX_GRID_STEPS: dict[PlanName, int] = {
    PlanName.TRIAL: 100,
    PlanName.STARTER: 100,
    PlanName.PRO: 500,
    PlanName.MANAGED: 2000,
}
"""Lines per grid by plan; the plans' other limits are ``billing.plans.PLANS``."""


def effective_plan(plan: str, overrides: PlanLimits) -> EffectivePlan:
    """The plan's limits (an unknown plan gets the trial's) with the client's overrides."""
    spec = plan_spec(plan)
    base = EffectivePlan(
        max_runs=spec.max_running_bots,
        max_grid_steps=MAX_GRID_STEPS[spec.name],
        live_trading=spec.live_trading,
    )
    return base.model_copy(update=overrides.model_dump(exclude_none=True))


def parse_limits(value: str | dict[str, Any], where: str = "limits") -> ClientLimits:
    """Validate a ``limits`` document (JSON text or parsed); errors name the bad field's path."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise BadInputError(
                f"{where}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    if not isinstance(value, dict):
        raise BadInputError(f"{where}: must be a JSON object")
    try:
        return ClientLimits.model_validate(value)
    except ValidationError as exc:
        raise BadInputError(first_error(exc, where)) from None


def first_error(exc: ValidationError, where: str) -> str:
    """``where.path.to.field: message`` of the first error, and how many more there are."""
    errors = exc.errors()
    first = errors[0]
    path = ".".join([where, *(str(part) for part in first["loc"])])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{path}: {first['msg']}{more}"


class ClientView(BaseModel):
    """A client as the admin CLI and the API show it."""

    id: str
    name: str
    owner: str
    plan: str
    status: str
    limits: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Client) -> ClientView:
        return cls.model_validate(row, from_attributes=True)
