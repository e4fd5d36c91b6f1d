"""What the token's own code and getters tell: decimals, owner, pause, blacklist, limits.

The getters are called by the simulator before its buy (their answers come back in the same
``eth_call``); the functions an owner could call are looked for in the runtime code as the
``PUSH4 selector`` of the dispatcher. Both go by the names popular tokens use: a token that
names them otherwise is not detected (the flags say "detected", never "absent").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from eth_utils.abi import function_signature_to_4byte_selector

PUSH4: Final = b"\x63"

DECIMALS: Final = "decimals()"
OWNERS: Final = ("owner()", "getOwner()")
PAUSED: Final = "paused()"
MAX_TX: Final = (
    "maxTxAmount()",
    "_maxTxAmount()",
    "maxTransactionAmount()",
    "maxTxnAmount()",
    "maxTx()",
)
MAX_WALLET: Final = (
    "maxWallet()",
    "_maxWalletSize()",
    "maxWalletSize()",
    "maxWalletAmount()",
    "maxHoldingAmount()",
)
GETTERS: Final = (DECIMALS, *OWNERS, PAUSED, *MAX_TX, *MAX_WALLET)
"""The calls the simulator makes on the token, in this order."""

PAUSE_FUNCTIONS: Final = ("pause()", "setPaused(bool)", "pauseTrading()")
BLACKLIST_FUNCTIONS: Final = (
    "blacklist(address)",
    "blacklist(address,bool)",
    "addToBlacklist(address)",
    "setBlacklist(address,bool)",
    "addBlackList(address)",
    "blacklistAddress(address,bool)",
    "setBots(address[],bool)",
    "blockBots(address[])",
)


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


PROBE_CALLS: Final = tuple(selector(signature) for signature in GETTERS)


@dataclass(frozen=True)
class TokenFacts:
    decimals: int | None
    owner: str | None
    """``None``: no owner getter answered; the zero address: ownership renounced."""
    paused: bool
    max_tx: int | None
    max_wallet: int | None
    pause_function: bool
    blacklist_function: bool

    @property
    def owned(self) -> bool:
        """Someone may still call the owner's functions (an owner, or no way to tell)."""
        return self.owner != "0x" + "00" * 20


def read_facts(probes: tuple[tuple[bool, bytes], ...], code: bytes) -> TokenFacts:
    answers = {
        signature: int.from_bytes(data[:32], "big")
        for signature, (ok, data) in zip(GETTERS, probes, strict=True)
        if ok and len(data) >= 32
    }
    owner = next((answers[name] for name in OWNERS if name in answers), None)
    decimals = answers.get(DECIMALS)
    return TokenFacts(
        decimals=decimals if decimals is not None and decimals <= 36 else None,
        owner=None if owner is None else "0x" + (owner % 2**160).to_bytes(20, "big").hex(),
        paused=answers.get(PAUSED, 0) == 1,
        max_tx=_smallest(answers, MAX_TX),
        max_wallet=_smallest(answers, MAX_WALLET),
        pause_function=_in_code(code, PAUSE_FUNCTIONS),
        blacklist_function=_in_code(code, BLACKLIST_FUNCTIONS),
    )


def _smallest(answers: dict[str, int], names: tuple[str, ...]) -> int | None:
    limits = [answers[name] for name in names if answers.get(name)]
    return min(limits) if limits else None


def _in_code(code: bytes, signatures: tuple[str, ...]) -> bool:
    return any(PUSH4 + selector(signature) in code for signature in signatures)
