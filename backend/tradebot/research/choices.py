"""Names the optimisation commands accept, importable without numpy so ``--help`` stays fast."""

from __future__ import annotations

RANKING = {
    "total_pnl": True,
    "return_pct": True,
    "grid_profit": True,
    "sharpe": True,
    "max_drawdown": False,
    "round_trips": True,
    "fees_paid": False,
    "equity": True,
    "min_quote": True,
}
"""Metric name -> whether a higher value ranks first (the backtest's ``--json`` names)."""

PARAMETERS = ("lower", "upper", "lines", "spacing")
"""What a sweep varies, and the axes its heatmap can use."""

SPACINGS = ("arithmetic", "geometric")
