"""Append-only tables: database triggers that refuse UPDATE and DELETE (SQLite and PostgreSQL).

Used by the audit trail and incident timelines; the refusal holds whatever code touches the
table. Installed after ``create_all`` and by the migrations; dropped only by a downgrade and
the test teardown.
"""


def _ddl(table: str, dialect: str) -> tuple[list[str], list[str]]:
    """(install, drop) statements for ``table`` on ``dialect``."""
    refusal = f"{table} is append-only"
    if dialect == "sqlite":
        return (
            [
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{refusal}: {op} refused'); END"
                for op in ("UPDATE", "DELETE")
            ],
            [
                f"DROP TRIGGER IF EXISTS {table}_no_update",
                f"DROP TRIGGER IF EXISTS {table}_no_delete",
            ],
        )
    if dialect == "postgresql":
        function = f"{table}_refuse_change"
        install = [
            # No "%" placeholder in the message: drivers would take it for a parameter.
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION USING MESSAGE = '{refusal}: ' || TG_OP || ' refused', "
            "ERRCODE = 'insufficient_privilege'; END $$",
        ]
        for op in ("UPDATE", "DELETE"):
            trigger = f"{table}_no_{op.lower()}"
            install += [
                f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                f"CREATE TRIGGER {trigger} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION "
                f"{function}()",
            ]
        drop = [
            f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
        ]
        return install, drop
    raise RuntimeError(f"no append-only trigger DDL for the {dialect} database")


def install(connection, table: str) -> None:
    """Make ``table`` refuse UPDATE and DELETE (idempotent)."""
    for statement in _ddl(table, connection.dialect.name)[0]:
        connection.exec_driver_sql(statement)


def drop(connection, table: str) -> None:
    """Remove the triggers (migration downgrade and test teardown only)."""
    for statement in _ddl(table, connection.dialect.name)[1]:
        connection.exec_driver_sql(statement)
