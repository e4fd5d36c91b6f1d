"""One read in a tenant transaction, on the database driver: for the API's most polled reads.

``client_transaction`` takes every step through SQLAlchemy's session. For a single read, the
three round trips around the statement (BEGIN, the tenant settings, COMMIT) then cost the API
process more than twice what they cost on asyncpg itself; the run status is polled often
enough for that to decide how many requests a process answers.

``scoped_row`` runs the same transaction on the asyncpg connection of a pooled SQLAlchemy
connection: BEGIN, then ``ENTER_TENANT`` with the same bound values (role ``tradebot_app`` and
``app.client_id``, both transaction-local, so row-level security applies and nothing outlives
the transaction), the statement, COMMIT. The statement is a Core select compiled once by
SQLAlchemy for the engine's dialect, its values converted by the column types' own
processors, so the row is what ``Session.execute(...).mappings()`` would give. A connection
left inside a transaction (a cancelled request) is discarded, never pooled. Other drivers
(SQLite: no row-level security) go through ``client_transaction``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tradebot.kit.scope import ENTER_TENANT, ClientScope, client_transaction, scope_values

DRIVER = "asyncpg"


Convert = Callable[[Any], Any] | None
"""A column type's conversion of a value for the driver, or of the driver's value."""


class _OnDriver:
    """A statement as the driver takes it: SQL with ``$n`` placeholders, in bound order, and
    the conversions SQLAlchemy would make of its values and of its row."""

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql: str = compiled.string
        self._dialect = dialect
        self._binds = [compiled.binds[name] for name in compiled.positiontup or ()]
        self._bind_converts: list[Convert] = [
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in self._binds
        ]
        self._selected = list(getattr(statement, "selected_columns", ()))
        self._columns: list[tuple[str, Convert]] | None = None

    def args(self, values: Mapping[str, object]) -> list[object]:
        """The statement's values in ``$n`` order: those given (a required one must be), else
        those written in the statement (``LIMIT 1``)."""
        given = [values[b.key] if b.required else values.get(b.key, b.value) for b in self._binds]
        return [
            convert(value) if convert else value
            for convert, value in zip(self._bind_converts, given, strict=True)
        ]

    async def fetchrow(self, driver: Any, values: Mapping[str, object]) -> dict[str, Any] | None:
        if self._columns is None:
            # Some conversions depend on the type the server reports (numeric kinds): asked
            # once per engine, the types of a statement's columns do not change.
            described = (await driver.prepare(self.sql)).get_attributes()
            self._columns = [
                (
                    column.key,
                    column.type.dialect_impl(self._dialect).result_processor(
                        self._dialect, attribute.type.oid
                    ),
                )
                for column, attribute in zip(self._selected, described, strict=True)
            ]
        record = await driver.fetchrow(self.sql, *self.args(values))
        if record is None:
            return None
        return {
            name: convert(value) if convert else value
            for (name, convert), value in zip(self._columns, record, strict=True)
        }


@lru_cache(maxsize=64)
def _on_driver(statement: Any, dialect: Dialect) -> _OnDriver:
    return _OnDriver(statement, dialect)


async def scoped_row(
    sessions: async_sessionmaker[AsyncSession],
    scope: ClientScope,
    statement: Select[Any],
    values: Mapping[str, object],
) -> Mapping[str, Any] | None:
    """The first row of ``statement`` (``None``: no row) read in a transaction of ``scope``."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.driver != DRIVER:
        async with client_transaction(sessions, scope) as session:
            found: Mapping[str, Any] | None = (
                (await session.execute(statement, values)).mappings().first()
            )
            return found
    enter, read = _on_driver(ENTER_TENANT, engine.dialect), _on_driver(statement, engine.dialect)
    async with engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        try:
            async with driver.transaction():
                await driver.execute(enter.sql, *enter.args(scope_values(scope)))
                return await read.fetchrow(driver, values)
        finally:
            if driver.is_in_transaction():
                await connection.invalidate()
