"""The walk-forward config file: stages of in-sample and out-of-sample windows, read strictly.

```json
{
  "description": "free text",
  "candles": "optional candle file, relative to this config (default: the bundled demo week)",
  "exact": false,
  "settings": {"GRID_LOWER": 94000, "GRID_STEPS": 30},
  "stages": [
    {"name": "first", "in_sample": {"start": "2024-12-01", "days": 2},
     "out_of_sample": {"days": 1}, "settings": {"TP": 5},
     "sweep": {"lower": "94000:96000:1000", "lines": [20, 40], "metric": "total_pnl"}}
  ]
}
```

A window is ``{"start", "end"}``, ``{"start", "days"}``, ``{"end", "days"}`` or ``{"days"}``
(times are ISO dates or datetimes, UTC unless they say otherwise; ``end`` is exclusive).
Without a start, the first stage's in-sample window begins at the first candle and a later
one ends where the previous stage's out-of-sample window ended, so the out-of-sample windows
tile the series; an out-of-sample window without a start begins where its in-sample window
ends. Settings are layered: environment, then the file's ``settings``, then the stage's.
Grids round to GRID_PAIR's exchange rules, as ``tradebot backtest`` does, unless
``"exact": true``. Every problem is one line naming the field; unknown keys are refused.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradebot.errors import BadInputError
from tradebot.research import ranges
from tradebot.research.choices import RANKING, SPACINGS

GRID_SETTINGS = (
    "GRID_PAIR",
    "GRID_LOWER",
    "GRID_UPPER",
    "GRID_STEPS",
    "GRID_SPACING",
    "GRID_INVESTMENT",
    "MAKER_FEE",
    "TAKER_FEE",
    "TP",
    "BANKROLL_USD",
    "MAX_PER_TRADE_PCT",
    "PER_TRADE_USD",
)
_TOP_KEYS = ("description", "candles", "exact", "settings", "stages")
_STAGE_KEYS = ("name", "in_sample", "out_of_sample", "settings", "sweep")
_WINDOW_KEYS = ("start", "end", "days")
_SWEEP_KEYS = ("lower", "upper", "lines", "spacing", "metric")


class WalkForwardConfigError(BadInputError):
    """The config file is unreadable or a field is wrong; the message names the field."""


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A window as written: any of start/end (ms UTC) and a length in days."""

    start_ms: int | None = None
    end_ms: int | None = None
    days: float | None = None


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """Values to sweep in-sample; a parameter left out keeps the stage's setting."""

    lower: list[float] | None = None
    upper: list[float] | None = None
    lines: list[int] | None = None
    spacing: list[str] | None = None
    metric: str = "total_pnl"


@dataclass(frozen=True, slots=True)
class StageSpec:
    name: str
    where: str
    """The stage's place in the file (``stages[1]``), for error messages."""
    in_sample: WindowSpec
    out_of_sample: WindowSpec
    settings: dict[str, Any] = field(default_factory=dict)
    sweep: SweepSpec | None = None


@dataclass(frozen=True, slots=True)
class WalkForwardConfig:
    source: str
    candles: Path | None
    settings: dict[str, Any]
    stages: list[StageSpec]
    exact: bool = False


def _fail(where: str, problem: str) -> WalkForwardConfigError:
    return WalkForwardConfigError(f"{where or 'config'}: {problem}")


def _object(where: str, value: object, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, f"expected an object (got {type(value).__name__})")
    unknown = [k for k in value if k not in keys]
    if unknown:
        raise _fail(
            f"{where}.{unknown[0]}" if where else unknown[0],
            f"unknown key (known: {', '.join(keys)})",
        )
    return value


