"""Where an ERC-20 quote token keeps balances, found by probing, so an override can fund us.

A token stores ``balanceOf(holder)`` in a mapping at some slot ``n``: Solidity puts the entry
at ``keccak256(pad32(holder) ++ pad32(n))``, Vyper at ``keccak256(pad32(n) ++ pad32(holder))``.
For each candidate we ask ``balanceOf(holder)`` in an ``eth_call`` that overrides that one
storage word with a marker value: the candidate whose marker comes back is the slot. A token
whose balance is computed (rebasing, reflection) matches none and is refused. The layout is a
property of the token's code, so a found slot is kept a day (a proxy may be upgraded).
"""

from __future__ import annotations

import asyncio

from eth_abi.abi import encode
from eth_typing import ChecksumAddress, HexStr
from eth_utils.crypto import keccak
from web3 import AsyncWeb3
from web3.providers.rpc import AsyncHTTPProvider

from tradebot.dex import node
from tradebot.dex.errors import DexInputError
from tradebot.kit.cache import ExpiringCache

SLOTS_TRIED = 20
"""Mappings sit among a contract's first state variables (USDC's proxy: 9, USDT: 2, DAI: 2)."""
BATCH = 8
"""Probes in flight at once: quick on a local node without tripping a provider's rate limit."""
MARKER = 0x5E1105EED1
BALANCE_OF = bytes.fromhex("70a08231")

LAYOUTS_KEPT = 1_000
LAYOUT_TTL_S = 86_400.0

_found: ExpiringCache[tuple[str, ChecksumAddress], tuple[int, bool]] = ExpiringCache(LAYOUTS_KEPT)


def _key(holder: ChecksumAddress, slot: int, vyper: bool) -> HexStr:
    parts = (
        [("uint256", slot), ("address", holder)]
        if vyper
        else [("address", holder), ("uint256", slot)]
    )
    types, values = zip(*parts, strict=True)
    return HexStr("0x" + keccak(encode(list(types), list(values))).hex())


def _word(value: int) -> HexStr:
    return HexStr("0x" + value.to_bytes(32, "big").hex())


def balance_storage(
    holder: ChecksumAddress, amount: int, layout: tuple[int, bool]
) -> dict[HexStr, HexStr]:
    """The storage write that gives ``holder`` a balance of ``amount``."""
    slot, vyper = layout
    return {_key(holder, slot, vyper): _word(amount)}


async def balance_layout(
    w3: AsyncWeb3[AsyncHTTPProvider], token: ChecksumAddress
) -> tuple[int, bool]:
    """(slot, Vyper order) of ``token``'s balances; ``DexInputError`` when none matches."""
    cache_key = (w3.provider.endpoint_uri or "", token)
    known = _found.get(cache_key)
    if known is not None:
        return known
    holder = AsyncWeb3.to_checksum_address(keccak(b"tradebot balance slot probe")[:20])
    candidates = [(slot, vyper) for slot in range(SLOTS_TRIED) for vyper in (False, True)]
    for start in range(0, len(candidates), BATCH):
        batch = candidates[start : start + BATCH]
        answers = await asyncio.gather(*(_marked(w3, token, holder, c) for c in batch))
        for candidate, marked in zip(batch, answers, strict=True):
            if marked:
                _found.put(cache_key, candidate, LAYOUT_TTL_S)
                return candidate
    raise DexInputError(
        f"cannot find where {token} keeps balances (a rebasing token?): use WETH as the quote"
    )


async def _marked(
    w3: AsyncWeb3[AsyncHTTPProvider],
    token: ChecksumAddress,
    holder: ChecksumAddress,
    candidate: tuple[int, bool],
) -> bool:
    storage = balance_storage(holder, MARKER, candidate)
    data = BALANCE_OF + encode(["address"], [holder])
    try:
        answer = await node.call(w3, token, data, {token: {"stateDiff": storage}})
    except node.SimulationReverted:
        return False
    return len(answer) >= 32 and int.from_bytes(answer[:32], "big") == MARKER
