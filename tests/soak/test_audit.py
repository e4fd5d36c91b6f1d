"""The tenancy audit over a PostgreSQL statement log (lines as the server writes them with
``log_statement = 'all'`` and Debian's ``log_line_prefix``)."""

from __future__ import annotations

from pathlib import Path

from tools.soak.audit import TenancyAudit
from tools.soak.tenants import make_tenants

DB = "tradebot_soak_t1"
ALICE, BOB = make_tenants(2, "t1")
PREFIX = "2026-01-01 10:00:00.000 UTC [{pid}] postgres@{db} "


def _log(tmp_path: Path, *lines: tuple[int, str], db: str = DB) -> Path:
    path = tmp_path / "postgresql.log"
    path.write_text("".join(PREFIX.format(pid=pid, db=db) + text + "\n" for pid, text in lines))
    return path


def _tenant_transaction(
    pid: int, client: str, *statements: tuple[str, str]
) -> list[tuple[int, str]]:
    lines = [
        (pid, "LOG:  statement: BEGIN ISOLATION LEVEL READ COMMITTED;"),
        (pid, "LOG:  execute __asyncpg_stmt_1__: SELECT set_config('role', $1::VARCHAR, true), "
              "set_config($2::VARCHAR, $3::VARCHAR, true)"),
        (pid, f"DETAIL:  parameters: $1 = 'tradebot_app', $2 = 'app.client_id', $3 = '{client}'"),
    ]  # fmt: skip
    for sql, params in statements:
        lines += [(pid, f"LOG:  execute __asyncpg_stmt_2__: {sql}"), (pid, f"DETAIL:  {params}")]
    return [*lines, (pid, "LOG:  statement: COMMIT;")]


def _audit(path: Path) -> TenancyAudit:
    audit = TenancyAudit(path, DB, [ALICE, BOB])
    audit.offset = 0  # the whole file: the lines were written before the audit began
    return audit


def test_a_tenant_transaction_reading_its_own_rows_passes(tmp_path):
    own = ("SELECT * FROM bot_orders WHERE client_id = $1 AND run_id = $2",
           f"parameters: $1 = '{ALICE.client}', $2 = '{ALICE.run_id}'")  # fmt: skip
    result = _audit(_log(tmp_path, *_tenant_transaction(7, ALICE.client, own))).run()
    assert result.readable
    assert result.scoped_statements == 1
    assert result.violations == []


def test_a_tenant_transaction_naming_another_tenants_run_or_order_is_a_violation(tmp_path):
    run = ("SELECT * FROM bot_fills WHERE run_id = $1", f"parameters: $1 = '{BOB.run_id}'")
    order = ("SELECT * FROM bot_orders WHERE client_order_id = $1",
             f"parameters: $1 = '{BOB.tag}b3-0'")  # fmt: skip
    result = _audit(_log(tmp_path, *_tenant_transaction(7, ALICE.client, run, order))).run()
    assert result.scoped_statements == 2
    assert len(result.violations) == 2
    assert all(ALICE.client in v and BOB.client in v for v in result.violations)


def test_a_transaction_begun_with_its_tenant_in_one_statement_is_audited(tmp_path):
    """A hot write's (``kit.writes``): BEGIN and the settings as literals, one simple query."""
    begin = (
        "LOG:  statement: BEGIN; SELECT set_config('role', 'tradebot_app', true), "
        f"set_config('app.client_id', '{ALICE.client}', true)"
    )
    lines = [
        (7, begin),
        (7, "LOG:  execute __asyncpg_stmt_3__: UPDATE bot_orders SET status=$1 WHERE run_id = $2"),
        (7, f"DETAIL:  parameters: $1 = 'open', $2 = '{BOB.run_id}'"),
        (7, "LOG:  statement: COMMIT"),
        (7, "LOG:  execute __asyncpg_stmt_4__: SELECT id FROM bot_runs WHERE id = $1"),
        (7, f"DETAIL:  parameters: $1 = '{BOB.run_id}'"),
    ]
    result = _audit(_log(tmp_path, *lines)).run()
    assert result.scoped_statements == 1
    assert len(result.violations) == 1
    assert ALICE.client in result.violations[0]
    assert BOB.client in result.violations[0]


def test_operator_statements_and_other_databases_are_not_audited(tmp_path):
    sweep = [
        (9, "LOG:  statement: BEGIN ISOLATION LEVEL READ COMMITTED;"),
        (9, "LOG:  execute s1: SELECT id FROM bot_runs WHERE id = $1"),
        (9, f"DETAIL:  parameters: $1 = '{BOB.run_id}'"),
        (9, "LOG:  statement: COMMIT;"),
    ]
    other = _tenant_transaction(
        8, ALICE.client, ("SELECT 1 WHERE $1 = $1", f"parameters: $1 = '{BOB.client}'")
    )
    path = _log(tmp_path, *sweep)
    with path.open("a") as log:
        log.writelines(PREFIX.format(pid=pid, db="someone_else") + t + "\n" for pid, t in other)
    result = _audit(path).run()
    assert (result.scoped_statements, result.violations) == (0, [])


def test_the_scope_ends_with_the_transaction(tmp_path):
    after = [
        (7, "LOG:  execute s3: SELECT * FROM bot_runs WHERE id = $1"),
        (7, f"DETAIL:  parameters: $1 = '{BOB.run_id}'"),
    ]
    lines = [*_tenant_transaction(7, ALICE.client), *after]
    result = _audit(_log(tmp_path, *lines)).run()
    assert result.violations == []


def test_an_unreadable_log_is_reported_as_such(tmp_path):
    result = TenancyAudit(tmp_path / "missing.log", DB, [ALICE, BOB]).run()
    assert not result.readable
