"""Operator routes (tag ``admin``): the seed's ``/clients`` verbs, guard resets, runs, KPIs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tradebot.admin.operations import Operations
from tradebot.admin.schemas import (
    ClientDetailsView,
    ClientUpdate,
    ClientUpserted,
    GuardsReset,
    Kpis,
    OperatorKeysInput,
    OperatorRunDetail,
    OperatorRunView,
)
from tradebot.auth.dependencies import CurrentOperator
from tradebot.clients.schemas import ClientView
from tradebot.credentials.endpoints import KeyCheck
from tradebot.credentials.exchange_keys import StoredKeys, store_keys
from tradebot.kit.text import PlainText
from tradebot.kit.web import ClientIdPath, ContextDep, RowId

router = APIRouter(tags=["admin"])


def _operations(context: ContextDep, operator: CurrentOperator) -> Operations:
    return Operations(context.sessions, operator.actor)


Ops = Annotated[Operations, Depends(_operations)]


@router.get("/clients")
async def list_clients(ops: Ops) -> list[ClientView]:
    return await ops.list_clients()


@router.get("/clients/{client_id}")
async def get_client(client_id: ClientIdPath, ops: Ops) -> ClientDetailsView:
    return await ops.client(client_id)


@router.put("/clients/{client_id}")
async def upsert_client(client_id: ClientIdPath, body: ClientUpdate, ops: Ops) -> ClientUpserted:
    """Create the client or change the given fields (audited)."""
    return await ops.upsert_client(client_id, body)


@router.post("/clients/{client_id}/credentials")
async def store_client_credentials(
    client_id: ClientIdPath,
    body: OperatorKeysInput,
    context: ContextDep,
    operator: CurrentOperator,
    check: KeyCheck,
) -> StoredKeys:
    """Store or rotate a client's exchange key (sealed; withdraw keys refused)."""
    return await store_keys(
        context.sessions, operator.actor, client_id, body, context.settings, check
    )


@router.post("/clients/{client_id}/guards/reset")
async def reset_guards(client_id: ClientIdPath, ops: Ops) -> GuardsReset:
    """Clear the client's kill switch and tripped guards so runs can start again."""
    return await ops.reset_guards(client_id)


@router.get("/admin/runs")
async def list_all_runs(
    ops: Ops,
    status: Annotated[PlainText | None, Query(max_length=16)] = None,
    client_id: Annotated[PlainText | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OperatorRunView]:
    return list(await ops.runs(status, client_id, limit))


@router.get("/admin/runs/{run_id}")
async def get_any_run(run_id: RowId, ops: Ops) -> OperatorRunDetail:
    return await ops.run(run_id)


@router.get("/admin/kpis")
async def get_kpis(ops: Ops) -> Kpis:
    return await ops.kpis()
