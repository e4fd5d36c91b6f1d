"""Orders through the real ccxt client: create, query by id and by client order id, cancel,
open orders, trades, balances, and Binance's rejections as ccxt's exception classes."""

from __future__ import annotations

import ccxt
import pytest

from tests.factories import make_candles
from tests.venues.sim_fixtures import (
    KEY,
    account,
    ccxt_client,
    control,
    exact_market,
    running_sim,
    sim_config,
)

# A rising candle walks 100 -> 90 -> 120 -> 110; the second falls 110 -> 115 -> 95 -> 100.
CANDLES = make_candles([(100, 120, 90, 110), (110, 115, 95, 100)])


def _config(**kwargs):
    return sim_config(CANDLES, [account(usdt=10_000, btc=2)], market=exact_market(), **kwargs)


async def test_a_limit_order_can_be_queried_by_id_and_client_id_then_cancelled():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        order = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 1.5, 95, {"clientOrderId": "grid-b0-1"}
        )
        assert (order["status"], order["clientOrderId"], order["price"]) == (
            "open",
            "grid-b0-1",
            95,
        )
        by_id = await exchange.fetch_order(order["id"], "BTC/USDT")
        by_client_id = await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "grid-b0-1"})
        assert by_id["id"] == by_client_id["id"] == order["id"]
        assert [o["id"] for o in await exchange.fetch_open_orders("BTC/USDT")] == [order["id"]]
        balance = await exchange.fetch_balance()
        # Binance locks the notional: the fee will come out of the base the buy delivers.
        assert balance["USDT"]["used"] == pytest.approx(1.5 * 95)
        cancelled = await exchange.cancel_order(order["id"], "BTC/USDT")
        assert cancelled["status"] == "canceled"
        assert await exchange.fetch_open_orders("BTC/USDT") == []
        assert (await exchange.fetch_balance())["USDT"]["free"] == 10_000
        closed = await exchange.fetch_orders("BTC/USDT")
    assert [(o["id"], o["status"]) for o in closed] == [(order["id"], "canceled")]


async def test_cancel_by_client_order_id():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        await exchange.create_order("BTC/USDT", "limit", "sell", 1, 130, {"clientOrderId": "s-1"})
        cancelled = await exchange.cancel_order(None, "BTC/USDT", {"clientOrderId": "s-1"})
    assert (cancelled["clientOrderId"], cancelled["status"]) == ("s-1", "canceled")


async def test_a_resting_buy_fills_at_its_price_with_the_maker_fee_on_the_falling_segment():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        buy = await exchange.create_order("BTC/USDT", "limit", "buy", 2, 95, {"clientOrderId": "b"})
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})  # 100 -> 90
        filled = await exchange.fetch_order(buy["id"], "BTC/USDT")
        trades = await exchange.fetch_my_trades("BTC/USDT")
        balance = await exchange.fetch_balance()
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 2, 95)
    assert len(trades) == 1
    trade = trades[0]
    assert (trade["order"], trade["side"], trade["price"], trade["amount"]) == (
        buy["id"],
        "buy",
        95,
        2,
    )
    assert trade["takerOrMaker"] == "maker"
    # As on Binance spot, a buy's commission is taken from the base it delivers.
    assert trade["fee"] == {"currency": "BTC", "cost": pytest.approx(2 * 0.001)}
    assert trade["timestamp"] == CANDLES.ts[0] + 20_000  # the end of the first segment
    assert balance["BTC"]["total"] == pytest.approx(2 + 2 * (1 - 0.001))
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 190)


async def test_a_market_order_trades_at_the_last_price_with_the_taker_fee():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        order = await exchange.create_order("BTC/USDT", "market", "sell", 0.5)
    assert (order["status"], order["average"], order["filled"]) == ("closed", 100, 0.5)
    assert order["fee"] == {"currency": "USDT", "cost": pytest.approx(50 * 0.001)}
    assert order["trades"][0]["price"] == 100


