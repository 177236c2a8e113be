"""Deny by default, the permission table, and jurisdiction as truth tables."""

import re

import pytest

from cplan.models import Role
from cplan.services.permissions import ROLE_PERMISSIONS, Permission, has_permission

PUBLIC_ENDPOINTS = {
    "static",
    "auth.sign_in",
    "auth.enter_code",
    "auth.resend_code",
    "auth.identify",
    "auth.set_up",
    "main.set_language",
    # Gateways post delivery reports: authenticated by their HMAC signature, not a session.
    "broadcasts.delivery_report",
    # ... and forward citizens' replies (STOP), signed the same way.
    "broadcasts.replies",
    "health.livez",
    "health.readyz",
    "health.metrics_page",
    # The API's description and the device registration steps (a sign-in, like auth.*).
    "api_docs.openapi",
    "api_docs.page",
    "api_devices.start",
    "api_devices.verify",
    "api_devices.register",
}


def test_every_endpoint_is_public_by_name_or_declares_a_permission(app):
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint in PUBLIC_ENDPOINTS:
            assert rule.endpoint == "static" or getattr(view, "is_public", False), rule.endpoint
            continue
        if getattr(view, "is_public", False):
            undeclared.append(f"{rule.endpoint} is public but not in the reviewed list")
        elif not isinstance(getattr(view, "required_permission", None), Permission):
            undeclared.append(f"{rule.endpoint} declares no permission")
    assert undeclared == []


def test_every_protected_endpoint_sends_anonymous_visitors_to_sign_in(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = url.replace(f"<{argument}>", "1").replace(f"<int:{argument}>", "1")
        url = __import__("re").sub(r"<[^>]+>", "1", url)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        if url.startswith("/api/"):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 302, url
            assert "/auth/sign-in" in response.location, url


def test_state_changing_endpoints_accept_only_post(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "required_permission", None) is None:
            continue
        methods = rule.methods - {"HEAD", "OPTIONS"}
        assert methods <= {"GET", "POST"}, rule


@pytest.mark.parametrize("role", list(Role))
def test_every_role_is_in_the_permission_table(role):
    assert Permission.SIGNED_IN in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.CONSTABLE, Permission.ENROL_CONTACT, True),
        (Role.CONSTABLE, Permission.APPROVE_ENROLMENT, False),
        (Role.STATION_OFFICER, Permission.APPROVE_ENROLMENT, False),
        (Role.CIRCLE_OFFICER, Permission.APPROVE_ENROLMENT, False),
        (Role.ASP, Permission.APPROVE_ENROLMENT, True),
        (Role.SP_OFFICE, Permission.APPROVE_ENROLMENT, True),
        (Role.CONTROL_ROOM, Permission.APPROVE_ENROLMENT, False),
        (Role.CONTROL_ROOM, Permission.REVIEW_INCIDENTS, True),
        (Role.CONTROL_ROOM, Permission.VIEW_ROSTER, True),
        (Role.SP_OFFICE, Permission.MANAGE_ACCOUNTS, True),
        (Role.ASP, Permission.MANAGE_ACCOUNTS, False),
        (Role.STATE_ADMIN, Permission.MANAGE_ACCOUNTS, True),
        (Role.STATE_ADMIN, Permission.MANAGE_GEOGRAPHY, True),
        (Role.SP_OFFICE, Permission.MANAGE_GEOGRAPHY, False),
        (Role.SP_OFFICE, Permission.MANAGE_BREACHES, True),
        (Role.STATE_ADMIN, Permission.MANAGE_BREACHES, True),
        (Role.ASP, Permission.MANAGE_BREACHES, False),
        (Role.CONTROL_ROOM, Permission.MANAGE_BREACHES, False),
    ],
)
def test_permission_table(role, permission, allowed):
    assert has_permission(role, permission) is allowed


# ---- jurisdiction: role x scope x target ----------------------------------------------------


@pytest.fixture
def two_districts(make_district, make_station, make_place, make_unit, state):
    baghpat = make_district("Baghpat", code="124")
    meerut = make_district("Meerut", code="135")
    circle = make_unit("circle", "Baraut circle", baghpat)
    baraut = make_station(baghpat, "Baraut", circle=circle)
    binauli = make_station(baghpat, "Binauli", circle=circle)
    kithaur = make_station(meerut, "Kithaur")
    return {
        "state": state,
        "baghpat": baghpat,
        "meerut": meerut,
        "circle": circle,
        "baraut": baraut,
        "binauli": binauli,
        "kithaur": kithaur,
        "place_baraut": make_place("BIJROL", station=baraut, lgd_code="119300"),
        "place_binauli": make_place("BAMNAULI", station=binauli, lgd_code="119301"),
        "place_kithaur": make_place("KITHAUR", station=kithaur, lgd_code="120001"),
    }


