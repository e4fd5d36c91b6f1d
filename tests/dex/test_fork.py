"""Fork mode: the sale blocks after the buy, on an anvil fork of the test node."""

from __future__ import annotations

import pytest

from tests.dex.conftest import LATE_SELL_BLOCKS, TAXES, World
from tests.dex.evm import anvil_binary, free_port
from tradebot.dex.assessment import Sellable
from tradebot.dex.check import check_sell
from tradebot.dex.errors import DexInputError, DexNodeError
from tradebot.dex.fork import check_sell_after_blocks


async def _after(world: World, name: str, blocks: int, **options: object):
    return await check_sell_after_blocks(
        world.url,
        world.router,
        world.tokens[name],
        "0.1",
        blocks=blocks,
        anvil=str(anvil_binary()),
        **options,
    )


async def test_a_late_honeypot_passes_at_once_and_is_caught_blocks_later(world: World) -> None:
    at_once = await check_sell(world.url, world.router, world.tokens["late"], "0.1")
    assert at_once.sellable is Sellable.YES
    soon = await _after(world, "late", LATE_SELL_BLOCKS - 1)
    assert soon.sellable is Sellable.YES
    later = await _after(world, "late", LATE_SELL_BLOCKS + 5)
    assert later.sellable is Sellable.NO
    assert later.sell_revert == "TransferHelper: TRANSFER_FROM_FAILED"


async def test_taxes_blocks_later_are_the_same(world: World) -> None:
    result = await _after(world, "fee", 20)
    buy, sell, transfer = TAXES["fee"]
    assert result.sellable is Sellable.YES
    assert result.buy_tax_pct == buy / 100
    assert result.sell_tax_pct == sell / 100
    assert result.transfer_tax_pct == transfer / 100


async def test_the_fork_leaves_the_node_untouched(world: World) -> None:
    before = world.chain.w3.eth.block_number
    await _after(world, "plain", 5)
    assert world.chain.w3.eth.block_number == before


async def test_no_anvil_is_one_clear_error(world: World) -> None:
    with pytest.raises(DexInputError, match="anvil: cannot start"):
        await check_sell_after_blocks(
            world.url, world.router, world.tokens["plain"], "0.1", blocks=1, anvil="/nonexistent"
        )


async def test_a_dead_upstream_is_one_clear_error(world: World) -> None:
    with pytest.raises(DexNodeError, match="anvil could not fork"):
        await check_sell_after_blocks(
            f"http://127.0.0.1:{free_port()}",
            world.router,
            world.tokens["plain"],
            "0.1",
            blocks=1,
            anvil=str(anvil_binary()),
        )
