"""``check_sell``: buy then sell a token in one simulated ``eth_call``, and judge the result.

The calls to the node: one ``eth_call`` with the WETH quote. Another ERC-20 quote adds its
``decimals()`` and, the first time it is seen (then kept a day), the probes that find its
balance slot (``slots``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from eth_typing import ChecksumAddress, HexStr
from web3 import AsyncWeb3
from web3.providers.rpc import AsyncHTTPProvider

from tradebot.dex import node, slots
from tradebot.dex.assessment import DEFAULT_MAX_SELL_TAX_PCT, SellCheck, assess
from tradebot.dex.errors import DexInputError
from tradebot.dex.probes import DECIMALS, PROBE_CALLS, read_facts, selector
from tradebot.dex.simulator import Report, Simulation, fresh_address, simulate

WETH_DECIMALS = 18
MAX_DECIMALS = 36
DEFAULT_TIMEOUT_S = 10.0


def parse_address(text: str, what: str) -> ChecksumAddress:
    """A 0x-prefixed 20-byte hex address (any case: a wrong mixed-case checksum is refused)."""
    if not AsyncWeb3.is_address(text) or not text.startswith("0x"):
        raise DexInputError(f"{what}: not an address (0x and 40 hex digits): {text!r}")
    return AsyncWeb3.to_checksum_address(text)


def parse_amount(value: Decimal | str | float) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DexInputError(f"amount: not a number: {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise DexInputError(f"amount: must be a positive number: {value}")
    return amount


def parse_pct(value: Decimal | str | float, what: str) -> Decimal:
    """A percentage from 0 to 100."""
    try:
        pct = Decimal(str(value))
    except InvalidOperation:
        raise DexInputError(f"{what}: not a number: {value!r}") from None
    if not pct.is_finite() or not 0 <= pct <= 100:
        raise DexInputError(f"{what}: must be a percentage from 0 to 100: {value}")
    return pct


def _base_units(amount: Decimal, decimals: int) -> int:
    units = int(amount.scaleb(decimals))
    if units <= 0:
        raise DexInputError(f"amount: {amount} is below the quote's smallest unit")
    return units


async def _decimals(w3: AsyncWeb3[AsyncHTTPProvider], token: ChecksumAddress) -> int:
    try:
        answer = bytes(await node.call(w3, token, selector(DECIMALS), {}))
    except node.SimulationReverted:
        answer = b""
    if len(answer) < 32:
        raise DexInputError(f"quote: {token} does not answer decimals(): not an ERC-20 token")
    decimals = int.from_bytes(answer[:32], "big")
    if decimals > MAX_DECIMALS:
        raise DexInputError(f"quote: {token} claims {decimals} decimals: not a usable quote")
    return decimals


async def _funding(
    w3: AsyncWeb3[AsyncHTTPProvider],
    quote: ChecksumAddress | None,
    amount: Decimal,
    simulator: ChecksumAddress,
) -> tuple[int, int, dict[HexStr, HexStr]]:
    """(quote decimals, amount in base units, storage writes that fund ``simulator``)."""
    if quote is None:
        return WETH_DECIMALS, _base_units(amount, WETH_DECIMALS), {}
    decimals = await _decimals(w3, quote)
    amount_in = _base_units(amount, decimals)
    layout = await slots.balance_layout(w3, quote)
    return decimals, amount_in, slots.balance_storage(simulator, amount_in, layout)


@dataclass(frozen=True)
class CheckInput:
    router: ChecksumAddress
    token: ChecksumAddress
    quote: ChecksumAddress | None
    amount: Decimal
    max_sell_tax_pct: Decimal


def parse_input(
    router: str,
    token: str,
    amount_in_quote: Decimal | str | float,
    quote: str | None,
    max_sell_tax_pct: Decimal | str,
) -> CheckInput:
    """Everything checked before any call to a node."""
    return CheckInput(
        router=parse_address(router, "router"),
        token=parse_address(token, "token"),
        quote=parse_address(quote, "quote") if quote is not None else None,
        amount=parse_amount(amount_in_quote),
        max_sell_tax_pct=parse_pct(max_sell_tax_pct, "max sell tax"),
    )


async def prepare(
    w3: AsyncWeb3[AsyncHTTPProvider], given: CheckInput
) -> tuple[Simulation, ChecksumAddress, int]:
    """The simulation of ``given``, the fresh address it runs at, the quote's decimals."""
    simulator = fresh_address()
    decimals, amount_in, storage = await _funding(w3, given.quote, given.amount, simulator)
    simulation = Simulation(given.router, given.token, given.quote, amount_in, PROBE_CALLS, storage)
    return simulation, simulator, decimals


def judge(report: Report, given: CheckInput, decimals: int, started: float) -> SellCheck:
    return assess(
        report,
        read_facts(report.probes, report.token_code),
        amount_in=given.amount,
        quote_decimals=decimals,
        max_sell_tax_pct=given.max_sell_tax_pct,
        router=given.router,
        token=given.token,
        elapsed_ms=(time.perf_counter() - started) * 1000,
    )


async def check_sell(
    rpc_url: str,
    router: str,
    token: str,
    amount_in_quote: Decimal | str | float,
    *,
    quote: str | None = None,
    max_sell_tax_pct: Decimal | str = DEFAULT_MAX_SELL_TAX_PCT,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> SellCheck:
    """Simulate buying ``token`` with ``amount_in_quote`` of ``quote`` (default: the router's
    WETH) on ``router`` and selling it back; nothing is signed or sent."""
    given = parse_input(router, token, amount_in_quote, quote, max_sell_tax_pct)
    node.check_rpc_url(rpc_url)
    started = time.perf_counter()
    async with node.connect(rpc_url, timeout_s) as w3:
        simulation, simulator, decimals = await prepare(w3, given)
        report = await simulate(w3, simulation, simulator)
    return judge(report, given, decimals, started)
