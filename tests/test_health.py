"""/livez and /readyz: what a load balancer asks, answered by status words only (issue 21)."""

import os
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cplan import create_app
from cplan.models.base import utcnow
from cplan.models.messages import MessageState, OutboundMessage
from tests.conftest import TEST_SECRET
from tests.test_database_down import UNREACHABLE


def head_revisions(app):
    from cplan.blueprints.health.views import _revisions

    with app.test_request_context():
        return _revisions()


@pytest.fixture
def stamp(app, db):
    """Write an Alembic revision into the test database (built from the models, never stamped)."""

    def write(revision):
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})

    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    yield write
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))


@pytest.fixture
def migrated(app, stamp):
    (head,) = head_revisions(app)[0]
    stamp(head)
    return head


def app_on(url, tmp_path, **config):
    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "testing",
            "SECRET_KEY": TEST_SECRET,
            "SQLALCHEMY_DATABASE_URI": url,
            "SMS_BACKEND": "memory",
            "SERVER_NAME": "localhost",
            "PROPAGATE_EXCEPTIONS": False,
            **config,
        }
    )
    app.instance_path = str(tmp_path)
    return app


def test_livez_answers_ok_and_nothing_else(client):
    response = client.get("/livez")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_migrated_database_is_ready(client, migrated):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "outbox": "ok"},
    }
    assert migrated not in response.get_data(as_text=True)  # no revision revealed


def test_a_database_never_migrated_is_not_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["migrations"] == "missing"


def test_a_database_behind_the_code_is_not_ready_but_one_ahead_is(app, client, stamp):
    heads, known = head_revisions(app)
    older = sorted(known - heads)[0]
    stamp(older)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "migrations": "behind", "outbox": "ok"},
    }
    # A newer release migrated first (rolling release): this server keeps serving.
    stamp("f00dfeedbeef")
    assert client.get("/readyz").status_code == 200


def test_an_sms_notice_waiting_too_long_makes_the_server_unready(app, db, client, migrated):
    message = OutboundMessage(
        to_number="+919876543210",
        template="cug_changed",
        state=MessageState.PENDING,
        created_at=utcnow() - timedelta(minutes=14),
    )
    db.session.add(message)
    db.session.commit()
    assert client.get("/readyz").status_code == 200

    message.created_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["checks"]["outbox"] == "stuck"
    assert "9876543210" not in response.get_data(as_text=True)

    message.state = MessageState.SENT
    db.session.commit()
    assert client.get("/readyz").status_code == 200

    app.config["HEALTH_OUTBOX_STUCK_MINUTES"] = 0  # check switched off
    message.state = MessageState.PENDING
    db.session.commit()
    assert client.get("/readyz").get_json()["checks"] == {"database": "ok", "migrations": "ok"}


@pytest.mark.parametrize("database", sorted(UNREACHABLE))
def test_an_unreachable_database_is_unready_quickly_but_the_process_is_live(tmp_path, database):
    browser = app_on(UNREACHABLE[database], tmp_path).test_client()
    started = time.monotonic()
    response = browser.get("/readyz")
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and elapsed < 3
    assert response.get_json() == {"status": "unavailable", "checks": {"database": "unreachable"}}
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert browser.get("/livez").status_code == 200


def test_a_sqlite_probe_never_creates_a_missing_database_file(tmp_path):
    path = tmp_path / "gone.sqlite"
    browser = app_on(f"sqlite:///{path}", tmp_path).test_client()
    assert browser.get("/readyz").status_code == 503
    assert not path.exists()


class SocketProxy:
    """A TCP port on localhost relaying to PostgreSQL's Unix socket: stopping it is the database
    going away for the app (open connections cut, new ones refused); starting it again brings
    the database back on the same port."""

    def __init__(self, unix_path):
        self.unix_path = unix_path
        self.port = None
        self.connections = []
        self.listener = None

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen()
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self):
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self.listener.close()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        self.connections = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.unix_path)
            self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_readyz_turns_503_when_the_database_stops_and_200_when_it_is_back(
    database_url, tmp_path, migrated
):
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        folder = tmp_path / "data"
        folder.mkdir()
        import sqlite3

        with (
            sqlite3.connect(url.database) as source,
            sqlite3.connect(folder / "cplan.sqlite") as copy,
        ):
            source.backup(copy)
        browser = app_on(f"sqlite:///{folder / 'cplan.sqlite'}", tmp_path).test_client()
        stop = lambda: os.rename(folder, tmp_path / "away")  # noqa: E731
        start = lambda: os.rename(tmp_path / "away", folder)  # noqa: E731
    else:
        socket_folder = url.query.get("host", "/var/run/postgresql")
        port = url.port or 5432
        proxy = SocketProxy(f"{socket_folder}/.s.PGSQL.{port}")
        proxy.start()
        through_proxy = url.set(host="127.0.0.1", port=proxy.port, query={})
        browser = app_on(
            through_proxy.render_as_string(hide_password=False), tmp_path
        ).test_client()
        stop, start = proxy.stop, proxy.start

    assert browser.get("/readyz").status_code == 200
    stop()
    try:
        response = browser.get("/readyz")
        assert response.status_code == 503
        assert response.get_json()["checks"] == {"database": "unreachable"}
        assert browser.get("/livez").status_code == 200
    finally:
        start()
    assert browser.get("/readyz").status_code == 200
