"""The simulator contract (``contracts/SellSimulator.sol``): its code, its call, its report.

The runtime code and ABI come from ``contracts/simulator.json``, built from the source by
``tools/evm/build-simulator.mjs``. The call's argument and result types are read from that ABI
so they cannot drift from the contract.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_typing import ChecksumAddress, HexStr
from eth_utils.abi import (
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)
from web3 import AsyncWeb3
from web3.providers.rpc import AsyncHTTPProvider
from web3.types import StateOverride, Wei

from tradebot.dex import node
from tradebot.dex.errors import DexNodeError

TRANSFER_SHARE = 10
"""The wallet-to-wallet transfer test sends 1/10 of the bought tokens; the rest is sold."""


@dataclass(frozen=True)
class Step:
    """One step as the contract saw it (amounts in base units of what moved)."""

    tried: bool
    ok: bool
    gas_used: int
    sent: int
    quoted: int
    arrived: int
    received: int
    revert_data: bytes


@dataclass(frozen=True)
class Report:
    quote: ChecksumAddress
    pair: ChecksumAddress
    reserve_quote: int
    reserve_token: int
    probes: tuple[tuple[bool, bytes], ...]
    token_code: bytes
    buy: Step
    transfer: Step
    sell: Step


@dataclass(frozen=True)
class Simulation:
    """What the contract is asked: buy ``token`` for ``amount_in`` base units of ``quote``
    (``None``: the router's WETH), send a share to a fresh address, sell the rest."""

    router: ChecksumAddress
    token: ChecksumAddress
    quote: ChecksumAddress | None
    amount_in: int
    probes: tuple[bytes, ...]
    quote_storage: dict[HexStr, HexStr]
    """Storage writes on the quote token that give the simulator its balance (empty: WETH)."""


@cache
def _artifact() -> tuple[bytes, dict[str, Any]]:
    """(runtime code, the ABI's functions by name)."""
    text = resources.files("tradebot.dex").joinpath("contracts/simulator.json").read_text()
    contract = json.loads(text)["contracts"]["SellSimulator"]
    functions = {item["name"]: item for item in contract["abi"] if item["type"] == "function"}
    return bytes.fromhex(contract["deployedBytecode"].removeprefix("0x")), functions


def runtime_code() -> bytes:
    return _artifact()[0]


def encode_call(function: str, arguments: tuple[Any, ...]) -> bytes:
    abi = _artifact()[1][function]
    return function_abi_to_4byte_selector(abi) + encode(get_abi_input_types(abi), arguments)


def decode_result(function: str, raw: bytes) -> tuple[Any, ...]:
    """The values ``function`` returned; an answer that is not them is ``DexNodeError``."""
    if not raw:
        raise DexNodeError(
            "the node ignored the state override (the simulator had no code): it cannot run "
            "this check"
        )
    try:
        return tuple(decode(get_abi_output_types(_artifact()[1][function]), raw))
    except DecodingError:
        raise DexNodeError("the node's answer is not the simulator's report") from None


def fresh_address() -> ChecksumAddress:
    """A random address: no code, no balance, and on no token's list (a token that blacklists
    or exempts a known simulator address cannot tell this one)."""
    return AsyncWeb3.to_checksum_address(os.urandom(20))


ZERO: Final = AsyncWeb3.to_checksum_address(b"\0" * 20)


def buy_arguments(request: Simulation) -> tuple[Any, ...]:
    """The arguments ``buy`` and ``check`` begin with: router, quote, token, amount."""
    return (request.router, request.quote or ZERO, request.token, request.amount_in)


async def simulate(
    w3: AsyncWeb3[AsyncHTTPProvider], request: Simulation, simulator: ChecksumAddress
) -> Report:
    """Run ``request`` with the simulator's code injected at ``simulator`` (a fresh address)."""
    recipient, caller = fresh_address(), fresh_address()
    arguments = (*buy_arguments(request), recipient, TRANSFER_SHARE, list(request.probes))
    overrides: StateOverride = {
        # ETH for the WETH route; with another quote the ETH is unused and harmless.
        simulator: {"code": runtime_code(), "balance": Wei(request.amount_in)},
    }
    if request.quote_storage and request.quote is not None:
        overrides[request.quote] = {"stateDiff": dict(request.quote_storage)}
    raw = await node.call(w3, simulator, encode_call("check", arguments), overrides, sender=caller)
    (result,) = decode_result("check", bytes(raw))
    return report_of(result)


def step_of(values: tuple[Any, ...]) -> Step:
    tried, ok, gas_used, sent, quoted, arrived, received, revert_data = values
    return Step(tried, ok, gas_used, sent, quoted, arrived, received, bytes(revert_data))


def report_of(values: tuple[Any, ...]) -> Report:
    quote, pair, reserve_quote, reserve_token, probes, token_code, buy, transfer, sell = values
    return Report(
        quote=AsyncWeb3.to_checksum_address(quote),
        pair=AsyncWeb3.to_checksum_address(pair),
        reserve_quote=reserve_quote,
        reserve_token=reserve_token,
        probes=tuple((bool(ok), bytes(data)) for ok, data in probes),
        token_code=bytes(token_code),
        buy=step_of(buy),
        transfer=step_of(transfer),
        sell=step_of(sell),
    )
