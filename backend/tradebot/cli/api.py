"""``tradebot api`` (the whole API) and ``tradebot admin-server`` (operator routes only).

Both serve ``tradebot.api.app.create_app`` with uvicorn; the API on ``API_PORT`` (or
``--port``), the operator app on ``ADMIN_PORT``. Settings come from the environment. Stored
exchange keys are checked through ccxt (a key that can withdraw is refused, fail closed).
No line per request unless asked for (``--access-log`` or ``API_ACCESS_LOG``).

uvicorn's own lines (its start, its tracebacks, the access log) go through our JSON handler and
its redaction like every other line: uvicorn is told not to install its own handlers.
"""

from __future__ import annotations

import argparse
import logging

SHUTDOWN_GRACE_S = 5


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, help="port (default API_PORT, or ADMIN_PORT for admin-server)"
    )
    parser.add_argument(
        "--sandbox-url",
        help="use this exchange simulator, not the real exchange, for key checks and the charts' "
        "candles (default EXCHANGE_SANDBOX_URL)",
    )
    parser.add_argument(
        "--migrate",
        action="store_true",
        help="run the database migrations before serving",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (default API_ACCESS_LOG, off)",
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tradebot.api.app import create_app
    from tradebot.config import load_settings
    from tradebot.errors import BadInputError
    from tradebot.migrations import upgrade
    from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

    settings = load_settings()
    if args.sandbox_url:
        if not args.sandbox_url.startswith(("http://", "https://")):
            raise BadInputError(f"--sandbox-url must be an http(s) URL (got {args.sandbox_url!r})")
        settings = settings.model_copy(update={"EXCHANGE_SANDBOX_URL": args.sandbox_url})
    admin_only = args.command == "admin-server"
    port = args.port or (settings.ADMIN_PORT if admin_only else settings.API_PORT)
    if not 1 <= port <= 65535:
        raise BadInputError(f"--port must be 1..65535 (got {port})")
    if admin_only and settings.ADMIN_API_TOKEN is None and not settings.AUTH0_ISSUER:
        raise BadInputError(
            "admin-server needs ADMIN_API_TOKEN or AUTH0_ISSUER/AUTH0_AUDIENCE: nobody could log in"
        )
    if args.migrate:
        upgrade(settings.database_url)
    access_log = args.access_log or settings.API_ACCESS_LOG
    # Its start and stop are worth a line whatever LOG_LEVEL says; requests only when asked.
    logging.getLogger("uvicorn.error").setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").setLevel(logging.INFO if access_log else logging.WARNING)
    uvicorn.run(
        create_app(
            settings,
            key_check=CcxtKeyPermissionCheck(sandbox_url=settings.EXCHANGE_SANDBOX_URL),
            admin_only=admin_only,
        ),
        host=args.host,
        port=port,
        # Forwarded headers only from the proxies named in API_TRUSTED_PROXIES (uvicorn's
        # default trusts loopback, so a local sidecar's rotating X-Forwarded-For would escape
        # the per-IP limit). Unset: the client is the connection's peer.
        proxy_headers=bool(settings.API_TRUSTED_PROXIES),
        forwarded_allow_ips=settings.API_TRUSTED_PROXIES or [],
        # No handlers of its own (they print plain text, tracebacks with SQL parameters and
        # all): its loggers propagate to the root's JSON handler (cli.main configured it).
        log_config=None,
        access_log=access_log,
        # On SIGTERM, requests in flight (and a backtest running after its response) get this
        # long, then are cancelled: without it a request that hangs kept the process alive.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    return 0
