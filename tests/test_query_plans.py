"""The hot pages' queries can be served by indexes (PostgreSQL only).

Each page is rendered while its SQL is captured; every SELECT is then explained with sequential
scans priced out (``enable_seqscan = off``). The planner still picks a sequential scan when no
index can serve a condition, so a "Seq Scan" on one of the big tables means a query that would
read the whole table at state scale (1.1 million contacts, 100,000 incidents).
"""

import re

import pytest
from sqlalchemy import event

from tests.test_query_counts import enrol, principal, report, world  # noqa: F401 (world: a fixture)

# Tables that grow with the state; a scan of one of them is a defect.
BIG_TABLES = {
    "contacts",
    "places",
    "incidents",
    "incident_places",
    "timeline_entries",
    "search_tokens",
    "audit_events",
    "contact_proposals",
    "sign_in_sessions",
}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL (set CPLAN_TEST_DATABASE_URL)")


def captured_selects(client, db, url) -> list[tuple[str, object]]:
    seen = []

    def record(_connection, _cursor, statement, parameters, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, url
    return seen


def scans_of_big_tables(db, selects) -> list[str]:
    problems = []
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in selects:
            plan = "\n".join(
                row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
            problems += [
                f"{table}: {statement[:200]}"
                for table in SEQ_SCAN.findall(plan)
                if table in BIG_TABLES
            ]
        connection.rollback()
    return problems


def test_the_hot_pages_use_indexes(client, db, login_as, world):  # noqa: F811
    contacts = enrol(db, world, world["many"], 5)
    enrol(db, world, world["few"], 2, name="Pending", approve=False)
    incident = report(db, world, [world["many"], world["places"][0]], 1)
    from cplan.services import incidents

    sho = principal(world["sho"])
    incidents.change_status(sho, incident.id, 1, "verifying")
    incidents.log_call(sho, incident.id, contacts[0].id, "denied", "All calm")
    db.session.commit()

    pages = {
        "sho": [
            f"/roster/places/{world['many'].id}",
            "/search?q=citizen",
            "/incidents/",
            f"/incidents/{incident.id}",
            f"/incidents/{incident.id}/calls",
        ],
        # Look-ups by number: the whole number, and the first eight digits (a range on the index).
        "asp": [
            "/enrolments/",
            f"/roster/places/{world['many'].id}",
            f"/search?q={contacts[0].mobile}",
            f"/search?q={contacts[0].mobile[3:11]}",
        ],
        "sp_office": [f"/coverage/units/{world['district'].id}", "/incidents/?kind=rumour"],
        "supervisor": [
            "/incidents/",
            "/incidents/?status=verifying&window=24h",
            "/incidents/review",
        ],
    }
    # The home pages of issue 17, the village map and the feed's look-ups.
    incidents.escalate(sho, incident.id, world["district"], "Crowd gathering")
    db.session.commit()
    pages["sho"] += ["/", "/map"]
    pages["asp"] += ["/"]
    pages["sp_office"] += ["/", "/map", f"/incidents/?q={incident.reference}&open=1"]
    pages["supervisor"] += ["/", "/map", f"/map/{world['district'].id}", "/incidents/?q=EV1234"]
    problems = []
    for who, urls in pages.items():
        login_as(world[who])
        for url in urls:
            problems += [
                f"{who} {url} -> {problem}"
                for problem in scans_of_big_tables(db, captured_selects(client, db, url))
            ]
    assert not problems, "\n".join(problems)