def _time_ms(where: str, value: object) -> int:
    if not isinstance(value, str):
        raise _fail(where, f"expected an ISO date or datetime string (got {value!r})")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"{value!r} is not an ISO date or datetime (e.g. 2024-12-01)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _window(where: str, value: object) -> WindowSpec:
    data = _object(where, value, _WINDOW_KEYS)
    days = data.get("days")
    if days is not None and (
        isinstance(days, bool)
        or not isinstance(days, int | float)
        or not math.isfinite(days)
        or days <= 0
    ):
        raise _fail(f"{where}.days", f"must be a number of days > 0 (got {days!r})")
    given = [k for k in _WINDOW_KEYS if k in data]
    if given not in (["start", "end"], ["start", "days"], ["end", "days"], ["days"]):
        raise _fail(where, "give start and end, start and days, end and days, or days alone")
    spec = WindowSpec(
        start_ms=_time_ms(f"{where}.start", data["start"]) if "start" in data else None,
        end_ms=_time_ms(f"{where}.end", data["end"]) if "end" in data else None,
        days=float(days) if days is not None else None,
    )
    if spec.start_ms is not None and spec.end_ms is not None and spec.end_ms <= spec.start_ms:
        raise _fail(f"{where}.end", "must be after start")
    return spec


def _settings(where: str, value: object) -> dict[str, Any]:
    return dict(_object(where, value, GRID_SETTINGS))


def _sweep(where: str, value: object) -> SweepSpec:
    data = _object(where, value, _SWEEP_KEYS)
    metric = data.get("metric", "total_pnl")
    if metric not in RANKING:
        raise _fail(
            f"{where}.metric", f"unknown metric {metric!r} (choose from {', '.join(RANKING)})"
        )

    def spacing(name: str, text: str) -> list[str]:
        return ranges.parse_choices(name, text, SPACINGS)

    parsers: dict[str, Callable[[str, str], list[Any]]] = {
        "lower": ranges.parse_floats,
        "upper": ranges.parse_floats,
        "lines": ranges.parse_ints,
        "spacing": spacing,
    }
    try:
        values: dict[str, list[Any]] = {
            key: ranges.values_from_json(f"{where}.{key}", data[key], parse)
            for key, parse in parsers.items()
            if key in data
        }
    except ranges.RangeError as exc:
        raise WalkForwardConfigError(str(exc)) from None
    return SweepSpec(metric=metric, **values)


def _stage(index: int, value: object) -> StageSpec:
    where = f"stages[{index}]"
    data = _object(where, value, _STAGE_KEYS)
    for required in ("in_sample", "out_of_sample"):
        if required not in data:
            raise _fail(f"{where}.{required}", "missing")
    name = data.get("name", f"stage {index + 1}")
    if not isinstance(name, str) or not name.strip():
        raise _fail(f"{where}.name", f"expected a non-empty string (got {name!r})")
    return StageSpec(
        name=name,
        where=where,
        in_sample=_window(f"{where}.in_sample", data["in_sample"]),
        out_of_sample=_window(f"{where}.out_of_sample", data["out_of_sample"]),
        settings=_settings(f"{where}.settings", data.get("settings", {})),
        sweep=_sweep(f"{where}.sweep", data["sweep"]) if "sweep" in data else None,
    )


def parse_config(data: object, *, source: str, base_dir: Path) -> WalkForwardConfig:
    """A config from decoded JSON; relative candle paths are taken from ``base_dir``.

    Errors start with ``source``, then the field: ``wf.json: stages[1].in_sample.days: ...``.
    """
    try:
        return _parse(data, source, base_dir)
    except WalkForwardConfigError as exc:
        raise WalkForwardConfigError(f"{source}: {exc}") from None


def _parse(data: object, source: str, base_dir: Path) -> WalkForwardConfig:
    top = _object("", data, _TOP_KEYS)
    stages = top.get("stages")
    if not isinstance(stages, list) or not stages:
        raise _fail("stages", "expected a non-empty list of stages")
    candles = top.get("candles")
    if candles is not None and (not isinstance(candles, str) or not candles):
        raise _fail("candles", f"expected a file path (got {candles!r})")
    exact = top.get("exact", False)
    if not isinstance(exact, bool):
        raise _fail("exact", f"expected true or false (got {exact!r})")
    return WalkForwardConfig(
        source=source,
        candles=(base_dir / candles) if candles else None,
        settings=_settings("settings", top.get("settings", {})),
        stages=[_stage(i, stage) for i, stage in enumerate(stages)],
        exact=exact,
    )


def load_config(path: Path) -> WalkForwardConfig:
    """Read and check ``path``; every problem is one line that starts with the file's name."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WalkForwardConfigError(f"{path}: no such walk-forward config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WalkForwardConfigError(f"{path}: cannot read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WalkForwardConfigError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    return parse_config(data, source=str(path), base_dir=Path(path).parent)
