"""``tradebot exchange-sim``: the local Binance spot simulator as a sandbox exchange.

It replays a candle file (default: the bundled demo week) in real time, ``--speed`` times
faster (0: only when ``POST /_sim/advance`` says), for the accounts of ``--keys`` (a JSON list
of ``{"api_key", "secret", "balances", "permissions"}``). Without ``--keys`` it makes one
sandbox account and prints its key and secret: play money, on loopback only. REST and the
WebSocket streams (``ws://host:port/ws``, ``/ws-api/v3``) share the port; ``--fill-share``
turns on partial fills.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--candles", type=Path, help="candle file (default: the bundled demo week)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port (default 8900; 0 = any free)")
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="replay speed x real time (default 60; 0 = stepped)",
    )
    parser.add_argument("--keys", type=Path, help="JSON file of accounts (API key, secret, ...)")
    parser.add_argument("--symbol", default="BTC/USDT", help="the pair it lists (default BTC/USDT)")
    parser.add_argument(
        "--start-candle",
        type=int,
        default=0,
        help="candles before this one are history (default 0)",
    )
    parser.add_argument(
        "--weight-limit", type=int, default=6000, help="request weight per IP per minute (6000)"
    )
    parser.add_argument(
        "--connection-limit",
        type=int,
        default=300,
        help="new WebSocket connections per IP per 5 minutes (300)",
    )
    parser.add_argument(
        "--fill-share",
        type=float,
        default=0.0,
        help="share of each step's traded volume a resting order may fill: partial fills "
        "(default 0: a crossed order fills whole)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import secrets

    from tradebot.cli.options import load_candle_file
    from tradebot.errors import BadInputError
    from tradebot.venues.exchange_sim import (
        AccountConfig,
        LimitsConfig,
        MarketConfig,
        SimConfig,
        load_accounts,
        serve,
    )

    limits = LimitsConfig(
        weight_limit=args.weight_limit, connections_per_window=args.connection_limit
    )
    candles = load_candle_file(args.candles)
    if args.keys:
        accounts = load_accounts(args.keys)
    else:
        secret = secrets.token_hex(16)
        accounts = [
            AccountConfig("sandbox", secret, {"USDT": 10_000.0, args.symbol.split("/")[0]: 0.1})
        ]
        print(f"sandbox account: API key 'sandbox', secret {secret!r} (play money)")
    config = SimConfig(
        candles=candles,
        accounts=accounts,
        market=MarketConfig(symbol=args.symbol),
        limits=limits,
        start_index=args.start_candle,
        speed=args.speed,
        fill_share=args.fill_share,
    )

    async def main() -> None:
        try:
            async with serve(config, args.host, args.port) as running:
                print(
                    f"exchange simulator on {running.url} ({len(candles)} candles, speed "
                    f"{args.speed:g}; control endpoints under {running.url}/_sim/)",
                    flush=True,
                )
                await asyncio.Event().wait()
        except OSError as exc:
            raise BadInputError(
                f"cannot listen on {args.host}:{args.port}: {exc.strerror}"
            ) from None

    asyncio.run(main())
    return 0
