"""Append-only tables: database triggers that refuse UPDATE and DELETE (SQLite and PostgreSQL).

Used by the audit trail and incident timelines; the refusal holds whatever code touches the
table. Installed after ``create_all`` and by the migrations; dropped only by a downgrade and
the test teardown.

Two options serve the audit trail: ``sealable=(seal_columns, fixed_columns)`` lets an UPDATE
through only when it fills in ``seal_columns`` on a row where they are all empty and leaves
every one of ``fixed_columns`` as it was (the sealer chaining an event once, never again);
``no_truncate`` refuses TRUNCATE as well (PostgreSQL; SQLite has none).
"""


def _ddl(
    table: str,
    dialect: str,
    sealable: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    no_truncate: bool = False,
) -> tuple[list[str], list[str]]:
    """(install, drop) statements for ``table`` on ``dialect``."""
    refusal = f"{table} is append-only"
    if dialect == "sqlite":
        seal_allowed = ""
        if sealable:
            seal, fixed = sealable
            allowed = [f"OLD.{name} IS NULL AND NEW.{name} IS NOT NULL" for name in seal]
            allowed += [f"NEW.{name} IS OLD.{name}" for name in fixed]
            seal_allowed = " WHEN NOT (" + " AND ".join(allowed) + ")"
        install = []
        for op in ("UPDATE", "DELETE"):
            trigger = f"{table}_no_{op.lower()}"
            when = seal_allowed if op == "UPDATE" else ""
            install += [
                f"DROP TRIGGER IF EXISTS {trigger}",
                f"CREATE TRIGGER {trigger} BEFORE {op} ON {table}{when} "
                f"BEGIN SELECT RAISE(ABORT, '{refusal}: {op} refused'); END",
            ]
        return (
            install,
            [
                f"DROP TRIGGER IF EXISTS {table}_no_update",
                f"DROP TRIGGER IF EXISTS {table}_no_delete",
            ],
        )
    if dialect == "postgresql":
        function = f"{table}_refuse_change"
        seal_function = f"{table}_check_seal"
        # No "%" placeholder in the message: drivers would take it for a parameter.
        raise_refusal = (
            f"RAISE EXCEPTION USING MESSAGE = '{refusal}: ' || TG_OP || ' refused', "
            "ERRCODE = 'insufficient_privilege';"
        )
        install = [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{raise_refusal} END $$",
        ]
        update_function = function
        if sealable:
            seal, fixed = sealable
            allowed = [f"OLD.{name} IS NULL AND NEW.{name} IS NOT NULL" for name in seal]
            allowed += [f"NEW.{name} IS NOT DISTINCT FROM OLD.{name}" for name in fixed]
            install.append(
                f"CREATE OR REPLACE FUNCTION {seal_function}() RETURNS trigger LANGUAGE plpgsql "
                f"AS $$ BEGIN IF {' AND '.join(allowed)} THEN RETURN NEW; END IF; "
                f"{raise_refusal} END $$"
            )
            update_function = seal_function
        for op, trigger_function in (("UPDATE", update_function), ("DELETE", function)):
            trigger = f"{table}_no_{op.lower()}"
            install += [
                f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                f"CREATE TRIGGER {trigger} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION "
                f"{trigger_function}()",
            ]
        if no_truncate:
            install += [
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
        drop = [
            f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_delete ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            f"DROP FUNCTION IF EXISTS {function}()",
            f"DROP FUNCTION IF EXISTS {seal_function}()",
        ]
        return install, drop
    raise RuntimeError(f"no append-only trigger DDL for the {dialect} database")


def install(
    connection,
    table: str,
    *,
    sealable: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    no_truncate: bool = False,
) -> None:
    """Make ``table`` refuse UPDATE and DELETE (idempotent; see the module docstring for the
    options)."""
    for statement in _ddl(table, connection.dialect.name, sealable, no_truncate)[0]:
        connection.exec_driver_sql(statement)


def drop(connection, table: str) -> None:
    """Remove the triggers (migration downgrade and test teardown only)."""
    for statement in _ddl(table, connection.dialect.name)[1]:
        connection.exec_driver_sql(statement)
