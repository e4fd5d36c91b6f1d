"""Telegram for Pro clients: chats linked with a one-time code, commands, alerts.

**Linking.** The portal asks for a code (``TelegramLinks.create``, kept in Redis for
``TELEGRAM_LINK_CODE_TTL_S``, stored as its digest); the user sends ``/start <code>`` to the
bot; the code is taken once (GETDEL) and the chat is linked to the client. A chat that is not
linked gets no answer at all, whatever it sends.

**Commands** of a linked chat: ``/status`` (its active runs), ``/profit`` (P&L of its runs),
``/daily`` (the last daily summary), ``/stop <bot>`` then ``/yes`` within a minute (the run is
stopped through the API's own stop path, audited as ``telegram:<chat>``).

**Alerts** (``TelegramAlerts``, a minute cron): guard trips, runs that ended, and the fills of
the last minute batched in one message per chat. Cursors advance only after Telegram took the
message, so a Bot API outage delays alerts and loses none. All of it runs in the worker's
notification jobs, never in a run's job.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import TelegramError

from tradebot.billing.errors import PlanLimitError
from tradebot.bots.repository import BotRepository
from tradebot.clients.plans import plan_spec
from tradebot.clients.repository import ClientRepository
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine import core
from tradebot.errors import ConfigError
from tradebot.kit.clock import utcnow
from tradebot.kit.scope import ClientScope, client_transaction
from tradebot.models.notifications import NotificationSend, SendStatus, TelegramChat
from tradebot.models.runs import BotRun, RunStatus
from tradebot.notifications.daily_report import money
from tradebot.notifications.preferences import preferences_of, quiet_now
from tradebot.notifications.repository import (
    DailySummaryRepository,
    NewFillRepository,
    NewGuardRepository,
    SendRepository,
    TelegramChatDirectory,
)
from tradebot.runs.queue import RunQueue
from tradebot.runs.repository import RunRepository
from tradebot.runs.service import OVER, RunService

log = logging.getLogger(__name__)
TELEGRAM = "telegram"
CONFIRM_S = 60
ALERT_FILLS_SHOWN = 10
FILLS_PER_ALERT = 500
SEND_ERRORS = (TelegramError, OSError)
HELP = (
    "/status: your active runs\n/profit: P&L of your runs\n/daily: yesterday's summary\n"
    "/stop <bot>: stop a bot's run (asks to confirm)"
)


def telegram_bot(settings: Settings) -> Bot:
    """The Bot API client on ``TELEGRAM_API_BASE`` (use as ``async with``)."""
    token = settings.TELEGRAM_BOT_TOKEN
    if token is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: Telegram is off")
    base = settings.TELEGRAM_API_BASE.rstrip("/")
    return Bot(token.get_secret_value(), base_url=f"{base}/bot",
               base_file_url=f"{base}/file/bot")  # fmt: skip


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_in_s: int


class TelegramLinks:
    """One-time link codes in Redis: created for a client, taken once by a chat."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.prefix = f"{settings.REDIS_PREFIX}:telegram-link:"
        self.ttl_s = settings.TELEGRAM_LINK_CODE_TTL_S

    async def create(self, session: AsyncSession, scope: ClientScope, subject: str) -> LinkCode:
        """A new code for the client, if its plan includes alerts (``PlanLimitError``)."""
        client = await ClientRepository(session, scope).own()
        if not plan_spec(client.plan).alerts:
            raise PlanLimitError("Telegram alerts are part of the Pro plan: upgrade to link a chat")
        code = secrets.token_urlsafe(12)
        value = f"{scope.client_id}\n{subject}"
        await self.redis.set(self.prefix + _digest(code), value, ex=self.ttl_s)
        return LinkCode(code=code, expires_in_s=self.ttl_s)

    async def take(self, code: str) -> tuple[str, str] | None:
        """The (client, subject) of a code still valid, which is then gone."""
        value = await self.redis.getdel(self.prefix + _digest(code.strip()))
        if value is None:
            return None
        client_id, subject = (value.decode() if isinstance(value, bytes) else value).split("\n")
        return client_id, subject


