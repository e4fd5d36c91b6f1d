"""``tradebot ops-server``: the fleet's kill switch (``KILL_SWITCH_PORT``) and the status
dashboard (``DASHBOARD_PORT``) in one process; both need ``ADMIN_API_TOKEN``."""

from __future__ import annotations

import argparse


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument("--migrate", action="store_true", help="upgrade the database first")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from tradebot.config import load_settings
    from tradebot.errors import BadInputError
    from tradebot.migrations import upgrade
    from tradebot.ops.server import serve

    settings = load_settings()
    if settings.ADMIN_API_TOKEN is None:
        raise BadInputError("ops-server needs ADMIN_API_TOKEN: nobody could use it")
    if args.migrate:
        upgrade(settings.database_url)
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)  # its start and stop, always
    asyncio.run(
        serve(
            settings.database_url,
            settings.REDIS_URL,
            settings.RUN_QUEUE_NAME,
            settings.ADMIN_API_TOKEN.get_secret_value(),
            host=args.host,
            kill_switch_port=settings.KILL_SWITCH_PORT,
            dashboard_port=settings.DASHBOARD_PORT,
        )
    )
    return 0
