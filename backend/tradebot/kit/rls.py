"""PostgreSQL row-level security for tenant tables: the SQL the migrations run.

Each tenant table gets ENABLE + FORCE ROW LEVEL SECURITY and two permissive policies:

- ``tenant_isolation`` (every role): a row is visible and writable only when its client column
  equals the transaction's ``app.client_id`` setting. Unset, nothing matches.
- ``operator_access`` (only the role that ran the migrations, the owner): every row, but only
  while no tenant is set. FORCE makes even the owner subject to policies, so an owner session
  inside a tenant transaction is scoped too.

The application role gets table privileges only where a migration grants them: a new table is
unreachable for it until its migration calls ``grant_tenant_table`` / ``enable_tenant_rls``
(fail closed). Migrations call these functions, so change them only by adding new ones.
Table and column names come from the migrations (constants), never from input.
"""

from __future__ import annotations

from tradebot.kit.scope import APP_ROLE, TENANT_SETTING

_TENANT = f"current_setting('{TENANT_SETTING}', true)"
_NO_TENANT = f"NULLIF({_TENANT}, '') IS NULL"
# After a transaction-local set_config ends the setting reads '' (not NULL) on that connection.


def create_app_role() -> list[str]:
    """Create ``tradebot_app`` if missing (roles are cluster-wide; tolerant of a concurrent
    creator), let the migrating role act as it, and let it use the schema."""
    return [
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """,  # noqa: S608
        f"""
        DO $$
        BEGIN
            IF NOT pg_has_role(current_user, '{APP_ROLE}', 'MEMBER') THEN
                EXECUTE 'GRANT {APP_ROLE} TO ' || quote_ident(current_user);
            END IF;
        END
        $$
        """,
        f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    ]


def grant_tenant_table(table: str, privileges: str) -> list[str]:
    """Let the application role use ``table`` (and the sequences of its serial columns)."""
    return [
        f"GRANT {privileges} ON {table} TO {APP_ROLE}",
        _for_sequences_of(table, f"'GRANT USAGE, SELECT ON SEQUENCE ' || seq || ' TO {APP_ROLE}'"),
    ]


def revoke_tenant_table(table: str) -> list[str]:
    """Undo ``grant_tenant_table``."""
    return [
        f"REVOKE ALL ON {table} FROM {APP_ROLE}",
        _for_sequences_of(table, f"'REVOKE ALL ON SEQUENCE ' || seq || ' FROM {APP_ROLE}'"),
    ]


def _for_sequences_of(table: str, statement: str) -> str:
    """Run ``statement`` (an SQL expression over ``seq``) for each serial sequence of ``table``."""
    return f"""
        DO $$
        DECLARE seq regclass;
        BEGIN
            FOR seq IN
                SELECT s.oid::regclass FROM pg_class s
                JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
                WHERE s.relkind = 'S' AND d.refobjid = '{table}'::regclass
            LOOP
                EXECUTE {statement};
            END LOOP;
        END
        $$
        """  # noqa: S608


def revoke_app_schema() -> list[str]:
    return [f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}"]


def enable_tenant_rls(table: str, column: str = "client_id") -> list[str]:
    """FORCE row-level security on ``table`` with the two policies described above."""
    mine = f"{column} = {_TENANT}"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({mine}) WITH CHECK ({mine})",
        f"CREATE POLICY operator_access ON {table} TO CURRENT_USER "
        f"USING ({_NO_TENANT}) WITH CHECK ({_NO_TENANT})",
    ]


def disable_tenant_rls(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS operator_access ON {table}",
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]
