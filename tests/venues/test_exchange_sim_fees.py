"""Commissions as Binance spot charges them, through the real ccxt client: in the asset the trade
delivers (a buy's in base, a sell's in quote), or in BNB at a discount while an account that pays
fees with BNB holds enough; and answers shaped like Binance's recorded ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import (
    KEY,
    SECRET,
    ccxt_client,
    control,
    exact_market,
    running_sim,
    sim_config,
)
from tradebot.errors import BadInputError
from tradebot.venues.exchange_sim import AccountConfig
from tradebot.venues.exchange_sim.config import account_from_json
from tradebot.venues.matching import BNB_FEE_DISCOUNT

# Falls 100 -> 90 (a buy at 95 fills), rises to 120 (a sell at 110 fills), ends at 110.
CANDLES = make_candles([(100, 120, 90, 110)])
FIXTURES = Path(__file__).parents[3] / "shared" / "data" / "ccxt-static" / "response-binance.json"
BNB_PRICE = 600.0  # MarketConfig's default


def _config(*, bnb: float = 0.0, pay_fees_in_bnb: bool = False):
    balances = {"USDT": 10_000.0, "BTC": 2.0, "BNB": bnb}
    owner = AccountConfig(KEY, SECRET, balances, pay_fees_in_bnb=pay_fees_in_bnb)
    return sim_config(CANDLES, [owner], market=exact_market())


async def _buy_then_sell(exchange, url: str) -> list[dict]:
    await exchange.create_order("BTC/USDT", "limit", "buy", 2, 95)
    await exchange.create_order("BTC/USDT", "limit", "sell", 1, 110)
    await control(url, "POST", "/_sim/advance", {"segments": 2})
    return await exchange.fetch_my_trades("BTC/USDT")


async def test_a_buy_pays_its_fee_in_base_and_a_sell_in_quote():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        buy, sell = await _buy_then_sell(exchange, sim.url)
        balance = await exchange.fetch_balance()
    assert buy["fee"] == {"currency": "BTC", "cost": pytest.approx(2 * 0.001)}
    assert sell["fee"] == {"currency": "USDT", "cost": pytest.approx(110 * 0.001)}
    assert balance["BTC"]["total"] == pytest.approx(2 + 2 * (1 - 0.001) - 1)
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 190 + 110 * (1 - 0.001))


async def test_an_account_paying_fees_with_bnb_pays_them_at_a_discount_while_its_bnb_lasts():
    buy_fee_bnb = 190 * 0.001 * (1 - BNB_FEE_DISCOUNT) / BNB_PRICE
    # Enough BNB for the buy's fee and not for the sell's: that one falls back to the asset
    # received, as Binance does.
    config = _config(bnb=buy_fee_bnb * 1.5, pay_fees_in_bnb=True)
    async with running_sim(config) as sim, ccxt_client(sim.url) as exchange:
        buy, sell = await _buy_then_sell(exchange, sim.url)
        balance = await exchange.fetch_balance()
    assert buy["fee"] == {"currency": "BNB", "cost": pytest.approx(buy_fee_bnb, abs=1e-8)}
    assert sell["fee"] == {"currency": "USDT", "cost": pytest.approx(110 * 0.001)}
    assert balance["BTC"]["total"] == pytest.approx(2 + 2 - 1)  # the buy delivered all of it
    assert balance["BNB"]["total"] == pytest.approx(buy_fee_bnb * 0.5, abs=1e-8)


async def test_trades_and_fills_have_binances_recorded_fields_and_types():
    recorded = json.loads(FIXTURES.read_text(encoding="utf-8"))["methods"]["fetchMyTrades"]
    spot = next(e for e in recorded if e["description"] == "Spot private trade")
    want = spot["httpResponse"][0]
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        await _buy_then_sell(exchange, sim.url)
        rows = await exchange.private_get_mytrades({"symbol": "BTCUSDT"})
        market_buy = await exchange.create_order("BTC/USDT", "market", "buy", 0.5)
    for row in rows:
        assert set(row) == set(want)
        assert isinstance(row["commission"], str)
        assert isinstance(row["commissionAsset"], str)
        assert float(row["commission"]) > 0
    assert [r["commissionAsset"] for r in rows] == ["BTC", "USDT"]
    fills = market_buy["info"]["fills"]
    assert [(f["commissionAsset"], float(f["commission"])) for f in fills] == [
        ("BTC", pytest.approx(0.5 * 0.001))
    ]
    assert all(isinstance(f["commission"], str) for f in fills)


def test_a_keys_file_turns_bnb_fees_on_with_binances_flag():
    entry = {"api_key": "k", "secret": "s", "spotBNBBurn": True}
    assert account_from_json(entry).pay_fees_in_bnb
    assert not account_from_json({"api_key": "k", "secret": "s"}).pay_fees_in_bnb
    with pytest.raises(BadInputError, match="spotBNBBurn"):
        account_from_json({**entry, "spotBNBBurn": "yes"})
