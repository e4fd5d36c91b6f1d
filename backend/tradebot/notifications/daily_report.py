"""The daily P&L email of one client: its figures, and the message rendered from templates.

The totals are the ``daily_pnl`` audit entry the worker's cron wrote for the day (sums of the
runs' engine state, the day's fill count); the P&L is split into grid profit (realised by
round trips) and price P&L (the change in value of the coins held: total P&L minus grid
profit). Each bot's line comes from its run's current engine state, its working orders, and
the guards that tripped during the day.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from importlib.resources import files
from string import Template
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.bots.repository import BotRepository
from tradebot.engine import core
from tradebot.kit.scope import ClientScope
from tradebot.models.runs import BotRun, RunStatus
from tradebot.notifications.chart import HEIGHT, WIDTH, pnl_png
from tradebot.notifications.repository import DailySummaryRepository, GuardEventRepository
from tradebot.runs.repository import OrderRepository, RunRepository, SnapshotRepository

CURRENCY = "USDT"


@dataclass(frozen=True)
class BotLine:
    name: str
    pair: str
    mode: str
    status: str
    grid_profit: float
    price_pnl: float
    fees: float
    round_trips: int
    open_orders: int


@dataclass(frozen=True)
class GuardEvent:
    guard: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class DailyReport:
    day: date
    grid_profit: float
    price_pnl: float
    pnl: float
    fees: float
    round_trips: int
    fills: int
    equity: float
    investment: float
    runs: int
    running: int
    open_orders: int
    guard_events: list[GuardEvent]
    bots: list[BotLine]
    pnl_curve: list[tuple[int, float]] = field(default_factory=list)
    """(time, the client's P&L) through the day, from its runs' snapshots."""

    @property
    def subject(self) -> str:
        return f"TradeBot daily P&L {self.day.isoformat()}: {money(self.pnl, signed=True)}"


def day_target(day: date) -> str:
    """The audit target of a day's summary, as ``workers.daily`` writes it."""
    return f"day {day.isoformat()}"


def money(value: float, *, signed: bool = False) -> str:
    return f"{value:+,.2f} {CURRENCY}" if signed else f"{value:,.2f} {CURRENCY}"


def _state(run: BotRun, slot: int) -> float:
    return float(run.state[slot]) if len(run.state) >= core.STATE_SIZE else 0.0


async def daily_report(session: AsyncSession, scope: ClientScope, day: date) -> DailyReport | None:
    """The client's report of ``day``; ``None`` until the cron wrote the day's summary."""
    entry = await DailySummaryRepository(session, scope).of_day(day_target(day))
    if entry is None:
        return None
    figures: dict[str, Any] = entry.details
    start = datetime.combine(day, time(), UTC)
    end = start + timedelta(days=1)
    runs = [
        run
        for run in await RunRepository(session, scope).list(order_by=(BotRun.created_at,))
        if run.status == RunStatus.RUNNING.value or run.updated_at.replace(tzinfo=UTC) >= start
    ]
    bots = BotRepository(session, scope)
    orders = OrderRepository(session, scope)
    lines: list[BotLine] = []
    for run in runs:
        bot = await bots.find(run.config.get("bot_id"))
        grid_profit = _state(run, core.GRID_PROFIT)
        pnl = _state(run, core.EQUITY) - _state(run, core.INVESTMENT)
        lines.append(
            BotLine(
                name=bot.name if bot is not None else run.id,
                pair=run.pair,
                mode=run.mode,
                status=run.status,
                grid_profit=grid_profit,
                price_pnl=pnl - grid_profit,
                fees=_state(run, core.FEES),
                round_trips=int(_state(run, core.ROUND_TRIPS)),
                open_orders=len(await orders.working(run.id)),
            )
        )
    guards = await GuardEventRepository(session, scope).tripped_between(start, end)
    snapshots = await SnapshotRepository(session, scope).equity_between(
        [run.id for run in runs], _ms(start), _ms(end)
    )
    realised, pnl = float(figures.get("realised", 0.0)), float(figures.get("pnl", 0.0))
    return DailyReport(
        day=day,
        grid_profit=realised,
        price_pnl=pnl - realised,
        pnl=pnl,
        fees=float(figures.get("fees", 0.0)),
        round_trips=int(figures.get("round_trips", 0)),
        fills=int(figures.get("fills", 0)),
        equity=float(figures.get("equity", 0.0)),
        investment=float(figures.get("investment", 0.0)),
        runs=int(figures.get("runs", 0)),
        running=int(figures.get("running", 0)),
        open_orders=sum(line.open_orders for line in lines),
        guard_events=[GuardEvent(g.guard, g.reason, g.tripped_at) for g in guards],
        bots=lines,
        pnl_curve=summed_pnl(snapshots, {run.id: _state(run, core.INVESTMENT) for run in runs}),
    )


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def summed_pnl(
    snapshots: list[tuple[str, int, float]], invested: dict[str, float]
) -> list[tuple[int, float]]:
    """The client's P&L at each snapshot time: every run's latest equity by then less what it
    invested, summed (runs snapshot at phases of their own, so one run's point carries the
    others' last; a run not started yet counts nothing)."""
    latest: dict[str, float] = {}
    curve: list[tuple[int, float]] = []
    for run, ts, equity in snapshots:
        latest[run] = equity - invested.get(run, 0.0)
        total = sum(latest.values())
        if curve and curve[-1][0] == ts:
            curve[-1] = (ts, total)
        else:
            curve.append((ts, total))
    return curve


def _template(name: str) -> Template:
    source = files("tradebot.notifications") / "templates" / name
    return Template(source.read_text(encoding="utf-8"))


def _figures(report: DailyReport) -> dict[str, str]:
    return {
        "day": report.day.isoformat(),
        "pnl": money(report.pnl, signed=True),
        "grid_profit": money(report.grid_profit, signed=True),
        "price_pnl": money(report.price_pnl, signed=True),
        "fees": money(report.fees),
        "round_trips": str(report.round_trips),
        "fills": str(report.fills),
        "equity": money(report.equity),
        "investment": money(report.investment),
        "runs": str(report.runs),
        "running": str(report.running),
        "open_orders": str(report.open_orders),
        "guard_count": str(len(report.guard_events)),
        "pnl_colour": "#127a3a" if report.pnl >= 0 else "#b3261e",
    }


def _bot_figures(line: BotLine) -> dict[str, str]:
    return {
        "name": line.name,
        "pair": line.pair,
        "mode": line.mode,
        "status": line.status,
        "grid_profit": money(line.grid_profit, signed=True),
        "price_pnl": money(line.price_pnl, signed=True),
        "fees": money(line.fees),
        "round_trips": str(line.round_trips),
        "open_orders": str(line.open_orders),
    }


def _guard_figures(event: GuardEvent) -> dict[str, str]:
    return {"guard": event.guard, "reason": event.reason, "at": f"{event.at:%H:%M} UTC"}


def render_text(report: DailyReport) -> str:
    bot_row, guard_row = _template("bot_line.txt"), _template("guard_line.txt")
    bots = "".join(bot_row.substitute(_bot_figures(line)) for line in report.bots)
    guards = "".join(guard_row.substitute(_guard_figures(e)) for e in report.guard_events)
    return _template("daily_pnl.txt").substitute(
        _figures(report), bots=bots or "  (no bot traded)\n", guards=guards or "  none\n"
    )


CHART_CID = "equity-chart"


def render_html(report: DailyReport) -> str:
    def escaped(values: dict[str, str]) -> dict[str, str]:
        return {name: html.escape(value) for name, value in values.items()}

    bot_row, guard_row = _template("bot_line.html"), _template("guard_line.html")
    bots = "".join(bot_row.substitute(escaped(_bot_figures(line))) for line in report.bots)
    guards = "".join(guard_row.substitute(escaped(_guard_figures(e))) for e in report.guard_events)
    none = '<tr><td colspan="6" class="none">No bot traded.</td></tr>'
    chart = ""
    if len(report.pnl_curve) >= 2:
        chart = (
            f'<img class="chart" src="cid:{CHART_CID}" width="{WIDTH}" height="{HEIGHT}" '
            'alt="Your P&amp;L through the day; the dashed line is break-even">'
        )
    return _template("daily_pnl.html").substitute(
        escaped(_figures(report)),
        chart=chart,
        bots=bots or none,
        guards=guards or '<li class="none">No guard tripped.</li>',
    )


def daily_email(report: DailyReport, sender: str, recipients: list[str]) -> EmailMessage:
    """The message: plain text, with the HTML version as its alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = report.subject
    message.set_content(render_text(report))
    message.add_alternative(render_html(report), subtype="html")
    if len(report.pnl_curve) >= 2:
        page = message.get_body(("html",))
        assert page is not None
        png = pnl_png(report.pnl_curve)
        page.add_related(png, "image", "png", cid=f"<{CHART_CID}>", filename="equity.png")
    return message
