"""Plain async factories for tenant rows, written through the operator's connection."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import unique_id
from tradebot.db import transaction
from tradebot.models.clients import AuditLog, Client
from tradebot.models.credentials import ClientApiCredential
from tradebot.models.runs import BotFill, BotGuardState, BotInventorySnapshot, BotOrder, BotRun

TENANT_TABLES = (
    "bot_runs",
    "bot_orders",
    "bot_fills",
    "bot_inventory_snapshots",
    "bot_guard_state",
    "client_api_credentials",
    "audit_log",
)
"""Tables keyed by ``client_id`` that ``make_tenant_rows`` fills (``clients`` is keyed by id)."""


async def make_client(
    sessions: async_sessionmaker[AsyncSession], client_id: str | None = None, **fields: Any
) -> str:
    """Insert a client (a unique id unless given); returns its id."""
    client_id = client_id or unique_id("client")
    async with transaction(sessions) as session:
        session.add(Client(id=client_id, name=fields.pop("name", client_id), **fields))
    return client_id


async def make_tenant_rows(sessions: async_sessionmaker[AsyncSession], client_id: str) -> str:
    """One row in every tenant table for ``client_id``; returns the run id."""
    run_id = unique_id("run")
    async with transaction(sessions) as session:
        session.add(
            BotRun(
                id=run_id,
                client_id=client_id,
                mode="paper",
                exchange="binance",
                pair="BTC/USDT",
                base_ts=0,
            )
        )
        await session.flush()
        order = BotOrder(
            client_id=client_id,
            run_id=run_id,
            client_order_id=unique_id("o"),
            line=1,
            seq=1,
            side="buy",
            price=100.0,
            qty=1.0,
            created_ts=0,
            updated_ts=0,
        )
        session.add(order)
        await session.flush()
        session.add_all(
            [
                BotFill(
                    client_id=client_id,
                    run_id=run_id,
                    order_id=order.id,
                    client_order_id=order.client_order_id,
                    trade_id=unique_id("tr"),
                    ts=0,
                    side="buy",
                    line=1,
                    price=100.0,
                    qty=1.0,
                    fee=0.1,
                ),
                BotInventorySnapshot(
                    client_id=client_id,
                    run_id=run_id,
                    ts=0,
                    price=100.0,
                    base=1.0,
                    quote=0.0,
                    equity=100.0,
                    grid_profit=0.0,
                    fees=0.1,
                    round_trips=0,
                    empty_line=0,
                ),
                BotGuardState(
                    client_id=client_id,
                    run_id=run_id,
                    guard="drawdown",
                    reason="test",
                    tripped_ts=0,
                ),
                ClientApiCredential(
                    id=unique_id("c").replace("-", ""),
                    client_id=client_id,
                    exchange="binance",
                    label=unique_id("l"),
                    ciphertext=b"x",
                    nonce=b"n" * 24,
                    key_version=1,
                ),
                AuditLog(client_id=client_id, actor="test", action="made", target=run_id),
            ]
        )
    return run_id


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the client, credential, key and audit tables: compare before and after."""
    tables = {
        "clients": "id, name, owner, plan, status, limits",
        "client_api_credentials": "id, client_id, exchange, label, ciphertext, nonce, "
        "key_version, status, permissions",
        "master_key_meta": "version, kdf, check_ciphertext, retired_at",
        "audit_log": "id, client_id, action",
    }
    async with transaction(sessions) as session:
        return {
            table: [
                tuple(str(value) for value in row)
                for row in await session.execute(text(f"SELECT {columns} FROM {table} ORDER BY 1"))
            ]
            for table, columns in tables.items()
        }
