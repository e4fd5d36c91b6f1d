"""Public track records: opt-in per bot, anonymised (no client id, name, email or amount in
the JSON or the page), gone at once on opt-out."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.factories import customer, new_bot, subscribe
from tradebot.engine import core


async def test_a_published_bot_shows_ratios_and_counts_only(
    api: httpx.AsyncClient,
    login: Callable[..., dict[str, str]],
    pg_sessions: async_sessionmaker[AsyncSession],
) -> None:
    email = "ada.lovelace@example.test"
    headers = login(email=email)
    me = (await api.get("/me", headers=headers)).json()
    client_id = me["client_id"]
    await subscribe(api, client_id, "starter")
    bot = await new_bot(api, headers, investment=1_234)
    run = (await api.post("/runs", json={"bot_id": bot["id"]}, headers=headers)).json()
    state = [0.0] * core.STATE_SIZE
    state[core.INVESTMENT], state[core.EQUITY], state[core.MAX_DRAWDOWN] = 1_234.0, 1_258.68, 61.7
    async with pg_sessions() as session, session.begin():
        await session.execute(
            text("UPDATE bot_runs SET state = :s, fill_count = 17, created_at = now() - "
                 "interval '12 days' WHERE id = :r"),
            {"s": json.dumps(state), "r": run["id"]},
        )  # fmt: skip

    other, _ = await customer(api, login)
    assert (
        await api.post("/track-records", json={"bot_id": bot["id"]}, headers=other)
    ).status_code == 404
    published = await api.post("/track-records", json={"bot_id": bot["id"]}, headers=headers)
    assert published.status_code == 201, published.text
    record = published.json()
    again = await api.post("/track-records", json={"bot_id": bot["id"]}, headers=headers)
    assert again.json()["slug"] == record["slug"]
    assert [r["slug"] for r in (await api.get("/track-records", headers=headers)).json()] == [
        record["slug"]
    ]

    public = await api.get(record["path"])  # no login
    assert public.status_code == 200, public.text
    assert public.headers["cache-control"] == "public, max-age=60"
    assert public.json() == {
        "pair": "BTC/USDT", "exchange": "binance", "mode": "paper", "return_pct": 2.0,
        "max_drawdown_pct": 5.0, "days_live": 12, "fills": 17,
        "since": public.json()["since"],
    }  # fmt: skip
    page = await api.get(record["path"] + "/page")
    assert page.status_code == 200
    assert "+2.00 %" in page.text
    for body in (public.text, page.text):
        for secret in (client_id, me["client_name"], email, bot["name"], bot["id"], run["id"],
                       "1234", "1,234", "1258", "24.68", "61.7"):  # fmt: skip
            assert secret not in body, secret

    assert (await api.delete(f"/track-records/{record['slug']}", headers=other)).status_code == 404
    gone = await api.delete(f"/track-records/{record['slug']}", headers=headers)
    assert gone.status_code == 204
    assert (await api.get(record["path"])).status_code == 404  # at once, despite the cache
    assert (await api.get(record["path"] + "/page")).status_code == 404
