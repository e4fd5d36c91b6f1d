"""Walk-forward runs: per stage, choose a grid in-sample (optionally by a sweep), then trade it
out-of-sample, and report both.

Each window is an independent backtest: a fresh grid with the stage's capital starts at the
window's first open (``run_backtest`` on ``Candles.window``). Everything that can be wrong
(settings, windows, grids, sweep ranges) is checked for every stage before any stage runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tradebot.candles.model import DAY_MS, Candles
from tradebot.engine.errors import GridPlanError
from tradebot.engine.plan import GridPlan, build_plan
from tradebot.engine.types import GridConfig, MarketRules, Spacing
from tradebot.errors import BadInputError, ConfigError
from tradebot.research.backtest import run_backtest
from tradebot.research.result import GridResult
from tradebot.research.sweep import Skipped, SweepResult, SweepSpace, plan_space, run_sweep
from tradebot.research.walkforward_config import (
    StageSpec,
    WalkForwardConfig,
    WalkForwardConfigError,
    WindowSpec,
)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class Window:
    """Candles whose open time is in [start_ms, end_ms)."""

    start_ms: int
    end_ms: int

    @property
    def days(self) -> float:
        return (self.end_ms - self.start_ms) / DAY_MS

    def label(self) -> str:
        return f"{iso(self.start_ms)} → {iso(self.end_ms)}"


def _resolve(spec: WindowSpec, start: int | None, end: int | None) -> Window:
    """Fill in a window from its spec; ``start``/``end`` anchor a spec that gives only days."""
    length = round(spec.days * DAY_MS) if spec.days is not None else None
    lo, hi = spec.start_ms, spec.end_ms
    if lo is None and hi is None:
        lo, hi = start, end
    if lo is None:
        assert hi is not None
        assert length is not None
        lo = hi - length
    if hi is None:
        assert length is not None
        hi = lo + length
    return Window(lo, hi)


def resolve_windows(
    stages: list[StageSpec], first_ms: int, end_ms: int
) -> list[tuple[Window, Window]]:
    """Every stage's in- and out-of-sample windows over candles spanning [first_ms, end_ms)."""
    windows: list[tuple[Window, Window]] = []
    previous_end: int | None = None
    for stage in stages:
        where = stage.where
        inside = _resolve(stage.in_sample, first_ms if previous_end is None else None, previous_end)
        outside = _resolve(stage.out_of_sample, inside.end_ms, None)
        if inside.start_ms < first_ms:
            raise WalkForwardConfigError(
                f"{where}.in_sample starts {iso(inside.start_ms)}, before the first candle "
                f"({iso(first_ms)})"
            )
        if outside.start_ms < inside.end_ms:
            raise WalkForwardConfigError(
                f"{where}.out_of_sample starts {iso(outside.start_ms)}, inside the in-sample "
                f"window (which ends {iso(inside.end_ms)})"
            )
        for name, window in (("in_sample", inside), ("out_of_sample", outside)):
            if window.end_ms > end_ms:
                raise WalkForwardConfigError(
                    f"{where}.{name} ends {iso(window.end_ms)}, after the candles end "
                    f"({iso(end_ms)})"
                )
        windows.append((inside, outside))
        previous_end = outside.end_ms
    return windows


@dataclass(slots=True)
class PreparedStage:
    """A checked stage: its candles, its grid settings and either a plan or a space to sweep."""

    spec: StageSpec
    in_window: Window
    out_window: Window
    in_candles: Candles
    out_candles: Candles
    plan: GridPlan | None
    space: SweepSpace | None
    planned: tuple[list[GridPlan], Skipped] | None


def _grid_config(
    config: WalkForwardConfig, stage: StageSpec
) -> tuple[GridConfig, MarketRules | None]:
    """The stage's grid from layered settings, and its pair's rounding (None when exact)."""
    from tradebot.config import load_settings
    from tradebot.venues.catalog import offline_rules

    try:
        load_settings(**config.settings)
    except ConfigError as exc:
        raise WalkForwardConfigError(f"settings.{exc}") from None
    try:
        settings = load_settings(**{**config.settings, **stage.settings})
        grid = settings.grid_config()
    except ConfigError as exc:
        named = str(exc).split(":", 1)[0] in stage.settings
        raise WalkForwardConfigError(
            f"{stage.where}.settings.{exc}" if named else f"{stage.where}: {exc}"
        ) from None
    try:
        return grid, None if config.exact else offline_rules(settings.GRID_PAIR)
    except BadInputError as exc:
        raise WalkForwardConfigError(f"{stage.where}.settings.GRID_PAIR: {exc}") from None


def _space(stage: StageSpec, base: GridConfig, rules: MarketRules | None) -> SweepSpace:
    sweep = stage.sweep
    assert sweep is not None
    return SweepSpace(
        lowers=tuple(sweep.lower or (base.lower,)),
        uppers=tuple(sweep.upper or (base.upper,)),
        lines=tuple(sweep.lines or (base.lines,)),
        spacings=tuple(Spacing(s) for s in sweep.spacing) if sweep.spacing else (base.spacing,),
        investment=base.investment,
        maker_fee=base.maker_fee,
        taker_fee=base.taker_fee,
        take_profit=base.take_profit,
        rules=rules,
    )


