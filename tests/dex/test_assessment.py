"""The pure parts of the verdict: revert reasons in words and what the token's code tells."""

from __future__ import annotations

from eth_abi.abi import encode

from tradebot.dex.assessment import revert_reason
from tradebot.dex.probes import GETTERS, PUSH4, read_facts, selector

ERROR = bytes.fromhex("08c379a0")
PANIC = bytes.fromhex("4e487b71")


def test_revert_reasons_in_words() -> None:
    assert revert_reason(ERROR + encode(["string"], ["paused"])) == "paused"
    assert revert_reason(PANIC + encode(["uint256"], [0x11])) == "panic 0x11"
    assert revert_reason(b"") == "reverted without a reason"
    assert revert_reason(bytes.fromhex("deadbeef")) == "reverted with custom error 0xdeadbeef"
    assert revert_reason(ERROR + b"\x00" * 5) == "reverted with a malformed reason"


def _answers(**values: int) -> tuple[tuple[bool, bytes], ...]:
    """Probe answers in ``GETTERS`` order; a getter not named did not answer."""
    return tuple(
        (name in values, encode(["uint256"], [values[name]]) if name in values else b"")
        for name in (getter.removesuffix("()") for getter in GETTERS)
    )


def test_an_owner_can_pause_only_while_there_is_one() -> None:
    code = b"\x60\x80" + PUSH4 + selector("pause()") + PUSH4 + selector("blacklist(address)")
    owned = read_facts(_answers(owner=0xABC, decimals=18), code)
    assert owned.pause_function
    assert owned.blacklist_function
    assert owned.owned
    renounced = read_facts(_answers(owner=0), code)
    assert not renounced.owned
    nobody_tells = read_facts(_answers(), code)
    assert nobody_tells.owned
    assert nobody_tells.decimals is None


def test_limits_take_the_smallest_getter_and_ignore_zero() -> None:
    facts = read_facts(_answers(maxTxAmount=500, _maxTxAmount=300, maxWallet=0), b"")
    assert facts.max_tx == 300
    assert facts.max_wallet is None
    assert not facts.pause_function
