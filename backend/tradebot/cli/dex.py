"""``tradebot dex check-sell``: can a token be sold back on a Uniswap-V2-style router?

Simulates a buy with ``--amount`` of the quote (the router's WETH unless ``--quote``) and the
sale of what it bought, in one ``eth_call`` on ``--rpc``; nothing is signed or sent. With
``--after-blocks N`` the sale comes N blocks after the buy, on a local anvil fork of ``--rpc``
(``--anvil``: its binary). Exit 0: sellable; 1: not sellable; 3: unknown (the buy itself
failed); 2: an error (one line).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradebot.dex.assessment import SellCheck

EXIT_CODES = {"yes": 0, "no": 1, "unknown": 3}


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check-sell",
        help="simulate a buy and a sell of a token (eth_call, nothing signed or sent)",
        description=__doc__,
    )
    check.add_argument("--rpc", required=True, help="JSON-RPC URL of a node (http or https)")
    check.add_argument("--router", required=True, help="Uniswap-V2-style router address")
    check.add_argument("--token", required=True, help="the token to check")
    check.add_argument("--amount", required=True, help="quote to buy with, in units (0.1)")
    check.add_argument("--quote", help="quote token address (default: the router's WETH)")
    check.add_argument(
        "--max-sell-tax", default="10", help="flag a sell tax above this %% (default 10)"
    )
    check.add_argument("--timeout", type=float, default=10.0, help="RPC timeout, s (10)")
    check.add_argument(
        "--after-blocks", type=int, help="fork mode: sell this many blocks after the buy"
    )
    check.add_argument("--anvil", default="anvil", help="fork mode: anvil's binary (anvil)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from tradebot.dex.assessment import as_json
    from tradebot.dex.check import check_sell
    from tradebot.dex.fork import check_sell_after_blocks

    options = {
        "quote": args.quote,
        "max_sell_tax_pct": args.max_sell_tax,
        "timeout_s": args.timeout,
    }
    given = (args.rpc, args.router, args.token, args.amount)
    if args.after_blocks is None:
        result = asyncio.run(check_sell(*given, **options))
    else:
        blocks, anvil = args.after_blocks, args.anvil
        result = asyncio.run(check_sell_after_blocks(*given, blocks=blocks, anvil=anvil, **options))
    if args.json:
        print(json.dumps(as_json(result), indent=2))
    else:
        print(_text(result))
    return EXIT_CODES[result.sellable.value]


def _pct(value: object) -> str:
    return "n/a" if value is None else f"{value} %"


def _text(result: SellCheck) -> str:
    lines = [
        f"sellable: {result.sellable.value}: {result.why}",
        f"token {result.token} against {result.quote}, pool {result.pair}",
        f"pool reserves: {result.reserve_quote} quote / {result.reserve_token} token "
        f"(liquidity {result.liquidity_quote} in quote)",
        f"taxes: buy {_pct(result.buy_tax_pct)}, sell {_pct(result.sell_tax_pct)}, "
        f"transfer {_pct(result.transfer_tax_pct)}; "
        f"round trip loss {_pct(result.round_trip_loss_pct)}",
        f"gas: buy {result.buy_gas or 'n/a'}, sell {result.sell_gas or 'n/a'}",
    ]
    for step, reason in (
        ("buy", result.buy_revert),
        ("transfer", result.transfer_revert),
        ("sell", result.sell_revert),
    ):
        if reason:
            lines.append(f"{step} reverted: {reason}")
    flags = ", ".join(flag.value for flag in result.flags) or "none"
    lines.append(f"flags: {flags} (sell tax limit {result.max_sell_tax_pct} %)")
    lines.append(f"checked in {result.elapsed_ms:.0f} ms")
    return "\n".join(lines)