def prepare(config: WalkForwardConfig, candles: Candles) -> list[PreparedStage]:
    """Check every stage against ``candles``; raises one line naming the file and the first bad
    field."""
    try:
        return _prepare(config, candles)
    except WalkForwardConfigError as exc:
        raise WalkForwardConfigError(f"{config.source}: {exc}") from None


def _prepare(config: WalkForwardConfig, candles: Candles) -> list[PreparedStage]:
    if len(candles) == 0:
        raise BadInputError(f"{candles.source or 'candles'}: no candles")
    end_ms = int(candles.ts[-1]) + candles.timeframe_ms
    windows = resolve_windows(config.stages, int(candles.ts[0]), end_ms)
    prepared = []
    for stage, (inside, outside) in zip(config.stages, windows, strict=True):
        parts = {}
        for name, window in (("in_sample", inside), ("out_of_sample", outside)):
            part = candles.window(window.start_ms, window.end_ms)
            if len(part) == 0:
                raise WalkForwardConfigError(
                    f"{stage.where}.{name}: no candles in {window.label()}"
                )
            parts[name] = part
        base, rules = _grid_config(config, stage)
        plan = space = planned = None
        try:
            if stage.sweep is None:
                plan = build_plan(base, rules)
            else:
                space = _space(stage, base, rules)
                planned = plan_space(space)
        except (GridPlanError, BadInputError) as exc:
            raise WalkForwardConfigError(f"{stage.where}: {exc}") from None
        prepared.append(
            PreparedStage(
                stage,
                inside,
                outside,
                parts["in_sample"],
                parts["out_of_sample"],
                plan,
                space,
                planned,
            )
        )
    return prepared


@dataclass(slots=True)
class StageOutcome:
    name: str
    in_window: Window
    out_window: Window
    plan: GridPlan
    sweep: SweepResult | None
    metric: str | None
    in_sample: GridResult
    out_of_sample: GridResult

    def to_json(self) -> dict[str, Any]:
        config = self.plan.config
        chosen: dict[str, Any] | None = None
        if self.sweep is not None and self.metric is not None:
            chosen = {
                "metric": self.metric,
                "combinations": self.sweep.space.size,
                "valid": len(self.sweep.plans),
                "skipped": self.sweep.skipped.to_json(),
                "best": self.sweep.ranked_rows(self.metric, 1)[0],
            }
        return {
            "name": self.name,
            "grid": {
                "lower": config.lower,
                "upper": config.upper,
                "lines": config.lines,
                "spacing": config.spacing.value,
                "investment": config.investment,
                "maker_fee": config.maker_fee,
                "taker_fee": config.taker_fee,
                "take_profit": config.take_profit,
            },
            "sweep": chosen,
            "in_sample": _window_json(self.in_window, self.in_sample),
            "out_of_sample": _window_json(self.out_window, self.out_of_sample),
        }


def _window_json(window: Window, result: GridResult) -> dict[str, Any]:
    return {
        "start": iso(window.start_ms),
        "end": iso(window.end_ms),
        "start_ms": window.start_ms,
        "end_ms": window.end_ms,
        "candles": int(result.ts.shape[0]),
        "results": {
            **result.spec_results(),
            "total_return_pct": result.total_pnl / result.investment * 100,
            "sharpe": result.sharpe,
            "apr_grid_profit": result.apr_grid_profit,
            "time_in_range": result.time_in_range,
            "stopped_by_take_profit": result.stopped_by_take_profit,
        },
    }


@dataclass(slots=True)
class WalkForwardReport:
    config: str
    candles: str
    stages: list[StageOutcome]

    @property
    def out_of_sample_pnl(self) -> float:
        return sum(s.out_of_sample.total_pnl for s in self.stages)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "candles": self.candles,
            "stages": [s.to_json() for s in self.stages],
            "out_of_sample_total_pnl": self.out_of_sample_pnl,
        }


def run_walkforward(
    config: WalkForwardConfig,
    candles: Candles,
    *,
    on_stage: Callable[[int, int, str], None] | None = None,
) -> WalkForwardReport:
    """Run every stage in order; ``on_stage(done, total, name)`` reports progress."""
    prepared = prepare(config, candles)
    outcomes = []
    for done, stage in enumerate(prepared):
        if on_stage:
            on_stage(done, len(prepared), stage.spec.name)
        sweep = None
        metric = None
        plan = stage.plan
        if stage.space is not None:
            assert stage.spec.sweep is not None
            metric = stage.spec.sweep.metric
            sweep = run_sweep(stage.space, stage.in_candles, planned=stage.planned)
            plan = sweep.plans[int(sweep.ranking(metric)[0])]
        assert plan is not None
        outcomes.append(
            StageOutcome(
                name=stage.spec.name,
                in_window=stage.in_window,
                out_window=stage.out_window,
                plan=plan,
                sweep=sweep,
                metric=metric,
                in_sample=run_backtest(plan, stage.in_candles),
                out_of_sample=run_backtest(plan, stage.out_candles),
            )
        )
    if on_stage:
        on_stage(len(prepared), len(prepared), "done")
    return WalkForwardReport(config=config.source, candles=candles.source, stages=outcomes)
