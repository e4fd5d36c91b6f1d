"""Entry point: parse, dispatch to one command module, and turn our errors into one line.

Command modules import only the standard library at the top so ``tradebot --help`` stays fast;
each imports its services inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# command name -> module under tradebot.cli that defines ``register(parser)`` and ``run(args)``
COMMANDS = {
    "admin-server": ("api", "serve the operator routes of the API on ADMIN_PORT"),
    "api": ("api", "serve the SaaS API (FastAPI with uvicorn) on API_PORT or --port"),
    "backtest": ("backtest", "fast backtest of one grid over a candle file"),
    "client-admin": (
        "client_admin",
        "operator verbs: clients, encrypted exchange keys, master key",
    ),
    "candles": ("candles", "fetch candles through ccxt (cached), validate or convert a file"),
    "dex": ("dex", "simulate buying and selling a DEX token: sellable? at what tax?"),
    "exchange-sim": ("exchange_sim", "run the local Binance spot simulator (sandbox exchange)"),
    "ops-server": ("ops_server", "serve the kill switch and the status dashboard (operators)"),
    "paper": ("paper", "replay candles through the live run loop in paper mode, with a report"),
    "plan": ("plan", "print (and export) the grid plan summary without trading"),
    "run": ("run", "start or resume CLIENT_ID's run on live prices (paper or live)"),
    "sweep": ("sweep", "rank every combination of grid ranges over a candle file"),
    "walkforward": ("walkforward", "staged in-sample / out-of-sample runs from a JSON config"),
    "worker": ("worker", "run the arq worker that drives bot runs (--check, --queue-depth)"),
}
# Pure computations log nothing: they skip the logging set-up (and its imports) to start fast.
COMPUTE_ONLY = frozenset({"backtest", "plan", "sweep", "walkforward"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradebot",
        description="Grid-trading bots: one engine for backtest, paper and live trading.",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="JSON logs on stderr at this level (LOG_LEVEL, default WARNING)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(f"tradebot.cli.{module_name}")
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.register(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    from tradebot.cli.errors import run_guarded

    if args.command not in COMPUTE_ONLY or args.log_level != "WARNING":
        from tradebot.observability.logs import configure_logging

        configure_logging(args.log_level, ingest_url=os.environ.get("LOG_INGEST_WEBHOOK") or None)
    return run_guarded(args._module.run, args)


if __name__ == "__main__":
    sys.exit(main())
