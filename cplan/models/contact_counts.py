"""Each place's count of active contacts, kept by the database.

``places.active_contacts`` counts the place's active contacts and ``places.active_confidential``
those of them marked confidential, so a coverage page reads one row per place instead of
counting the contacts (a district has about 40,000, the state 1.1 million). Triggers on
``contacts`` keep both counts whatever changes a contact: an enrolment approved, a removal,
a move to another village, an import, a place merged into another, or a plain UPDATE from a
shell. Nothing in the application writes the counts; ``recount`` rebuilds them from the
contacts (the migration that adds them, and after a bulk load that ran without triggers).
"""

from sqlalchemy import text

# Statuses are stored as their lowercase value (``enum_column``).
ACTIVE = "active"
_WATCHED = "status, place_id, confidential"


def _sqlite_ddl() -> tuple[list[str], list[str]]:
    def change(sign: str, row: str) -> str:
        return (
            f"UPDATE places SET active_contacts = active_contacts {sign} 1, "
            f"active_confidential = active_confidential {sign} {row}.confidential "
            f"WHERE id = {row}.place_id"
        )

    install = [
        f"CREATE TRIGGER IF NOT EXISTS contacts_count_insert AFTER INSERT ON contacts "
        f"WHEN NEW.status = '{ACTIVE}' BEGIN {change('+', 'NEW')}; END",
        f"CREATE TRIGGER IF NOT EXISTS contacts_count_delete AFTER DELETE ON contacts "
        f"WHEN OLD.status = '{ACTIVE}' BEGIN {change('-', 'OLD')}; END",
        # One trigger per side of an update: SQLite has no IF inside a trigger body.
        f"CREATE TRIGGER IF NOT EXISTS contacts_count_update_old AFTER UPDATE OF {_WATCHED} ON "
        f"contacts WHEN OLD.status = '{ACTIVE}' BEGIN {change('-', 'OLD')}; END",
        f"CREATE TRIGGER IF NOT EXISTS contacts_count_update_new AFTER UPDATE OF {_WATCHED} ON "
        f"contacts WHEN NEW.status = '{ACTIVE}' BEGIN {change('+', 'NEW')}; END",
    ]
    drop = [
        f"DROP TRIGGER IF EXISTS contacts_count_{name}"
        for name in ("insert", "delete", "update_old", "update_new")
    ]
    return install, drop


def _postgresql_ddl() -> tuple[list[str], list[str]]:
    def change(sign: str, row: str) -> str:
        return (
            f"UPDATE places SET active_contacts = active_contacts {sign} 1, "
            f"active_confidential = active_confidential {sign} {row}.confidential::integer "
            f"WHERE id = {row}.place_id;"
        )

    function = (
        "CREATE OR REPLACE FUNCTION contacts_count_active() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN IF TG_OP <> 'INSERT' THEN IF OLD.status = '{ACTIVE}' THEN {change('-', 'OLD')} END "
        f"IF; END IF; IF TG_OP <> 'DELETE' THEN IF NEW.status = '{ACTIVE}' THEN "
        f"{change('+', 'NEW')} END IF; END IF; RETURN NULL; END $$"
    )
    changed = " OR ".join(
        f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in _WATCHED.split(", ")
    )
    install = [
        function,
        "DROP TRIGGER IF EXISTS contacts_count_insert_delete ON contacts",
        "CREATE TRIGGER contacts_count_insert_delete AFTER INSERT OR DELETE ON contacts "
        "FOR EACH ROW EXECUTE FUNCTION contacts_count_active()",
        "DROP TRIGGER IF EXISTS contacts_count_update ON contacts",
        f"CREATE TRIGGER contacts_count_update AFTER UPDATE OF {_WATCHED} ON contacts "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION contacts_count_active()",
    ]
    drop = [
        "DROP TRIGGER IF EXISTS contacts_count_insert_delete ON contacts",
        "DROP TRIGGER IF EXISTS contacts_count_update ON contacts",
        "DROP FUNCTION IF EXISTS contacts_count_active()",
    ]
    return install, drop


def _ddl(dialect: str) -> tuple[list[str], list[str]]:
    if dialect == "sqlite":
        return _sqlite_ddl()
    if dialect == "postgresql":
        return _postgresql_ddl()
    raise RuntimeError(f"no contact-count trigger DDL for the {dialect} database")


def install_triggers(connection) -> None:
    """Keep the places' counts from now on (idempotent)."""
    for statement in _ddl(connection.dialect.name)[0]:
        connection.exec_driver_sql(statement)


def drop_triggers(connection) -> None:
    """Stop keeping the counts (a downgrade, or a bulk load followed by ``recount``)."""
    for statement in _ddl(connection.dialect.name)[1]:
        connection.exec_driver_sql(statement)


def recount(connection) -> None:
    """Set every place's counts from its contacts (one grouped pass over the active contacts;
    ``UPDATE ... FROM`` needs SQLite 3.33 or later)."""
    connection.execute(
        text(
            "UPDATE places SET active_contacts = 0, active_confidential = 0 "
            "WHERE active_contacts <> 0 OR active_confidential <> 0"
        )
    )
    connection.execute(
        text(
            "UPDATE places SET active_contacts = counted.active, active_confidential = "
            "counted.confidential "
            "FROM (SELECT place_id, count(*) AS active, "
            "sum(CASE WHEN confidential THEN 1 ELSE 0 END) AS confidential "
            "FROM contacts WHERE status = :active GROUP BY place_id) AS counted "
            "WHERE places.id = counted.place_id"
        ),
        {"active": ACTIVE},
    )
