"""The tenant (``Client``, one customer account: the scope of every tenant row) and its audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class Client(SQLModel, table=True):
    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_plan_created", "plan", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=200)
    plan: str = Field(default="trial", max_length=32)
    status: str = Field(default="active", max_length=32)
    limits: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditLog(SQLModel, table=True):
    """One change made by someone: who (``actor``), what (``action``), to what (``target``).

    ``client_id`` is empty for operator actions that span clients (a master key rotation).
    ``details`` never holds a secret: at most the last 4 characters of a key id.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_client_at", "client_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str | None = Field(default=None, foreign_key="clients.id", max_length=64)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=200)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)
