"""The self-contained HTML report (plotly, inlined once): candles with grid lines and fills,
equity against buy & hold, daily P&L bars, the summary and the fills table."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tradebot.candles.model import Candles
from tradebot.engine.types import Side
from tradebot.kit.files import write_atomic
from tradebot.report.figures import summary_figures
from tradebot.research.result import GridResult

MAX_CHART_CANDLES = 4_000
MAX_TABLE_FILLS = 2_000


def _dates(ts_ms: np.ndarray) -> np.ndarray:
    return ts_ms.astype("datetime64[ms]")


def _resample(candles: Candles) -> dict[str, np.ndarray]:
    """Merge candles into wider bars so a year still draws quickly (OHLC stays exact per bar)."""
    n = len(candles)
    starts = np.arange(0, n, max(1, -(-n // MAX_CHART_CANDLES)))
    ends = np.append(starts[1:], n) - 1
    return {
        "ts": candles.ts[starts],
        "open": candles.open[starts],
        "high": np.maximum.reduceat(candles.high, starts),
        "low": np.minimum.reduceat(candles.low, starts),
        "close": candles.close[ends],
    }


def _price_figure(result: GridResult, candles: Candles) -> str:
    import plotly.graph_objects as go

    bars = _resample(candles)
    fig = go.Figure()
    fig.add_trace(
        go.Candlestick(
            x=_dates(bars["ts"]),
            open=bars["open"],
            high=bars["high"],
            low=bars["low"],
            close=bars["close"],
            name="price",
        )
    )
    for price in result.plan.prices:
        fig.add_hline(y=float(price), line={"width": 0.6, "color": "rgba(120,120,160,0.45)"})
    for side, colour, symbol in (
        (Side.BUY, "#1a9850", "triangle-up"),
        (Side.SELL, "#d73027", "triangle-down"),
    ):
        picked = [f for f in result.fills if f.side is side]
        fig.add_trace(
            go.Scatter(
                x=_dates(np.array([f.ts for f in picked], dtype=np.int64)),
                y=[f.price for f in picked],
                mode="markers",
                name=f"{side.value} fills",
                marker={"color": colour, "symbol": symbol, "size": 8},
            )
        )
    fig.update_layout(
        title="Price, grid lines and fills",
        xaxis_rangeslider_visible=False,
        height=560,
        margin={"l": 40, "r": 20, "t": 50, "b": 30},
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=True, div_id="price"))


def _equity_figure(result: GridResult, candles: Candles) -> str:
    import plotly.graph_objects as go

    step = max(1, -(-result.ts.shape[0] // 20_000))
    ts = _dates(result.ts[::step])
    hold = result.investment / result.first_open * candles.close[::step]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ts, y=result.equity_curve[::step], name="grid equity"))
    fig.add_trace(go.Scatter(x=ts, y=hold, name="buy & hold", line={"dash": "dot"}))
    fig.update_layout(
        title="Equity vs buy & hold (quote)",
        height=380,
        margin={"l": 40, "r": 20, "t": 50, "b": 30},
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id="equity"))


def _daily_figure(result: GridResult) -> str:
    import plotly.graph_objects as go

    days = [
        datetime.fromtimestamp(d.day_ms / 1000, tz=UTC).strftime("%Y-%m-%d") for d in result.daily
    ]
    pnl = [d.pnl for d in result.daily]
    fig = go.Figure(
        go.Bar(x=days, y=pnl, marker_color=["#1a9850" if p >= 0 else "#d73027" for p in pnl])
    )
    fig.update_layout(
        title="Daily P&L (quote)", height=320, margin={"l": 40, "r": 20, "t": 50, "b": 30}
    )
    return str(fig.to_html(full_html=False, include_plotlyjs=False, div_id="daily"))


def _summary_rows(result: GridResult) -> str:
    """The terminal's summary table: the same labels, units and digits (``report.figures``)."""
    return "".join(
        f"<tr><th>{html.escape(figure.label)}</th>"
        f"<td class='{figure.tone.value}'>{html.escape(figure.value)}</td></tr>"
        for figure in summary_figures(result)
    )


def _fills_rows(result: GridResult) -> str:
    rows = []
    for f in result.fills[:MAX_TABLE_FILLS]:
        when = datetime.fromtimestamp(f.ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append(
            f"<tr class='{f.side.value}'><td>{when}</td><td>{f.side.value}</td>"
            f"<td>{'market' if f.is_market else f.line}</td><td>{f.price:,.2f}</td>"
            f"<td>{f.qty:.8f}</td><td>{f.fee:.6f}</td></tr>"
        )
    more = len(result.fills) - MAX_TABLE_FILLS
    if more > 0:
        rows.append(f"<tr><td colspan=6>… {more} more fills in the CSV</td></tr>")
    return "".join(rows)


def render_html(result: GridResult, candles: Candles, title: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 12px 0; }}
th, td {{ padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }}
th {{ text-align: left; }}
td.gain {{ color: #1a9850; }} td.loss {{ color: #d73027; }}
tr.buy td:nth-child(2) {{ color: #1a9850; }} tr.sell td:nth-child(2) {{ color: #d73027; }}
.fills {{ max-height: 420px; overflow-y: auto; display: inline-block; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<table id="summary">{_summary_rows(result)}</table>
{_price_figure(result, candles)}
{_equity_figure(result, candles)}
{_daily_figure(result)}
<h2>Fills ({len(result.fills)})</h2>
<div class="fills"><table id="fills"><tr><th>time (UTC)</th><th>side</th><th>line</th>
<th>price</th><th>qty</th><th>fee</th></tr>{_fills_rows(result)}</table></div>
</body></html>
"""


def write_html(result: GridResult, candles: Candles, title: str, path: Path) -> Path:
    return write_atomic(path, render_html(result, candles, title))
