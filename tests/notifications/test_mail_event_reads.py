"""The mail cron's reads, every minute for ever, find their rows by an index: the tables they
read only grow (every run a customer ever started stays in ``bot_runs``)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event

from tradebot.db import transaction
from tradebot.kit.clock import utcnow
from tradebot.notifications.mail_events import mail_events

TABLES = {"bot_runs", "bot_guard_state", "stripe_events", "notification_sends", "clients"}


async def test_every_read_of_the_minutes_mail_events_uses_an_index_on_its_filter(sessions):
    statements: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with transaction(sessions) as session:
            await mail_events(session, utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    read = [(s, p) for s, p in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(read) == 5
    plans: dict[str, str] = {}
    async with transaction(sessions) as session:
        connection = await session.connection()
        # Tables this small are read whole by choice; forbidding that shows what else there is.
        await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for statement, parameters in read:
            result = await connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            plan = "\n".join(row[0] for row in result)
            table = next(t for t in TABLES if re.search(rf"\bFROM {t}\b", statement))
            plans[table] = plan
    assert set(plans) == TABLES
    for table, plan in plans.items():
        assert "Seq Scan" not in plan, f"{table}:\n{plan}"
        assert "Index Cond" in plan, f"{table} is read by an index, not by its filter:\n{plan}"
