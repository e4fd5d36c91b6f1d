"""The status page: one table of the latest runs, refreshing itself (no script, no assets)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from tradebot.ops.status import FleetStatus, RunStatusRow

REFRESH_S = 10
STALE_AFTER_S = 120.0
"""A running run silent for this long is shown stale (its loop commits at least every few
ticks while it trades)."""


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:+,.2f}"


def _moment(ms: int | None) -> str:
    if ms is None:
        return "–"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _row(run: RunStatusRow) -> str:
    stale = run.status == "running" and run.stale_s > STALE_AFTER_S
    guards = "<br>".join(escape(g) for g in run.guards) or "ok"
    cells = [
        f'<td class="run">{escape(run.run_id)}</td>',
        f"<td>{escape(run.client_id)}</td>",
        f"<td>{escape(run.mode)} {escape(run.pair)}</td>",
        f'<td class="status-{escape(run.status)}">{escape(run.status)}</td>',
        f'<td class="num pnl">{_money(run.pnl_usd)}</td>',
        f'<td class="num">{_money(run.grid_profit_usd)}</td>',
        f'<td class="num">{run.open_orders}</td>',
        f'<td class="{"tripped" if run.guards else ""}">{guards}</td>',
        f"<td>{_moment(run.last_fill_ms)}</td>",
        f'<td class="num{" stale" if stale else ""}">{run.stale_s:.0f} s</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def render_status_page(status: FleetStatus) -> str:
    rows = "\n".join(_row(run) for run in status.runs) or '<tr><td colspan="10">no runs</td></tr>'
    generated = status.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{REFRESH_S}">
<title>TradeBot runs</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1b1f23; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }}
th {{ background: #f3f4f6; }}
.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.tripped, .status-tripped, .status-failed {{ color: #b42318; font-weight: 600; }}
.stale {{ background: #fff4ce; }}
</style>
</head>
<body>
<h1>TradeBot runs</h1>
<p>Runs shown: {len(status.runs)} (the newest), as of {generated}; this page refreshes
every {REFRESH_S} s (the same at <a href="/api/status">/api/status</a>).</p>
<table>
<thead><tr><th>run</th><th>client</th><th>market</th><th>status</th><th>P&amp;L (USD)</th>
<th>grid profit (USD)</th><th>open orders</th><th>guards</th><th>last fill (UTC)</th>
<th>silent for</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""
