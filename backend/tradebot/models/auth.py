"""The login directory: each Auth0 user (``sub``) belongs to exactly one client."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class User(SQLModel, table=True):
    """One Auth0 subject and its client.

    Not a tenant table: a login is resolved to its client *before* any tenant scope exists, so
    the directory is read on the operator connection, by ``sub`` only (``auth.repository``).
    The application role has no privileges on it.
    """

    __tablename__ = "users"

    sub: str = Field(primary_key=True, max_length=255)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    email: str = Field(default="", max_length=320)
    created_at: datetime = Field(default_factory=utcnow)
