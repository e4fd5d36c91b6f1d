"""A stand-in of the Telegram Bot API on loopback: an aiohttp server speaking its JSON for
getMe, getUpdates (long polling on a queue the test fills) and sendMessage (kept)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:stand-in-token-for-tests"
USER_IDS = itertools.count(1000)


@dataclass
class BotApiStandIn:
    url: str = ""
    updates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    next_update: int = 1

    def say(self, chat_id: int, text: str) -> None:
        """A user of ``chat_id`` sends ``text`` to the bot."""
        update_id, self.next_update = self.next_update, self.next_update + 1
        self.updates.append({
            "update_id": update_id,
            "message": {
                "message_id": update_id, "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Ada"},
            },
        })  # fmt: skip
        self.arrived.set()

    def replies_to(self, chat_id: int) -> list[str]:
        return [str(m["text"]) for m in self.sent if int(m["chat_id"]) == chat_id]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body: dict[str, Any] = await request.json()
            return body
        form = await request.post()
        return {key: _decoded(str(value)) for key, value in form.items()}

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)  # fmt: skip
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(method)
        if method == "getMe":
            return _ok({"id": 42, "is_bot": True, "first_name": "TradeBot",
                        "username": "tradebot_test_bot"})  # fmt: skip
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and int(params.get("timeout") or 0) > 0:
                self.arrived.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), float(params["timeout"]))
            return _ok(list(self.updates))
        if method == "sendMessage":
            self.sent.append(params)
            return _ok({"message_id": len(self.sent), "date": int(time.time()),
                        "chat": {"id": int(params["chat_id"]), "type": "private"},
                        "text": params["text"]})  # fmt: skip
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"},
                                 status=404)  # fmt: skip


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


@asynccontextmanager
async def bot_api_stand_in() -> AsyncIterator[BotApiStandIn]:
    stand_in = BotApiStandIn()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stand_in.url = f"http://127.0.0.1:{port}"
    try:
        yield stand_in
    finally:
        await runner.cleanup()
