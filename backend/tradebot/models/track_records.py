"""Tables of public track records: the bots a client chose to show publicly, anonymised."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from tradebot.kit.clock import utcnow


class PublicTrackRecord(SQLModel, table=True):
    """A bot its client opted in to show publicly under a random ``slug``.

    Not a tenant table (as ``users``): a visitor's request names only the slug, resolved to
    its client on the operator connection before the client's runs are read in its scope.
    ``bot_id`` has no foreign key: deleting the bot is not blocked, its page is then gone.
    """

    __tablename__ = "public_track_records"

    slug: str = Field(primary_key=True, max_length=32)
    client_id: str = Field(foreign_key="clients.id", index=True, max_length=64)
    bot_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
