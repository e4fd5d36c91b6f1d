"""The guard a DEX venue must pass before buying: only a sellable token within the tax limit."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.dex.conftest import World
from tradebot.dex.assessment import Sellable
from tradebot.dex.errors import TokenNotSellableError
from tradebot.dex.guard import guard_buy


async def _guard(world: World, name: str, amount: str = "0.1", **options: Decimal):
    return await guard_buy(world.url, world.router, world.tokens[name], Decimal(amount), **options)


@pytest.mark.parametrize(
    ("name", "amount"), [("plain", "0.1"), ("tax5", "0.1"), ("max_tx", "0.01")]
)
async def test_a_sellable_token_within_the_limit_passes(world: World, name: str, amount: str):
    check = await _guard(world, name, amount)
    assert check.sellable is Sellable.YES


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("honeypot", "sellable no"),
        ("blacklist", "sellable no"),
        ("paused", "sellable unknown"),
        ("max_tx", "sellable unknown"),
        ("tax25", "sell tax 25.0000 % is over the 10 % limit"),
        ("fee", "sell tax 12.0000 % is over the 10 % limit"),
    ],
)
async def test_anything_else_is_refused(world: World, name: str, reason: str) -> None:
    with pytest.raises(TokenNotSellableError, match=re.escape(reason)):
        await _guard(world, name)


async def test_the_limit_applies_to_the_buy_tax_too(world: World) -> None:
    with pytest.raises(
        TokenNotSellableError, match=re.escape("buy tax 5.0000 % is over the 4 % limit")
    ):
        await _guard(world, "fee", max_tax_pct=Decimal(4))
