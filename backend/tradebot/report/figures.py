"""The summary's figures, labelled and formatted once, for the terminal table and the HTML
report alike: the same labels, units and digits wherever a result is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from tradebot.research.result import GridResult


class Tone(Enum):
    """How a figure is coloured: by its sign, or as a warning."""

    PLAIN = "plain"
    GAIN = "gain"
    LOSS = "loss"


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    value: str
    tone: Tone = Tone.PLAIN


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %a")


def signed(value: float) -> Tone:
    return Tone.GAIN if value > 0 else Tone.LOSS if value < 0 else Tone.PLAIN


def money(value: float) -> str:
    return f"{value:+,.2f}"


def summary_figures(result: GridResult) -> list[Figure]:
    plan = result.plan
    cfg = plan.config
    share = result.investment
    figures = [
        Figure(
            "period (UTC)",
            f"{day(result.start_ts)} → {day(result.end_ts - 1)} ({result.days:.2f} d)",
        ),
        Figure(
            "grid", f"{cfg.lower:,.2f} – {cfg.upper:,.2f}, {plan.lines} lines, {cfg.spacing.value}"
        ),
        Figure("investment", f"{result.investment:,.2f}"),
        Figure("round trips", f"{result.round_trips}"),
        Figure("grid profit", money(result.grid_profit), signed(result.grid_profit)),
        Figure("fees paid", f"{result.fees_paid:,.4f}"),
        Figure("final base / quote", f"{result.final_base:.8f} / {result.final_quote:,.2f}"),
        Figure("equity", f"{result.equity:,.2f}"),
        Figure(
            "total P&L",
            f"{money(result.total_pnl)} ({result.total_pnl / share:+.2%})",
            signed(result.total_pnl),
        ),
        Figure(
            "buy & hold P&L",
            f"{money(result.buy_and_hold_pnl)} ({result.buy_and_hold_pnl / share:+.2%})",
            signed(result.buy_and_hold_pnl),
        ),
        Figure("max drawdown", f"{result.max_drawdown:.2%}"),
        Figure("APR of grid profit", f"{result.apr_grid_profit:.2%}"),
        Figure("Sharpe (daily, annualised)", f"{result.sharpe:.2f}"),
        Figure("time in range", f"{result.time_in_range:.1%}"),
        Figure("lowest quote balance", f"{result.min_quote:,.2f}"),
    ]
    if result.min_quote < 0:
        figures.append(Figure("warning", "quote went negative: the grid is underfunded", Tone.LOSS))
    if result.stopped_by_take_profit:
        figures.append(Figure("stopped", "take profit reached"))
    return figures
