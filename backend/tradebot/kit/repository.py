"""The repository base: every statement a repository issues carries its tenant's filter.

Subclasses name their ``model`` (and the column holding the client id, ``client_id`` unless
the table is the tenant itself) and build queries from ``_select`` / ``_update`` / ``_delete``,
never from ``select(Model)``: the scope is then impossible to forget. A row of another client
is indistinguishable from a missing row (``NotFoundError``), so an id never reveals that it
exists elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, Delete, Select, Update, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from tradebot.errors import NotFoundError
from tradebot.kit.scope import ClientScope

RowT = TypeVar("RowT", bound=SQLModel)


class ScopedRepository(Generic[RowT]):
    """SQL for one model, limited to one client (``scope``) in every statement."""

    model: ClassVar[type[SQLModel]]
    scope_column: ClassVar[str] = "client_id"
    noun: ClassVar[str] = "row"
    """How errors name a row (``credentials 'x' not found``)."""

    def __init__(self, session: AsyncSession, scope: ClientScope) -> None:
        self.session = session
        self.scope = scope

    def _in_scope(self) -> ColumnElement[bool]:
        column: ColumnElement[Any] = getattr(self.model, self.scope_column)
        return column == self.scope.client_id

    def _select(self) -> Select[RowT]:
        return select(self.model).where(self._in_scope())  # type: ignore[return-value]

    def _update(self) -> Update:
        return update(self.model).where(self._in_scope())

    def _delete(self) -> Delete:
        return delete(self.model).where(self._in_scope())

    def _by_id(self, row_id: object) -> ColumnElement[bool]:
        (key,) = inspect(self.model).primary_key
        return cast("ColumnElement[bool]", key == row_id)

    async def find(self, row_id: object) -> RowT | None:
        """The row with this primary key if it is the scope's, else ``None``."""
        result = await self.session.execute(self._select().where(self._by_id(row_id)))
        return result.scalar_one_or_none()

    async def get(self, row_id: object) -> RowT:
        """The row with this primary key; missing and foreign rows are both ``NotFoundError``."""
        row = await self.find(row_id)
        if row is None:
            raise NotFoundError(f"{self.noun} {row_id!r} not found")
        return row

    async def list(
        self, *where: ColumnElement[bool], order_by: Sequence[Any] = ()
    ) -> Sequence[RowT]:
        query = self._select().where(*where).order_by(*order_by)
        return (await self.session.execute(query)).scalars().all()

    async def add(self, row: RowT) -> RowT:
        """Insert ``row`` for the scope's client; a row claiming another client is refused."""
        self.scope.require(getattr(row, self.scope_column))
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row_id: object) -> None:
        """Delete the scope's row; a foreign or missing id is ``NotFoundError``."""
        result = await self.session.execute(self._delete().where(self._by_id(row_id)))
        if getattr(result, "rowcount", 0) != 1:
            raise NotFoundError(f"{self.noun} {row_id!r} not found")
