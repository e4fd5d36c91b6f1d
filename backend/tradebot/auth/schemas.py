"""Who is calling, as the rest of the API sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tradebot.kit.scope import ClientScope


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``client_id`` is set for customers (operators may have none)."""

    subject: str
    operator: bool
    client_id: str | None = None
    email: str = ""

    @property
    def actor(self) -> str:
        """How audit entries name the caller."""
        return self.subject if ":" in self.subject else f"user:{self.subject}"

    def scope(self) -> ClientScope:
        if self.client_id is None:
            raise ValueError("this caller has no client")
        return ClientScope.of(self.client_id)


SERVICE_OPERATOR = Principal(subject="service:admin-api-token", operator=True)
"""The caller holding ``ADMIN_API_TOKEN`` (service to service)."""


class MeView(BaseModel):
    subject: str
    email: str
    operator: bool
    client_id: str
    client_name: str
    plan: str
    client_status: str
    created_at: datetime


class AuditEntry(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    at: datetime
