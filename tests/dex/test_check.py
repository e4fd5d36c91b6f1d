"""``check_sell`` on a real EVM: each test token classified, taxes measured, bad input refused.

The pools hold 1,000,000 tokens against 100 WETH. Taxes are measured in the token (what the
pair sent against what reached us, what we sent against what reached the pair), so the pool's
curve does not enter them: a configured tax of ``bps`` comes back as ``bps / 100`` % to within
one base unit in 10^20, far inside the 0.1 point the issue allows.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dex.conftest import SWAP_BACK, TAXES, World
from tests.dex.evm import free_port
from tests.dex.fake_rpc import REFUSE, fake_rpc
from tradebot.dex.assessment import Flag, Sellable
from tradebot.dex.check import check_sell
from tradebot.dex.errors import DexInputError, DexNodeError

TOLERANCE_PCT = Decimal("0.1")
# A Uniswap V2 round trip costs 0.3 % each way; 0.1 WETH moves a 100 WETH pool by about 0.1 %.
ROUND_TRIP_PCT = (Decimal("0.55"), Decimal("0.65"))


async def check(world: World, name: str, amount: str = "0.1", **options: object):
    return await check_sell(world.url, world.router, world.tokens[name], amount, **options)


def assert_tax(measured: Decimal | None, bps: int) -> None:
    assert measured is not None
    assert abs(measured - Decimal(bps) / 100) < TOLERANCE_PCT, (measured, bps)


async def test_a_plain_token_sells_without_tax(world: World) -> None:
    result = await check(world, "plain")
    assert result.sellable is Sellable.YES
    assert (result.buy_tax_pct, result.sell_tax_pct, result.transfer_tax_pct) == (0, 0, 0)
    low, high = ROUND_TRIP_PCT
    assert result.round_trip_loss_pct is not None
    assert low < result.round_trip_loss_pct < high
    assert result.flags == ()
    assert result.reserve_quote == 100
    assert result.reserve_token == 1_000_000
    assert result.liquidity_quote == 200
    assert result.buy_gas is not None
    assert 60_000 < result.buy_gas < 300_000
    assert result.sell_gas is not None
    assert 30_000 < result.sell_gas < 300_000


@pytest.mark.parametrize("name", sorted(TAXES))
async def test_taxes_are_measured_as_configured(world: World, name: str) -> None:
    buy, sell, transfer = TAXES[name]
    result = await check(world, name)
    assert result.sellable is Sellable.YES
    assert_tax(result.buy_tax_pct, buy)
    assert_tax(result.sell_tax_pct, sell)
    assert_tax(result.transfer_tax_pct, transfer)
    assert (Flag.HIGH_SELL_TAX in result.flags) == (sell > 1000)


async def test_a_tax_hidden_by_a_swap_back_into_the_pool_is_still_measured(world: World):
    # The token sells its collected buy fees into the pool inside our sale: the pool gets more
    # tokens than our taxed amount, and only the quote side shows the whole tax.
    buy, sell = SWAP_BACK
    result = await check(world, "swap_back")
    assert result.sellable is Sellable.YES
    assert_tax(result.buy_tax_pct, buy)
    assert_tax(result.sell_tax_pct, sell)
    assert Flag.HIGH_SELL_TAX in result.flags


async def test_the_sell_tax_threshold_is_the_callers(world: World) -> None:
    result = await check(world, "tax5", max_sell_tax_pct=Decimal(4))
    assert Flag.HIGH_SELL_TAX in result.flags


async def test_a_stable_quote_is_funded_through_its_balance_slot(world: World) -> None:
    result = await check(world, "fee_usd", "250", quote=world.usd)
    assert result.sellable is Sellable.YES
    assert result.quote == world.usd
    assert result.reserve_quote == 200_000
    buy, sell, transfer = TAXES["fee"]
    assert_tax(result.buy_tax_pct, buy)
    assert_tax(result.sell_tax_pct, sell)
    assert_tax(result.transfer_tax_pct, transfer)


async def test_weth_named_as_the_quote_takes_the_eth_route(world: World) -> None:
    result = await check(world, "fee", quote=world.weth)
    assert result.sellable is Sellable.YES
    assert result.quote == world.weth
    assert_tax(result.sell_tax_pct, TAXES["fee"][1])


async def test_a_sell_tax_that_takes_nearly_all_is_not_sellable(world: World) -> None:
    result = await check(world, "tax99")
    assert result.sellable is Sellable.NO
    assert_tax(result.sell_tax_pct, 9900)
    assert "takes almost everything" in result.why


async def test_a_honeypot_is_not_sellable(world: World) -> None:
    result = await check(world, "honeypot")
    assert result.sellable is Sellable.NO
    assert result.buy_tax_pct == 0
    assert result.sell_revert == "TransferHelper: TRANSFER_FROM_FAILED"
    assert "the sell reverted" in result.why


async def test_a_token_that_blacklists_its_buyers_is_not_sellable(world: World) -> None:
    result = await check(world, "blacklist")
    assert result.sellable is Sellable.NO
    assert result.transfer_revert == "blacklisted"
    assert Flag.OWNER_CAN_BLACKLIST in result.flags
    assert Flag.TRANSFER_BLOCKED in result.flags


async def test_a_buy_over_the_max_transaction_limit_is_flagged(world: World) -> None:
    over = await check(world, "max_tx", "0.1")
    assert over.sellable is Sellable.UNKNOWN
    assert Flag.MAX_TX_LIMIT_HIT in over.flags
    assert "max-transaction limit" in over.why
    under = await check(world, "max_tx", "0.01")
    assert under.sellable is Sellable.YES
    assert Flag.MAX_TX_LIMIT_HIT not in under.flags


async def test_a_pausable_token_is_flagged_and_a_paused_one_not_judged(world: World) -> None:
    running = await check(world, "pausable")
    assert running.sellable is Sellable.YES
    assert running.flags == (Flag.OWNER_CAN_PAUSE,)
    paused = await check(world, "paused")
    assert paused.sellable is Sellable.UNKNOWN
    assert Flag.PAUSED in paused.flags
    assert "the token is paused" in paused.why


async def test_a_check_is_quick_on_a_local_node(world: World) -> None:
    result = await check(world, "fee")
    assert result.elapsed_ms < 300


@pytest.mark.parametrize(
    ("router", "token", "message"),
    [
        ("0x" + "12" * 20, "plain", "the router address has no code"),
        (None, "0x" + "12" * 20, "the token address has no code"),
        (None, "no_pool", "no pool of this token against the quote"),
        (None, "weth", "the token is the quote asset"),
    ],
)
async def test_addresses_that_cannot_be_checked_are_one_clear_error(
    world: World, router: str | None, token: str, message: str
) -> None:
    address = world.weth if token == "weth" else world.tokens.get(token, token)
    with pytest.raises(DexInputError, match=message):
        await check_sell(world.url, router or world.router, address, Decimal("0.1"))


@pytest.mark.parametrize(
    ("amount", "token", "message"),
    [
        ("0", None, "must be a positive number"),
        ("-1", None, "must be a positive number"),
        ("nan", None, "must be a positive number"),
        ("1e-30", None, "below the quote's smallest unit"),
        ("0.1", "0x123", "not an address"),
        ("0.1", "0x" + "zz" * 20, "not an address"),
    ],
)
async def test_bad_input_is_refused(world: World, amount: str, token: str | None, message: str):
    with pytest.raises(DexInputError, match=message):
        await check_sell(world.url, world.router, token or world.tokens["plain"], amount)


async def test_a_dead_node_is_one_clear_error(world: World) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DexNodeError, match="cannot reach the RPC node"):
        await check_sell(url, world.router, world.tokens["plain"], "0.1", timeout_s=2)


async def test_a_node_that_refuses_state_overrides_is_one_clear_error(world: World) -> None:
    with fake_rpc({"error": REFUSE}) as url, pytest.raises(DexNodeError, match="refused"):
        await check_sell(url, world.router, world.tokens["plain"], "0.1")


async def test_a_node_that_ignores_state_overrides_is_one_clear_error(world: World) -> None:
    with fake_rpc({"result": "0x"}) as url, pytest.raises(DexNodeError, match="ignored"):
        await check_sell(url, world.router, world.tokens["plain"], "0.1")


async def test_a_node_that_answers_garbage_is_one_clear_error(world: World) -> None:
    with fake_rpc({"result": "0x" + "ff" * 40}) as url, pytest.raises(DexNodeError, match="report"):
        await check_sell(url, world.router, world.tokens["plain"], "0.1")


async def test_the_check_sends_no_transaction(world: World) -> None:
    before = world.chain.w3.eth.block_number
    await check(world, "plain")
    assert world.chain.w3.eth.block_number == before
