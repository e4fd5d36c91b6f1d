"""What the consent routes take and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

VersionKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}-v[1-9][0-9]{0,5}$")]
"""A document version as the API names it: ``risk-v1``."""


class ConsentDocumentView(BaseModel):
    """The current version of one document, and whether this client accepted it."""

    document: str
    version: int
    key: VersionKey
    title: str
    text: str = Field(description="The document as Markdown, shown to the user before accepting.")
    sha256: str
    accepted_at: datetime | None


class ConsentRecord(BaseModel):
    """One past acceptance: which version, by which user, when and from which address."""

    key: VersionKey
    subject: str
    ip: str
    accepted_at: datetime


class ConsentState(BaseModel):
    documents: list[ConsentDocumentView]
    live_allowed: bool = Field(description="Every current document is accepted.")
    missing: list[VersionKey] = Field(description="Current versions still to accept.")
    history: list[ConsentRecord]


class ConsentAccept(BaseModel):
    """Accept these versions (each must be the current one: a stale version is a 409)."""

    versions: list[VersionKey] = Field(min_length=1, max_length=10)
