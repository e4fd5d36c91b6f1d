"""Tables of the consent domain: which versions of the risk disclosure and terms a client
accepted, by whom, when and from where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class ConsentAcceptance(SQLModel, table=True):
    """One user's acceptance of one version of one document (``risk-v1``) for its client.

    ``text_sha256`` is the digest of the exact text shown, so what was accepted stays provable
    even if a text file were later edited in place (a new text is a new version).
    """

    __tablename__ = "consent_acceptances"
    __table_args__ = (Index("ix_consent_acceptances_client_document", "client_id", "document"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(foreign_key="clients.id", max_length=64)
    document: str = Field(max_length=32)
    version: int
    text_sha256: str = Field(max_length=64)
    subject: str = Field(max_length=255)
    """The token subject of the user who accepted."""
    ip: str = Field(max_length=64)
    accepted_at: datetime = Field(default_factory=utcnow)
