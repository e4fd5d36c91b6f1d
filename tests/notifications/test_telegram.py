"""Telegram through a stand-in of the Bot API on loopback: a Pro client links a chat with a
one-time code, its commands are answered (and a bot stopped after confirmation), alerts arrive
batched; a chat that is not linked gets nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot, subscribe
from tests.notifications.bot_api import TOKEN, bot_api_stand_in
from tests.workers.fixtures import options, run_row, worker_state
from tradebot.config import Settings
from tradebot.db import transaction
from tradebot.engine.types import Side
from tradebot.models.notifications import NotificationSend
from tradebot.runs.store import SqlRunStore
from tradebot.runtime.store import FillRecord
from tradebot.workers.notifications import telegram_alerts, telegram_commands
from tradebot.workers.state import STATE

CHAT, STRANGER = 7_001, 7_002


async def test_a_pro_client_links_a_chat_gets_alerts_and_stops_a_bot_from_telegram(
    make_client: Callable[..., Any],
    login: Callable[..., dict[str, str]],
    api_settings: Settings,
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with bot_api_stand_in() as telegram:
        telegram_settings = {"TELEGRAM_BOT_TOKEN": SecretStr(TOKEN),
                             "TELEGRAM_API_BASE": telegram.url, "TELEGRAM_POLL_S": 1}  # fmt: skip
        settings = api_settings.model_copy(update=telegram_settings)
        api = await make_client(**telegram_settings)
        headers, client_id = await customer(api, login)
        refused = await api.post("/notifications/telegram/link-code", headers=headers)
        assert refused.status_code == 403, refused.text  # the trial has no alerts
        await subscribe(api, client_id, "pro")
        bot = await new_bot(api, headers)
        run = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()
        created = await api.post("/notifications/telegram/link-code", headers=headers)
        assert created.status_code == 201, created.text
        link = created.json()
        assert link["command"] == f"/start {link['code']}"

        async with worker_state(settings, options("http://127.0.0.1:9")) as state:
            ctx = {STATE: state}
            telegram.say(STRANGER, "/status")
            telegram.say(STRANGER, "/start not-a-code")
            telegram.say(CHAT, link["command"])
            telegram.say(STRANGER, link["command"])  # a code links once
            assert await telegram_commands(ctx) == 1
            assert telegram.replies_to(STRANGER) == []
            assert telegram.replies_to(CHAT)[0].startswith("Linked")

            for command in ("/status", "/profit", "/daily", "/stop btc grid"):
                telegram.say(CHAT, command)
            telegram.say(STRANGER, "/stop btc grid")
            assert await telegram_commands(ctx) == 4
            status, profit, daily, ask = telegram.replies_to(CHAT)[1:]
            assert status == "Active runs\nbtc grid: paper BTC/USDT, created, P&L +0.00 USDT"
            assert profit.startswith("P&L +0.00 USDT\ngrid profit +0.00 USDT")
            assert daily.startswith("No daily summary yet")
            assert ask.startswith(f"Stop btc grid ({run['id']})? Send /yes")
            assert (await run_row(pg_sessions, run["id"])).status == "created"  # not yet

            telegram.say(CHAT, "/yes")
            assert await telegram_commands(ctx) == 1
            assert telegram.replies_to(CHAT)[-1] == f"Stopping {run['id']}: stopped."
            row = await run_row(pg_sessions, run["id"])
            assert (row.status, row.stop_reason) == ("stopped", "stopped by user")

            store = SqlRunStore(pg_sessions, client_id, run["id"])
            trade = f"tg-{run['id']}"
            fills = [FillRecord(f"{trade}-{i}", f"{trade}-{i}", Side.BUY, 1, 95_000.0 - i,
                                0.001, 0.1, "USDT", 1_000 + i) for i in range(3)]  # fmt: skip
            await store.record_fills(fills, [], [], 2_000)
            await store.trip("max_run_loss", "run loss over 5 USDT", 2_000)
            assert await telegram_alerts(ctx) == 1
            alert = telegram.replies_to(CHAT)[-1]
            assert "⚠️ Guard tripped: max_run_loss: run loss over 5 USDT" in alert
            assert "btc grid tripped (run loss over 5 USDT)" in alert
            assert "3 fills since the last alert:\n  buy 0.001 @ 95,000.00" in alert
            assert await telegram_alerts(ctx) == 0  # nothing new: nothing sent

            hour = datetime.now(UTC).hour
            quiet = {"quiet_hours": {"from_hour": hour, "to_hour": (hour + 1) % 24},
                     "telegram_alerts": True}  # fmt: skip
            put = await api.put("/notifications/preferences", json=quiet, headers=headers)
            assert put.status_code == 200, put.text
            late = f"{trade}-late"
            later = [FillRecord(f"{late}-{i}", f"{late}-{i}", Side.SELL, 1, 96_000.0, 0.001,
                                0.1, "USDT", 3_000 + i) for i in range(2)]  # fmt: skip
            await store.record_fills(later, [], [], 3_000)
            await store.trip("max_api_errors", "too many API errors", 3_000)
            assert await telegram_alerts(ctx) == 1  # quiet hours: the guard trip does not wait
            alert = telegram.replies_to(CHAT)[-1]
            assert alert == "⚠️ Guard tripped: max_api_errors: too many API errors"
            put = await api.put("/notifications/preferences", json={"telegram_alerts": True},
                                headers=headers)  # fmt: skip
            assert put.json()["quiet_hours"] is None
            assert await telegram_alerts(ctx) == 1  # the fills waited for the end of quiet
            assert telegram.replies_to(CHAT)[-1] == (
                "⏹ btc grid tripped (too many API errors)\n2 fills since the last alert:\n"
                "  sell 0.001 @ 96,000.00\n  sell 0.001 @ 96,000.00"
            )
        assert telegram.replies_to(STRANGER) == []

    async with transaction(pg_sessions) as session:
        query = select(NotificationSend).where(NotificationSend.client_id == client_id)  # type: ignore[arg-type]
        sends = list((await session.execute(query)).scalars())
    assert [(s.channel, s.kind, s.status) for s in sends] == [
        ("telegram", "alert", "delivered")
    ] * 3
