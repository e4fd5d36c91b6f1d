"""The transactional mails: what each says, read from its event's row when it is sent, and the
message rendered from the kind's templates (a text and an HTML body in a shared layout).

Keys refused, guard tripped, run stopped, trial ending, payment failed (``mail_events``). The
figures are read at sending time in the client's own transaction: a retry an hour later says
what is true then of the event (the guard still active or reset, the run's final P&L).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from importlib.resources import files
from string import Template

from sqlalchemy.ext.asyncio import AsyncSession

from tradebot.billing.repository import StripeEventRepository
from tradebot.bots.repository import BotRepository
from tradebot.clients.plans import TRIAL_LENGTH
from tradebot.clients.repository import ClientRepository
from tradebot.engine import core
from tradebot.kit.scope import ClientScope
from tradebot.models.runs import BotRun
from tradebot.notifications.daily_report import money
from tradebot.notifications.mail_events import Mail
from tradebot.runs.repository import GuardRepository, RunRepository

TITLES = {
    Mail.KEYS_REFUSED: "Your exchange key was refused: trading is stopped",
    Mail.GUARD_TRIPPED: "A guard stopped trading",
    Mail.RUN_STOPPED: "A bot stopped",
    Mail.TRIAL_ENDING: "Your TradeBot trial ends soon",
    Mail.PAYMENT_FAILED: "Your TradeBot payment failed",
}


@dataclass(frozen=True)
class MailContent:
    kind: Mail
    subject: str
    fields: dict[str, str]
    """The values of the kind's templates' ``$placeholders``."""


def _at(moment: datetime) -> str:
    return f"{moment.replace(tzinfo=moment.tzinfo or UTC):%Y-%m-%d %H:%M} UTC"


async def _bot_name(session: AsyncSession, scope: ClientScope, run: BotRun) -> str:
    bot = await BotRepository(session, scope).find(run.config.get("bot_id"))
    return bot.name if bot is not None else run.id


def _state(run: BotRun, slot: int) -> float:
    return float(run.state[slot]) if len(run.state) >= core.STATE_SIZE else 0.0


async def _guard(session: AsyncSession, scope: ClientScope, kind: Mail, key: str) -> MailContent:
    row = await GuardRepository(session, scope).get(int(key.removeprefix("guard-")))
    if row.run_id is None:
        scope_text = "all your bots (the account's kill switch)"
    else:
        run = await RunRepository(session, scope).get(row.run_id)
        scope_text = f"{await _bot_name(session, scope, run)} ({run.pair}, {run.mode})"
    fields = {
        "guard": row.guard,
        "reason": row.reason,
        "at": _at(row.tripped_at),
        "scope": scope_text,
        "state": "still active" if row.active else "reset since",
    }
    subject = (
        "TradeBot: your exchange key was refused, trading is stopped"
        if kind is Mail.KEYS_REFUSED
        else f"TradeBot: guard {row.guard} tripped on {scope_text}"
    )
    return MailContent(kind, subject[:200], fields)


async def _run(session: AsyncSession, scope: ClientScope, key: str) -> MailContent:
    run = await RunRepository(session, scope).get(key.removeprefix("run-"))
    name = await _bot_name(session, scope, run)
    grid = _state(run, core.GRID_PROFIT)
    pnl = _state(run, core.EQUITY) - _state(run, core.INVESTMENT)
    fields = {
        "bot": name, "pair": run.pair, "mode": run.mode, "status": run.status,
        "reason": run.stop_reason or "no reason given", "at": _at(run.updated_at),
        "pnl": money(pnl, signed=True), "grid_profit": money(grid, signed=True),
        "price_pnl": money(pnl - grid, signed=True), "fees": money(_state(run, core.FEES)),
        "round_trips": str(int(_state(run, core.ROUND_TRIPS))),
    }  # fmt: skip
    subject = f"TradeBot: {name} ({run.pair}) {run.status}: {fields['pnl']}"
    return MailContent(Mail.RUN_STOPPED, subject[:200], fields)


async def _trial(session: AsyncSession, scope: ClientScope, now: datetime) -> MailContent:
    client = await ClientRepository(session, scope).own()
    ends = client.created_at.replace(tzinfo=client.created_at.tzinfo or UTC) + TRIAL_LENGTH
    days = max(0, math.ceil((ends - now) / timedelta(days=1)))  # 1 day 23 h: in 2 days
    fields = {"ends": _at(ends), "days": f"{days} day{'s' if days != 1 else ''}"}
    return MailContent(Mail.TRIAL_ENDING, f"TradeBot: your trial ends on {ends:%Y-%m-%d}", fields)


async def _payment(session: AsyncSession, scope: ClientScope, key: str) -> MailContent:
    row = await StripeEventRepository(session, scope).get(key)
    fields = {"at": _at(datetime.fromtimestamp(row.created, UTC))}
    return MailContent(Mail.PAYMENT_FAILED, "TradeBot: your payment failed", fields)


async def mail_content(
    session: AsyncSession, scope: ClientScope, kind: Mail, key: str, now: datetime
) -> MailContent:
    """What mail ``kind`` about ``key`` says now (``NotFoundError`` if its row is gone)."""
    if kind in (Mail.KEYS_REFUSED, Mail.GUARD_TRIPPED):
        return await _guard(session, scope, kind, key)
    if kind is Mail.RUN_STOPPED:
        return await _run(session, scope, key)
    if kind is Mail.TRIAL_ENDING:
        return await _trial(session, scope, now)
    return await _payment(session, scope, key)


def _template(name: str) -> Template:
    return Template((files("tradebot.notifications") / "templates" / name).read_text("utf-8"))


def render_text(content: MailContent) -> str:
    body = _template(f"{content.kind.value}.txt").substitute(content.fields)
    return _template("mail_layout.txt").substitute(title=TITLES[content.kind], body=body)


def render_html(content: MailContent) -> str:
    escaped = {name: html.escape(value) for name, value in content.fields.items()}
    body = _template(f"{content.kind.value}.html").substitute(escaped)
    return _template("mail_layout.html").substitute(
        title=html.escape(TITLES[content.kind]), body=body
    )


def transactional_email(content: MailContent, sender: str, recipients: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = content.subject
    message.set_content(render_text(content))
    message.add_alternative(render_html(content), subtype="html")
    return message
