"""Database triggers that change `malls_mallgroup.config_token` whenever a row of a group's configuration table
is inserted, updated or deleted. Processes cache configuration per (group, token), so a change made by any code
path — console, admin, a SQL console — is seen by every process on its next request, with no TTL and no
signal. Used from migrations (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION galleria_config_changed() RETURNS trigger AS $$
DECLARE
  col text := TG_ARGV[0];
  old_id bigint;
  new_id bigint;
BEGIN
  IF TG_OP <> 'INSERT' THEN EXECUTE format('SELECT ($1).%I', col) INTO old_id USING OLD; END IF;
  IF TG_OP <> 'DELETE' THEN EXECUTE format('SELECT ($1).%I', col) INTO new_id USING NEW; END IF;
  UPDATE malls_mallgroup SET config_token = md5(random()::text || clock_timestamp()::text)
   WHERE id IN (old_id, new_id);
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


def _sqlite(table: str, column: str) -> list[str]:
    # table and column names are constants of our migrations, never input
    token = "lower(hex(randomblob(16)))"
    return [
        f"CREATE TRIGGER {table}_cfg_ins AFTER INSERT ON {table} BEGIN "
        f"UPDATE malls_mallgroup SET config_token = {token} WHERE id = NEW.{column}; END",
        f"CREATE TRIGGER {table}_cfg_upd AFTER UPDATE ON {table} BEGIN "
        f"UPDATE malls_mallgroup SET config_token = {token} WHERE id IN (OLD.{column}, NEW.{column}); END",
        f"CREATE TRIGGER {table}_cfg_del AFTER DELETE ON {table} BEGIN "
        f"UPDATE malls_mallgroup SET config_token = {token} WHERE id = OLD.{column}; END",
    ]


def install(schema_editor: Any, tables: dict[str, str]) -> None:
    """tables: {table name: column holding the mall group id}."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION, params=None)
        for table, column in tables.items():
            schema_editor.execute(
                f"CREATE TRIGGER {table}_cfg AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION galleria_config_changed('{column}')",
                params=None,
            )
    elif vendor == "sqlite":
        for table, column in tables.items():
            for statement in _sqlite(table, column):
                schema_editor.execute(statement, params=None)


def uninstall(schema_editor: Any, tables: dict[str, str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_cfg ON {table}", params=None)
        elif vendor == "sqlite":
            for suffix in ("ins", "upd", "del"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_cfg_{suffix}", params=None)