def _state(run: BotRun, slot: int) -> float:
    return float(run.state[slot]) if len(run.state) >= core.STATE_SIZE else 0.0


async def _names(session: AsyncSession, scope: ClientScope, runs: Sequence[BotRun]) -> list[str]:
    bots = BotRepository(session, scope)
    names = []
    for run in runs:
        bot = await bots.find(run.config.get("bot_id"))
        names.append(bot.name if bot is not None else run.id)
    return names


class TelegramDesk:
    """Answers what a chat sends: ``None`` means no answer (an unlinked chat)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: Redis,
        settings: Settings,
        queue: RunQueue,
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.links = TelegramLinks(redis, settings)
        self.queue = queue
        self.pending = f"{settings.REDIS_PREFIX}:telegram-stop:"
        """Per chat: the run a ``/stop`` asked about, until ``/yes`` (``CONFIRM_S``)."""
        self.offset_key = f"{settings.REDIS_PREFIX}:telegram-offset"
        """The next update to ask the Bot API for: the next job goes on from there."""

    async def answer(self, chat_id: int, text: str) -> str | None:
        command, _, argument = text.strip().partition(" ")
        command = command.split("@", 1)[0].lower()
        if command == "/start" and argument:
            return await self._link(chat_id, argument)
        async with transaction(self.sessions) as session:
            chat = await TelegramChatDirectory(session).find(chat_id)
        if chat is None:
            return None
        scope = ClientScope.of(chat.client_id)
        async with client_transaction(self.sessions, scope) as session:
            if not plan_spec((await ClientRepository(session, scope).own()).plan).alerts:
                return "Telegram is part of the Pro plan: this chat is paused."
            if command == "/status":
                return await self._status(session, scope)
            if command == "/profit":
                return await self._profit(session, scope)
            if command == "/daily":
                return await self._daily(session, scope)
            if command == "/stop":
                return await self._ask_stop(session, scope, chat_id, argument.strip())
        if command == "/yes":
            return await self._stop(chat_id, scope)
        return HELP

    async def _link(self, chat_id: int, code: str) -> str | None:
        taken = await self.links.take(code)
        if taken is None:
            return None  # a wrong or used code is not an answer either
        client_id, subject = taken
        scope = ClientScope.of(client_id)
        async with client_transaction(self.sessions, scope) as session:
            fills = await NewFillRepository(session, scope).last_id()
            guards = await NewGuardRepository(session, scope).last_id()
        async with transaction(self.sessions) as session:
            await TelegramChatDirectory(session).link(
                TelegramChat(chat_id=chat_id, client_id=client_id, linked_by=subject,
                             fill_cursor=fills, guard_cursor=guards, runs_checked_at=utcnow())
            )  # fmt: skip
        return "Linked: this chat gets your TradeBot alerts.\n" + HELP

    async def _active(self, session: AsyncSession, scope: ClientScope) -> list[BotRun]:
        active = (RunStatus.CREATED.value, RunStatus.RUNNING.value)
        return list(await RunRepository(session, scope).with_status(active))

    async def _status(self, session: AsyncSession, scope: ClientScope) -> str:
        runs = await self._active(session, scope)
        if not runs:
            return "No run is active."
        lines = [
            f"{name}: {run.mode} {run.pair}, {run.status}, P&L "
            f"{money(_state(run, core.EQUITY) - _state(run, core.INVESTMENT), signed=True)}"
            for name, run in zip(await _names(session, scope, runs), runs, strict=True)
        ]
        return "Active runs\n" + "\n".join(lines)

    async def _profit(self, session: AsyncSession, scope: ClientScope) -> str:
        runs = list(await RunRepository(session, scope).list())
        grid = sum(_state(run, core.GRID_PROFIT) for run in runs)
        pnl = sum(_state(run, core.EQUITY) - _state(run, core.INVESTMENT) for run in runs)
        fees = sum(_state(run, core.FEES) for run in runs)
        return (
            f"P&L {money(pnl, signed=True)}\ngrid profit {money(grid, signed=True)}\n"
            f"price P&L {money(pnl - grid, signed=True)}\nfees {money(fees)}\n"
            f"{len(runs)} runs"
        )

    async def _daily(self, session: AsyncSession, scope: ClientScope) -> str:
        rows = await DailySummaryRepository(session, scope).latest()
        if rows is None:
            return "No daily summary yet: the first comes after midnight UTC."
        figures: dict[str, Any] = rows.details
        realised, pnl = float(figures.get("realised", 0)), float(figures.get("pnl", 0))
        return (
            f"{figures.get('day')}: P&L {money(pnl, signed=True)} (grid profit "
            f"{money(realised, signed=True)}, price P&L {money(pnl - realised, signed=True)}), "
            f"fees {money(float(figures.get('fees', 0)))}, {figures.get('fills', 0)} fills"
        )

    async def _ask_stop(
        self, session: AsyncSession, scope: ClientScope, chat_id: int, bot: str
    ) -> str:
        runs = await self._active(session, scope)
        names = await _names(session, scope, runs)
        chosen = [run for name, run in zip(names, runs, strict=True)
                  if bot and bot.lower() in (name.lower(), run.id.lower())]  # fmt: skip
        if len(chosen) != 1:
            known = ", ".join(names) or "none"
            return f"Which bot? /stop <bot> with one of: {known}"
        await self.redis.set(self.pending + str(chat_id), chosen[0].id, ex=CONFIRM_S)
        return f"Stop {bot} ({chosen[0].id})? Send /yes within {CONFIRM_S} s to confirm."

    async def _stop(self, chat_id: int, scope: ClientScope) -> str:
        run_id = await self.redis.getdel(self.pending + str(chat_id))
        if run_id is None:
            return "Nothing to confirm: send /stop <bot> first."
        run = run_id.decode() if isinstance(run_id, bytes) else str(run_id)
        service = RunService(self.sessions, scope, f"telegram:{chat_id}", self.queue)
        view = await service.stop(run)
        return f"Stopping {run}: {view.status}."


async def answer_commands(bot: Bot, desk: TelegramDesk, seconds: float) -> int:
    """Long-poll the Bot API for ``seconds`` and answer each message; returns how many were
    answered. The offset lives in Redis so the next job goes on where this one stopped."""
    offset_key = desk.offset_key
    deadline = time.monotonic() + seconds
    answered = 0
    while (left := deadline - time.monotonic()) > 0:
        stored = await desk.redis.get(offset_key)
        wait = max(0, min(int(left), 25))
        updates = await bot.get_updates(
            offset=int(stored) if stored is not None else None,
            timeout=wait,
            allowed_updates=["message"],
            read_timeout=wait + 10,
        )
        for update in updates:
            await desk.redis.set(offset_key, update.update_id + 1)
            message, chat = update.effective_message, update.effective_chat
            if message is None or chat is None or not message.text:
                continue
            reply = await desk.answer(chat.id, message.text)
            if reply is not None:
                await bot.send_message(chat.id, reply)
                answered += 1
        if not updates and wait == 0:
            break
    return answered


class TelegramAlerts:
    """Each linked chat of a Pro client: one message with what happened since the last one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def send_all(self, bot: Bot) -> int:
        async with transaction(self.sessions) as session:
            chats = list(await TelegramChatDirectory(session).all())
        sent = 0
        for chat in chats:
            sent += await self._send(bot, chat)
        return sent

    async def _send(self, bot: Bot, chat: TelegramChat) -> int:
        """The chat's alert message, if anything happened; 1 when one was sent."""
        scope = ClientScope.of(chat.client_id)
        now = utcnow()
        async with client_transaction(self.sessions, scope) as session:
            if not plan_spec((await ClientRepository(session, scope).own()).plan).alerts:
                return 0
            preferences = await preferences_of(session, scope)
            if not preferences.telegram_alerts:
                return 0
            waiting = quiet_now(preferences, now)  # quiet hours: guard trips only
            guards = await NewGuardRepository(session, scope).after(chat.guard_cursor)
            fills = (
                []
                if waiting
                else await NewFillRepository(session, scope).after(
                    chat.fill_cursor, FILLS_PER_ALERT
                )
            )
            ended = [] if waiting else await self._ended(session, scope, chat, now)
            names = dict(
                zip([r.id for r in ended], await _names(session, scope, ended), strict=True)
            )
        text = _alert_text(guards, fills if preferences.fill_alerts else [], ended, names)
        error = None if text is None else await self._deliver(bot, chat, scope, text, now)
        if error is not None:
            return 0  # the cursors stay: the next minute sends it all again
        async with transaction(self.sessions) as session:
            row = await TelegramChatDirectory(session).find(chat.chat_id)
            if row is not None:
                row.fill_cursor = max([chat.fill_cursor, *(f.id or 0 for f in fills)])
                row.guard_cursor = max([chat.guard_cursor, *(g.id or 0 for g in guards)])
                row.runs_checked_at = chat.runs_checked_at if waiting else now
        return 0 if text is None else 1

    async def _ended(
        self, session: AsyncSession, scope: ClientScope, chat: TelegramChat, now: datetime
    ) -> list[BotRun]:
        """Runs that ended since the chat's last look."""
        since = chat.runs_checked_at.replace(tzinfo=now.tzinfo)
        return [
            run
            for run in await RunRepository(session, scope).list()
            if RunStatus(run.status) in OVER and run.updated_at.replace(tzinfo=now.tzinfo) > since
        ]

    async def _deliver(
        self, bot: Bot, chat: TelegramChat, scope: ClientScope, text: str, now: datetime
    ) -> str | None:
        """Send ``text`` and record the send; the error, or ``None`` once Telegram took it."""
        status, error = SendStatus.DELIVERED, None
        try:
            await bot.send_message(chat.chat_id, text)
        except SEND_ERRORS as exc:
            status, error = SendStatus.RETRYING, f"{type(exc).__name__}: {exc}"[:500]
            log.warning("telegram alert to chat %s failed: %s", chat.chat_id, error)
        async with client_transaction(self.sessions, scope) as session:
            await SendRepository(session, scope).add(
                NotificationSend(client_id=chat.client_id, channel=TELEGRAM, kind="alert",
                                 key=f"{chat.chat_id}:{now:%Y%m%dT%H%M%S.%f}"[:64],
                                 recipients=str(chat.chat_id), subject=text[:200],
                                 status=status.value, attempts=1, last_error=error,
                                 delivered_at=now if error is None else None)
            )  # fmt: skip
        return error


def _alert_text(
    guards: Sequence[Any], fills: Sequence[Any], ended: Sequence[BotRun], names: dict[str, str]
) -> str | None:
    parts: list[str] = []
    for guard in guards:
        parts.append(f"⚠️ Guard tripped: {guard.guard}: {guard.reason}")
    for run in ended:
        reason = f" ({run.stop_reason})" if run.stop_reason else ""
        parts.append(f"⏹ {names.get(run.id, run.id)} {run.status}{reason}")
    if fills:
        parts.append(f"{len(fills)} fill{'s' if len(fills) != 1 else ''} since the last alert:")
        parts += [
            f"  {fill.side} {fill.qty:g} @ {fill.price:,.2f}" for fill in fills[:ALERT_FILLS_SHOWN]
        ]
        if len(fills) > ALERT_FILLS_SHOWN:
            parts.append(f"  and {len(fills) - ALERT_FILLS_SHOWN} more")
    return "\n".join(parts) if parts else None
