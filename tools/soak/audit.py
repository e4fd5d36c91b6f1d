"""The tenancy audit: which statements of a tenant's transaction named another tenant's rows.

The soak's database logs every statement (``log_statement = 'all'``), parameters included. A
tenant transaction opens by setting ``app.client_id`` (``kit.tenancy.client_transaction``);
from there to its COMMIT or ROLLBACK every statement of that server process acts for that
client. A parameter that names another tenant (its client id, its run id, or a client order id
its run minted) is a query of another tenant's rows, whatever row-level security then let
through. Statements outside tenant transactions are the operator path (migrations, the
workers' sweeper and watcher) and are not audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tools.soak.tenants import Tenant
from tradebot.kit.scope import TENANT_SETTING

# Debian's and the private cluster's log_line_prefix: '%m [%p] %q%u@%d '
_LINE = re.compile(r"\[(?P<pid>\d+)\] \S*@(?P<db>\S+) (?P<level>LOG|DETAIL):\s+(?P<text>.*)")
_EXECUTE = re.compile(r"(?:statement|execute [^:]*): (?P<sql>.*)")
_PARAM = re.compile(r"\$\d+ = (?:'((?:[^']|'')*)'|NULL)")
_ENDS = ("BEGIN", "COMMIT", "ROLLBACK", "END", "START TRANSACTION")
_ENTERED = re.compile(rf"set_config\('{re.escape(TENANT_SETTING)}', '((?:[^']|'')*)'")


@dataclass(slots=True)
class AuditResult:
    readable: bool = False
    """Whether the server's log could be read at all."""
    scoped_statements: int = 0
    violations: list[str] = field(default_factory=list)


class TenancyAudit:
    def __init__(self, log: Path | None, database: str, tenants: list[Tenant]) -> None:
        self.log = log
        self.database = database
        self.tenants = tenants
        self.offset = log.stat().st_size if log is not None and log.is_file() else 0
        """Only what the server logs after the audit is set up is read."""

    def run(self) -> AuditResult:
        result = AuditResult()
        if self.log is None or not self.log.is_file():
            return result
        result.readable = True
        with self.log.open("rb") as handle:
            handle.seek(self.offset)
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
        self._scan(lines, result)
        return result

    def _scan(self, lines: Iterable[str], result: AuditResult) -> None:
        scope: dict[str, str | None] = {}
        pending: dict[str, str] = {}
        for line in lines:
            match = _LINE.search(line)
            if match is None or match["db"] != self.database:
                continue
            pid, text = match["pid"], match["text"]
            if match["level"] == "LOG":
                if pid in pending:  # the previous statement had no parameters
                    self._statement(pid, pending.pop(pid), [], scope, result)
                executed = _EXECUTE.match(text)
                if executed is not None:
                    pending[pid] = executed["sql"]
            elif pid in pending and text.startswith("parameters:"):
                values = [(m.group(1) or "").replace("''", "'") for m in _PARAM.finditer(text)]
                self._statement(pid, pending.pop(pid), values, scope, result)
        for pid, sql in pending.items():
            self._statement(pid, sql, [], scope, result)

    def _statement(
        self,
        pid: str,
        sql: str,
        values: list[str],
        scope: dict[str, str | None],
        result: AuditResult,
    ) -> None:
        if sql.lstrip().upper().startswith(_ENDS):
            # A hot write's transaction is begun with its settings, literals in one statement
            # (``kit.writes``): "BEGIN; SELECT set_config(...)".
            entered = _ENTERED.search(sql)
            scope[pid] = None if entered is None else entered.group(1).replace("''", "'")
            return
        if "set_config" in sql and TENANT_SETTING in values:
            at = values.index(TENANT_SETTING)
            scope[pid] = values[at + 1] if at + 1 < len(values) else None
            return
        client = scope.get(pid)
        if client is None:
            return
        result.scoped_statements += 1
        for other in self.tenants:
            if other.client == client:
                continue
            named = [v for v in values if _names(v, other)]
            if named:
                result.violations.append(
                    f"{client}'s transaction named {other.client}: {sql[:120]} {named[:3]}"
                )


def _names(value: str, tenant: Tenant) -> bool:
    return value in (tenant.client, tenant.run_id) or value.startswith(tenant.tag)
