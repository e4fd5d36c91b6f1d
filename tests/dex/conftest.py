"""The DEX tests' world, built once per session: anvil, Uniswap V2, and a pool per test token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.api.fixtures import (  # noqa: F401  (the API route's tests)
    api_settings,
    issuer,
    login,
    stripe_stand_in,
)
from tests.dex.evm import ETH, Chain, anvil, install_tools, uniswap

SUPPLY = 10_000_000 * ETH
POOL_TOKENS = 1_000_000 * ETH
POOL_ETH = 100 * ETH
POOL_USD = 200_000 * ETH
MAX_TX = 500 * ETH
"""0.1 WETH buys about 996 tokens of a 1M / 100 WETH pool: over this; 0.01 WETH is under."""
LATE_SELL_BLOCKS = 3
"""The late honeypot lets a buyer sell for this many blocks after the buy."""
# (buy, sell, transfer) taxes in basis points
TAXES = {"tax5": (0, 500, 0), "tax25": (0, 2500, 0), "fee": (500, 1200, 100)}
TAX_99 = (0, 9900, 0)
SWAP_BACK = (500, 1200)
"""(buy, sell) of the token that sells its collected fees into the pool during a sale."""
"""A sell tax that takes nearly all: a honeypot that does not revert."""


@dataclass
class World:
    chain: Chain
    tokens: dict[str, str]
    """name -> address of a token with a TOKEN/WETH pool (``no_pool``: without one)."""
    usd: str
    """A plain ERC-20 used as a stable quote; ``fee_usd`` has a TOKEN/USD pool."""

    @property
    def url(self) -> str:
        return self.chain.url

    @property
    def router(self) -> str:
        return str(self.chain.router.address)

    @property
    def weth(self) -> str:
        return str(self.chain.weth.address)


@pytest.fixture(scope="session")
def evm_url() -> Iterator[str]:
    install_tools()
    with anvil() as url:
        yield url


@pytest.fixture(scope="session")
def world(evm_url: str) -> World:
    chain = uniswap(evm_url)
    tokens, deployed = {}, {}
    for name, contract, args in (
        ("plain", "PlainToken", ()),
        *((name, "TaxToken", bps) for name, bps in TAXES.items()),
        ("tax99", "TaxToken", TAX_99),
        ("honeypot", "HoneypotToken", ()),
        ("blacklist", "BlacklistToken", ()),
        ("max_tx", "MaxTxToken", (MAX_TX,)),
        ("pausable", "PausableToken", ()),
        ("late", "LateHoneypotToken", (LATE_SELL_BLOCKS,)),
        ("paused", "PausableToken", ()),
    ):
        token = chain.token(contract, SUPPLY, *args)
        chain.pool_eth(token, POOL_TOKENS, POOL_ETH)
        tokens[name], deployed[name] = token.address, token
    swap_back = chain.token("SwapBackToken", SUPPLY, *SWAP_BACK, chain.router.address)
    chain.pool_eth(swap_back, POOL_TOKENS, POOL_ETH)
    tokens["swap_back"] = swap_back.address
    chain.send(deployed["paused"].functions.pause())
    tokens["no_pool"] = chain.token("PlainToken", SUPPLY).address
    usd = chain.token("PlainToken", 10 * SUPPLY)
    fee_usd = chain.token("TaxToken", SUPPLY, *TAXES["fee"])
    chain.pool_tokens(fee_usd, usd, POOL_TOKENS, POOL_USD)
    tokens["fee_usd"] = fee_usd.address
    return World(chain, tokens, usd.address)