@pytest.mark.parametrize(
    ("side", "amount", "price", "error", "message"),
    [
        ("buy", 1000, 95, ccxt.InsufficientFunds, "insufficient balance"),
        ("sell", 3, 130, ccxt.InsufficientFunds, "insufficient balance"),
        ("buy", 0.0015, 95, ccxt.InvalidOrder, "LOT_SIZE"),  # not a multiple of the 0.001 step
        ("buy", 1, 95.005, ccxt.InvalidOrder, "PRICE_FILTER"),
        ("buy", 0.005, 95, ccxt.BadRequest, "NOTIONAL"),  # 0.475 USDT < min notional 1
    ],
)
async def test_binance_rejections_reach_ccxt_as_its_exception_classes(
    side, amount, price, error, message
):
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        await exchange.load_markets()
        request = {
            "symbol": "BTCUSDT",
            "side": side.upper(),
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": str(amount),
            "price": str(price),
        }
        with pytest.raises(error, match=message):
            await exchange.private_post_order(request)  # raw: ccxt would round the numbers
        assert await exchange.fetch_open_orders("BTC/USDT") == []


async def test_a_client_order_id_is_refused_while_its_order_is_open_and_reusable_after():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        first = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 1, 95, {"clientOrderId": "x"}
        )
        with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
            await exchange.create_order("BTC/USDT", "limit", "buy", 1, 95, {"clientOrderId": "x"})
        await exchange.cancel_order(first["id"], "BTC/USDT")
        second = await exchange.create_order(
            "BTC/USDT", "limit", "buy", 1, 94, {"clientOrderId": "x"}
        )
        latest = await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "x"})
    assert latest["id"] == second["id"] != first["id"]
    state = sim.sim.state()["accounts"][KEY]
    assert state["duplicate_client_order_ids"] == {"x": 2}
    assert state["duplicate_rejections"] == 1


async def test_unknown_orders_are_order_not_found_for_query_and_cancel():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        with pytest.raises(ccxt.OrderNotFound, match="Order does not exist"):
            await exchange.fetch_order("999", "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound, match="Order does not exist"):
            await exchange.fetch_order(None, "BTC/USDT", {"clientOrderId": "never-sent"})
        with pytest.raises(ccxt.OrderNotFound, match="Unknown order sent"):
            await exchange.cancel_order("999", "BTC/USDT")
        filled = await exchange.create_order("BTC/USDT", "market", "buy", 0.1)
        with pytest.raises(ccxt.OrderNotFound, match="Unknown order sent"):
            await exchange.cancel_order(filled["id"], "BTC/USDT")  # no longer open


async def test_cancel_all_orders_cancels_only_open_ones():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        for price in (91, 92, 93):
            await exchange.create_order("BTC/USDT", "limit", "buy", 1, price)
        cancelled = await exchange.cancel_all_orders("BTC/USDT")
        assert sorted(o["price"] for o in cancelled) == [91, 92, 93]
        with pytest.raises(ccxt.OrderNotFound):
            await exchange.cancel_all_orders("BTC/USDT")


async def test_new_order_answers_follow_the_requested_response_type():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        await exchange.load_markets()
        base = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}
        ack = await exchange.private_post_order({**base, "newOrderRespType": "ACK"})
        result = await exchange.private_post_order({**base, "newOrderRespType": "RESULT"})
        full = await exchange.private_post_order({**base, "newOrderRespType": "FULL"})
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert result["status"] == "FILLED"
    assert "fills" not in result
    assert full["fills"][0]["price"] == "100.00000000"


async def test_a_market_buy_by_quote_amount_buys_what_it_pays_for():
    async with running_sim(_config()) as sim, ccxt_client(sim.url) as exchange:
        order = await exchange.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 250})
    assert order["filled"] == pytest.approx(2.5)
    assert order["average"] == 100


async def test_each_api_key_is_its_own_account():
    other = account("second-key", "second-secret", usdt=500, btc=0)
    config = sim_config(CANDLES, [account(usdt=10_000, btc=2), other], market=exact_market())
    async with (
        running_sim(config) as sim,
        ccxt_client(sim.url) as first,
        ccxt_client(sim.url, "second-key", "second-secret") as second,
    ):
        await first.create_order("BTC/USDT", "limit", "buy", 2, 95)
        await second.create_order("BTC/USDT", "limit", "buy", 1, 92)
        await control(sim.url, "POST", "/_sim/advance", {"segments": 1})
        assert [t["price"] for t in await first.fetch_my_trades("BTC/USDT")] == [95]
        assert [t["price"] for t in await second.fetch_my_trades("BTC/USDT")] == [92]
        assert (await second.fetch_balance())["BTC"]["total"] == pytest.approx(0.999)
        with pytest.raises(ccxt.InsufficientFunds):
            await second.create_order("BTC/USDT", "limit", "buy", 5, 95)
