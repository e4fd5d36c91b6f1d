"""Bodies of the operator routes (tag ``admin``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr

from tradebot.clients.schemas import ClientView
from tradebot.credentials.exchange_keys import PLAIN_SECRET, KeysInput
from tradebot.credentials.schemas import CredentialMetadata
from tradebot.kit.text import PlainText
from tradebot.runs.schemas import GuardView, RunView, SnapshotView


class ClientUpdate(BaseModel):
    """Fields to set on a client (created if missing); unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[PlainText, Field(max_length=200)] | None = None
    owner: Annotated[PlainText, Field(max_length=200)] | None = None
    plan: Annotated[PlainText, Field(max_length=32)] | None = None
    status: Annotated[PlainText, Field(max_length=32)] | None = None
    limits: dict[str, Any] | None = None


def _either(name: str, camel: str) -> dict[str, Any]:
    return {
        "validation_alias": AliasChoices(name, camel),
        "description": f"``{name}``, or ``{camel}`` as the operator API documents it",
    }


class OperatorKeysInput(KeysInput):
    """A client's exchange key as an operator sends it: the customer route's snake_case names,
    or the operator API's documented camelCase ones (``exchangeName``, ``apiKey``,
    ``apiSecret``); one spelling per field."""

    exchange: str = Field(pattern=r"^[a-z][a-z0-9]{1,31}$", **_either("exchange", "exchangeName"))
    api_key: SecretStr = Field(
        min_length=1, max_length=512, json_schema_extra=PLAIN_SECRET, **_either("api_key", "apiKey")
    )
    api_secret: SecretStr = Field(
        min_length=1,
        max_length=1024,
        json_schema_extra=PLAIN_SECRET,
        **_either("api_secret", "apiSecret"),
    )


class ClientDetailsView(BaseModel):
    client: ClientView
    credentials: list[CredentialMetadata]


class ClientUpserted(BaseModel):
    client: ClientView
    created: bool


class GuardsReset(BaseModel):
    client_id: str
    reset: list[GuardView]


class OperatorRunView(RunView):
    client_id: str


class OperatorRunDetail(OperatorRunView):
    latest: SnapshotView | None
    guards: list[GuardView]


class RunCounts(BaseModel):
    by_status: dict[str, int]
    by_mode: dict[str, int]
    failed_last_24h: int
    guards_tripped_last_24h: int


class Kpis(BaseModel):
    """Business figures across every client, computed at request time."""

    clients: int
    paying_clients: int
    mrr_usd: float
    """Monthly recurring revenue: list prices of active subscriptions."""
    churn_30d: float
    """Share of the subscriptions active 30 days ago (or since) that ended in the last 30 days."""
    activation: float
    """Share of the clients with a paper run that went on to a live run."""
    avg_realised_pnl_per_client: float
    """Mean over clients with runs of their runs' realised grid profit (last snapshot)."""
    runs: RunCounts
    computed_at: datetime
