"""``tradebot dex check-sell``: a verdict per test token, JSON, and one-line errors."""

from __future__ import annotations

import json

import pytest

from tests.dex.conftest import World
from tests.dex.evm import anvil_binary, free_port
from tradebot.cli.main import main


def _check_sell(world: World, token: str, *flags: str, rpc: str | None = None) -> list[str]:
    return [
        "dex",
        "check-sell",
        "--rpc",
        rpc or world.url,
        "--router",
        world.router,
        "--token",
        world.tokens.get(token, token),
        *flags,
    ]


@pytest.mark.parametrize(
    ("token", "verdict", "code"),
    [
        ("plain", "sellable: yes", 0),
        ("tax25", "sellable: yes", 0),
        ("honeypot", "sellable: no: the sell reverted", 1),
        ("blacklist", "sellable: no", 1),
        ("max_tx", "sellable: unknown", 3),
        ("paused", "sellable: unknown", 3),
    ],
)
def test_the_verdict_comes_first_and_sets_the_exit_code(
    world: World, capsys: pytest.CaptureFixture[str], token: str, verdict: str, code: int
) -> None:
    assert main(_check_sell(world, token, "--amount", "0.1")) == code
    out = capsys.readouterr().out
    assert out.startswith(verdict), out


def test_after_blocks_sells_on_a_fork(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    flags = ("--amount", "0.1", "--after-blocks", "10", "--anvil", str(anvil_binary()))
    assert main(_check_sell(world, "late", *flags)) == 1
    assert capsys.readouterr().out.startswith("sellable: no: the sell reverted")


def test_json_carries_taxes_flags_and_gas(world: World, capsys: pytest.CaptureFixture[str]):
    assert main(_check_sell(world, "fee", "--amount", "0.1", "--json")) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sellable"] == "yes"
    assert (result["buy_tax_pct"], result["sell_tax_pct"]) == ("5.0000", "12.0000")
    assert result["transfer_tax_pct"] == "1.0000"
    assert result["flags"] == ["high_sell_tax"]
    assert result["buy_gas"] > 0
    assert result["sell_gas"] > 0
    assert result["liquidity_quote"] == "200"


@pytest.mark.parametrize(
    ("token", "flags", "rpc", "message"),
    [
        ("0xnot", ("--amount", "0.1"), None, "token: not an address"),
        ("plain", ("--amount", "0"), None, "amount: must be a positive number"),
        ("plain", ("--amount", "ten"), None, "amount: not a number"),
        ("plain", ("--amount", "0.1"), "ftp://node", "rpc: not an http(s) URL"),
        ("plain", ("--amount", "0.1"), "dead", "cannot reach the RPC node"),
        ("no_pool", ("--amount", "0.1"), None, "no pool of this token"),
        ("plain", ("--amount", "1", "--max-sell-tax", "101"), None, "from 0 to 100"),
    ],
)
def test_errors_are_one_line(
    world: World,
    capsys: pytest.CaptureFixture[str],
    token: str,
    flags: tuple[str, ...],
    rpc: str | None,
    message: str,
) -> None:
    if rpc == "dead":
        rpc = f"http://127.0.0.1:{free_port()}"
    assert main(_check_sell(world, token, *flags, "--timeout", "2", rpc=rpc)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("tradebot: error: ")
    assert message in lines[0]