# (role, the unit the post sits at, the place asked for, can see it?)
PLACE_SCOPE_TABLE = [
    ("constable", "baraut", "place_baraut", True),
    ("constable", "baraut", "place_binauli", False),
    ("constable", "baraut", "place_kithaur", False),
    ("station_officer", "binauli", "place_binauli", True),
    ("station_officer", "binauli", "place_baraut", False),
    ("circle_officer", "circle", "place_baraut", True),
    ("circle_officer", "circle", "place_binauli", True),
    ("circle_officer", "circle", "place_kithaur", False),
    ("asp", "baghpat", "place_binauli", True),
    ("asp", "baghpat", "place_kithaur", False),
    ("sp_office", "meerut", "place_kithaur", True),
    ("sp_office", "meerut", "place_baraut", False),
    ("control_room", "state", "place_baraut", True),
    ("control_room", "state", "place_kithaur", True),
]


@pytest.mark.parametrize(("role", "unit", "target", "visible"), PLACE_SCOPE_TABLE)
def test_place_pages_are_visible_only_within_the_posts_subtree(
    client, db, two_districts, make_officer, login_as, role, unit, target, visible
):
    officer = make_officer(role, two_districts[unit])
    login_as(officer)
    response = client.get(f"/geo/places/{two_districts[target].id}")
    assert response.status_code == (200 if visible else 404)


def test_an_out_of_scope_place_looks_exactly_like_a_missing_one(
    client, db, two_districts, make_officer, login_as
):
    login_as(make_officer("constable", two_districts["baraut"]))
    hidden_id = two_districts["place_kithaur"].id
    hidden = client.get(f"/geo/places/{hidden_id}")
    missing = client.get("/geo/places/999999")
    assert hidden.status_code == missing.status_code == 404

    # Identical apart from the page's own address (echoed in the language switch) and the CSRF
    # token, which carries a timestamp and so changes from one second to the next.
    def normalised(body, address):
        body = body.replace(address.encode(), b"/geo/places/ID")
        return re.sub(rb'name="csrf_token" value="[^"]*"', b"", body)

    assert normalised(hidden.data, f"/geo/places/{hidden_id}") == normalised(
        missing.data, "/geo/places/999999"
    )


@pytest.mark.parametrize(
    ("role", "unit", "target", "visible"),
    [
        ("constable", "baraut", "baraut", True),
        ("constable", "baraut", "binauli", False),
        ("asp", "baghpat", "binauli", True),
        ("asp", "baghpat", "kithaur", False),
        ("sp_office", "baghpat", "meerut", False),
        ("control_room", "state", "meerut", True),
    ],
)
def test_unit_pages_follow_the_same_scope(
    client, db, two_districts, make_officer, login_as, role, unit, target, visible
):
    login_as(make_officer(role, two_districts[unit]))
    response = client.get(f"/geo/units/{two_districts[target].id}")
    assert response.status_code == (200 if visible else 404)


def test_search_never_returns_places_outside_the_scope(
    client, db, two_districts, make_officer, login_as
):
    login_as(make_officer("constable", two_districts["baraut"]))
    hidden = two_districts["place_binauli"]
    response = client.get("/geo/search", query_string={"q": "BAMNAULI"})
    assert response.status_code == 200
    assert f"/geo/places/{hidden.id}".encode() not in response.data
    own = two_districts["place_baraut"]
    response = client.get("/geo/search", query_string={"q": "BIJROL"})
    assert f"/geo/places/{own.id}".encode() in response.data


def _nav_links(page: str) -> list[tuple[str, str, bool]]:
    nav = page.split('<nav class="nav"', 1)[1].split("</nav>", 1)[0]
    return [
        (href, re.sub(r"<[^>]+>|\s+\d+$", "", label).strip(), bool(current))
        for href, current, label in re.findall(
            r'<li><a href="([^"]+)"( aria-current="page")?>(.*?)</a>', nav, re.S
        )
    ]


def test_navigation_shows_each_post_the_sections_its_role_opens_and_marks_the_current_one(
    client, make_district, make_station, make_officer, login_as
):
    district = make_district("Baghpat")
    station = make_station(district, "Baraut")
    constable = make_officer(Role.CONSTABLE, station)
    login_as(constable)
    links = _nav_links(client.get("/").get_data(as_text=True))
    assert [label for _href, label, _current in links] == [
        "Home",
        "Districts and stations",
        "Find a place",
        "Search",
        "Incidents",
        "Verification drives",
        "Import / export",
        "WhatsApp groups",
        "My submissions",
    ]
    assert [label for _href, label, current in links if current] == ["Home"]
    for href, label, _current in links:  # every link opens for this post
        assert client.get(href).status_code == 200, label
    page = client.get("/incidents/").get_data(as_text=True)
    assert [label for _href, label, current in _nav_links(page) if current] == ["Incidents"]

    client.post("/auth/sign-out", data={})
    asp = make_officer(Role.ASP, district)
    login_as(asp)
    labels = [
        label
        for _href, label, _current in _nav_links(client.get("/enrolments/").get_data(as_text=True))
    ]
    assert "Approvals" in labels and "Coverage" in labels and "My submissions" not in labels
    assert "Posts and officers" not in labels


def test_navigation_is_absent_before_sign_in(client):
    assert '<nav class="nav"' not in client.get("/auth/sign-in").get_data(as_text=True)
