"""``tradebot client-admin``: the operator's verbs over clients, their exchange keys and the
master key. Every change writes an audit entry (actor: ``--actor``, else ``RUN_OWNER``).

The database is ``PG_URL`` (else the embedded SQLite file, created and migrated on start); the
master key is ``CLIENT_MASTER_KEY`` (``NEW_CLIENT_MASTER_KEY`` or ``--new-key`` for a rotation).
Example::

    PG_URL=... CLIENT_MASTER_KEY=... tradebot client-admin list-credentials --id my-client
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

VERBS = {
    "list-clients": "list every client",
    "show-client": "one client: its settings, limits and stored keys (metadata only)",
    "upsert-client": "create a client or change the fields given",
    "store-credentials": "encrypt and store a client's exchange API key",
    "list-credentials": "a client's stored keys: metadata only, never a secret",
    "rotate-master-key": "re-encrypt every stored key under a new master key (one transaction)",
    "list-runs": "a client's runs: mode, pair, status, round trips, equity",
    "reset-guards": "lift a client's tripped guards and kill switch (audited)",
}


def register(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--actor", help="who acts, for the audit log (default: RUN_OWNER)")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    add = {
        name: verbs.add_parser(name, help=text, description=text, parents=[common])
        for name, text in VERBS.items()
    }
    for name in ("list-clients", "show-client", "list-credentials", "list-runs"):
        add[name].add_argument("--json", action="store_true", help="print JSON")
    for name in (
        "show-client",
        "upsert-client",
        "store-credentials",
        "list-credentials",
        "list-runs",
        "reset-guards",
    ):
        add[name].add_argument("--id", required=True, help="client id")
    upsert = add["upsert-client"]
    upsert.add_argument("--name")
    upsert.add_argument("--owner")
    upsert.add_argument("--plan", help="trial, starter, pro or managed")
    upsert.add_argument("--status", help="active, suspended or closed")
    upsert.add_argument("--limits", help='JSON, e.g. \'{"risk": {"bankrollUsd": 5000}}\'')
    store = add["store-credentials"]
    store.add_argument("--exchange", required=True, help="ccxt id, e.g. binance")
    store.add_argument("--api-key", required=True)
    store.add_argument("--api-secret", required=True)
    store.add_argument("--passphrase", help="for exchanges that have one (OKX, KuCoin...)")
    store.add_argument("--label", default="main", help="several keys per exchange (default main)")
    store.add_argument(
        "--skip-exchange-check",
        action="store_true",
        help="UNSAFE for live: store without asking the exchange about withdrawals; "
        "such keys serve paper runs only",
    )
    store.add_argument(
        "--sandbox-url", help="ask this exchange base URL instead (the local simulator)"
    )
    add["rotate-master-key"].add_argument(
        "--new-key", help="the new master key (default: NEW_CLIENT_MASTER_KEY)"
    )


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tradebot.config import load_settings
    from tradebot.migrations import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    return asyncio.run(_run(args, settings.database_url, args.actor or settings.RUN_OWNER))


async def _run(args: argparse.Namespace, url: str, actor: str) -> int:
    from tradebot.admin.service import ClientAdmin
    from tradebot.db import create_engine, session_factory

    engine = create_engine(url)
    try:
        await HANDLERS[args.verb](ClientAdmin(session_factory(engine), actor), args)
    finally:
        await engine.dispose()
    return 0


def _master_key(variable: str, given: str | None = None) -> Any:
    from tradebot.kit.secrets import Secret

    value = given if given is not None else os.environ.get(variable)
    return Secret(value) if value is not None else None


async def _list_clients(admin: Any, args: argparse.Namespace) -> None:
    clients = await admin.list_clients()
    if args.json:
        _print_json([c.model_dump(mode="json") for c in clients])
        return
    _print_table(
        ["id", "name", "owner", "plan", "status"],
        [[c.id, c.name, c.owner, c.plan, c.status] for c in clients],
    )


async def _show_client(admin: Any, args: argparse.Namespace) -> None:
    details = await admin.show_client(args.id)
    client = details.client.model_dump(mode="json")
    keys = [k.model_dump(mode="json") for k in details.credentials]
    if args.json:
        _print_json({**client, "credentials": keys})
        return
    import json

    for name in ("id", "name", "owner", "plan", "status", "created_at", "updated_at"):
        print(f"{name:<11} {client[name]}")
    print(f"{'limits':<11} {json.dumps(client['limits'], sort_keys=True)}")
    print(f"{'keys':<11} " + (", ".join(_key_summary(k) for k in keys) or "none"))


async def _list_credentials(admin: Any, args: argparse.Namespace) -> None:
    keys = [k.model_dump(mode="json") for k in await admin.list_credentials(args.id)]
    if args.json:
        _print_json(keys)
        return
    _print_table(
        ["exchange", "label", "key", "status", "version", "created", "rotated"],
        [
            [
                k["exchange"],
                k["label"],
                k["key_id"],
                k["status"],
                str(k["key_version"]),
                k["created_at"],
                k["rotated_at"] or "-",
            ]
            for k in keys
        ],
    )


async def _list_runs(admin: Any, args: argparse.Namespace) -> None:
    from tradebot.engine import core
    from tradebot.runs.store import client_runs

    await admin.show_client(args.id)  # an unknown client is an error, not an empty list
    runs = await client_runs(admin.sessions, args.id)
    if args.json:
        import dataclasses

        _print_json([{**dataclasses.asdict(r), "state": None} for r in runs])
        return

    def figure(state: list[float], slot: int) -> str:
        return f"{state[slot]:,.2f}" if len(state) > slot else "-"

    _print_table(
        ["run", "mode", "pair", "status", "round trips", "equity", "reason"],
        [
            [
                r.run_id,
                r.mode,
                r.pair,
                r.status,
                figure(r.state, core.ROUND_TRIPS).split(".")[0],
                figure(r.state, core.EQUITY),
                r.stop_reason or "",
            ]
            for r in runs
        ],
    )


async def _reset_guards(admin: Any, args: argparse.Namespace) -> None:
    from tradebot.admin.operations import Operations

    result = await Operations(admin.sessions, admin.actor).reset_guards(args.id)
    print(f"reset {len(result.reset)} guard(s) of client {args.id}")


async def _upsert_client(admin: Any, args: argparse.Namespace) -> None:
    from tradebot.admin.service import ClientChanges

    changes = ClientChanges(args.name, args.owner, args.plan, args.status, args.limits)
    client, created = await admin.upsert_client(args.id, changes)
    print(
        f"{'created' if created else 'updated'} client {client.id} ({client.plan}, {client.status})"
    )


async def _store_credentials(admin: Any, args: argparse.Namespace) -> None:
    check = None
    if args.skip_exchange_check:
        print(
            "tradebot: warning: storing without the exchange check: these keys serve paper "
            "runs only (live runs refuse them)",
            file=sys.stderr,
        )
    else:
        check = _permission_check(args)
    stored = await admin.store_credentials(
        args.id,
        args.exchange,
        args.api_key,
        args.api_secret,
        args.passphrase,
        _master_key("CLIENT_MASTER_KEY"),
        check,
        label=args.label,
    )
    meta = stored.metadata
    print(
        f"{'replaced' if stored.replaced else 'stored'} {meta.exchange}/{meta.label} key "
        f"{meta.key_id} for client {meta.client_id} ({meta.status}, master key version "
        f"{meta.key_version})"
    )


async def _rotate_master_key(admin: Any, args: argparse.Namespace) -> None:
    def progress(done: int, total: int) -> None:
        if done % 1000 == 0 or done == total:
            print(f"re-encrypted {done}/{total}", file=sys.stderr)

    result = await admin.rotate_master_key(
        _master_key("CLIENT_MASTER_KEY"),
        _master_key("NEW_CLIENT_MASTER_KEY", args.new_key),
        progress,
    )
    print(
        f"master key rotated: version {result.from_version} -> {result.to_version}, "
        f"{result.credentials} stored keys re-encrypted; set CLIENT_MASTER_KEY to the new key"
    )


HANDLERS = {
    "list-clients": _list_clients,
    "show-client": _show_client,
    "upsert-client": _upsert_client,
    "store-credentials": _store_credentials,
    "list-credentials": _list_credentials,
    "rotate-master-key": _rotate_master_key,
    "list-runs": _list_runs,
    "reset-guards": _reset_guards,
}


def _permission_check(args: argparse.Namespace) -> Any:
    from tradebot.venues.key_permissions import CcxtKeyPermissionCheck

    return CcxtKeyPermissionCheck(sandbox_url=args.sandbox_url)


def _key_summary(key: dict[str, Any]) -> str:
    return f"{key['exchange']}/{key['label']} {key['key_id']} ({key['status']})"


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, sort_keys=True))


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
