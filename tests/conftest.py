"""Shared fixtures: one migrated database per run (SQLite, or PostgreSQL when TEST_DATABASE_URL
is set), emptied after every test; an app, a test client and a login helper.

The schema is built by the Alembic migrations, exactly as in production, never by create_all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import logging
import os
import socket
import threading
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import sqlalchemy as sa
import time_machine
from aiosmtpd.controller import Controller
from flask import current_app, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from admin_app import create_app
from admin_app.config import TestingSettings
from admin_app.extensions import db
from admin_app.models import Base
from tests.factories import make_therapist_user
from tests.phi import RECORDED, scan_dir, snapshot_redis, start_recording

REQUIRE_SERVICES = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config) -> None:
    if scan_dir() is not None:
        start_recording()


def pytest_sessionfinish(session, exitstatus) -> None:
    """The clients' values the PHI scan looks for (tests/phi.py)."""
    folder = scan_dir()
    if folder is not None:
        RECORDED.write(folder)


def _postgres_url(base_url: str, schema: str) -> str:
    url = sa.make_url(base_url).set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@contextlib.contextmanager
def private_schema(base_url: str, prefix: str):
    """A PostgreSQL schema of its own (dropped afterwards); yields the URL that uses it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(sa.make_url(base_url).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_url(base_url, schema)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A brand-new empty database for this run; PostgreSQL gets a private schema."""
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    with private_schema(base_url, "test") as url:
        yield url


REAL_TIME = "real time"  # `clock` parameter for a test whose app also runs in another process


def _instant(value: dt.datetime | str) -> dt.datetime:
    """An aware instant from a datetime or an ISO text with its offset (`2026-12-01T03:00Z`)."""
    instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if instant.tzinfo is None:
        raise ValueError(f"{value!r}: give the offset (Z, -05:00 ...) or a tzinfo: a naive time is no instant")
    return instant.astimezone(dt.UTC)


class Clock:
    """The one "now" of the code under test.

    time-machine moves every clock Python has (datetime, date, time, monotonic) in every module and
    thread, so the app's `utcnow()` and the tests read the same instant. It ticks on from where it is
    set. The end-to-end suite's gunicorn runs in its own process, on real time, without this clock.
    """

    def __init__(self, traveller: time_machine.Traveller) -> None:
        self._traveller = traveller

    def set(self, instant: dt.datetime | str) -> dt.datetime:
        """Move "now" to an instant (aware datetime or ISO text with offset); returns it in UTC."""
        instant = _instant(instant)
        self._traveller.move_to(instant)
        return instant

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self, zone: str | None = None) -> dt.date:
        """The clinic's date now (the app's CLINIC_TIMEZONE unless a zone is given), never the UTC date."""
        return self.now().astimezone(ZoneInfo(zone or current_app.config["CLINIC_TIMEZONE"])).date()

    def last_month(self, zone: str | None = None) -> tuple[int, int]:
        """(year, month) of the clinic's previous month: what month-end work is about."""
        first = self.today(zone).replace(day=1)
        previous = first - dt.timedelta(days=1)
        return previous.year, previous.month


@pytest.fixture
def clock(request):
    """Sets "now" for the app under test: the only way a test sets today.

    Every test that uses the app runs on it (the `app` fixture depends on it), so the app, the
    test client's sign-in and the test's own expectations share one instant. It starts at:
    - the instant a test asks for, `@pytest.mark.parametrize("clock", ["2026-12-01T03:00Z"], indirect=True)`
      (set before the app and the sign-in, so a session cookie is never from the future);
    - else TEST_NOW, so the whole suite can be run at a given instant, e.g. `TEST_NOW=2026-12-01T03:00Z`
      (a 1st, still the 30th in Lima);
    - else the real now; and always for a test that asks for REAL_TIME, as one that starts another
      process of the app (which reads the real clock) must.
    `clock.set(...)` moves it during a test.
    """
    start = getattr(request, "param", None) or os.environ.get("TEST_NOW")
    if start is None or start == REAL_TIME:
        start = dt.datetime.now(dt.UTC)
    with time_machine.travel(_instant(start), tick=True) as traveller:
        yield Clock(traveller)


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The `app` fixture keeps an app context pushed for the whole test, and Flask reuses it for
    the test client's requests; without this, what one request caches on `g` (the signed-in
    user of Flask-Login, the locale of Flask-Babel) would leak into the next request, even one
    made by another client.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():
            return super().open(*args, **kwargs)
        saved = dict(vars(g))
        vars(g).clear()
        try:
            return super().open(*args, **kwargs)
        finally:
            vars(g).clear()
            vars(g).update(saved)


def make_app(database_url: str, **overrides):
    config = {
        **TestingSettings.values,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "CLINIC_TIMEZONE": "America/Lima",
        "CURRENCIES": ("PEN", "USD"),
        "DEFAULT_CURRENCY": "PEN",
        "DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_LOCALE": "en",
        "PHONE_REGION": "PE",
        "MAIL_SUPPRESS_SEND": True,
        "SERVER_NAME": "localhost",
        **overrides,
    }
    app = create_app(config)
    app.test_client_class = FreshGlobalsClient
    return app


@pytest.fixture(scope="session")
def migrated_app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    return app


@pytest.fixture
def app(migrated_app, clock):
    with migrated_app.app_context():
        yield migrated_app
        db.session.rollback()
        db.session.remove()
        _empty_all_tables()


def _empty_all_tables() -> None:
    with db.engine.begin() as connection:
        delete_all_rows(connection)


def delete_all_rows(connection) -> None:
    """Every row of every table, children first. References within a table (an authorization's
    extension) are cleared first: ON DELETE RESTRICT is checked row by row, even within one DELETE."""
    for table in reversed(Base.metadata.sorted_tables):
        self_references = {fk.parent.name: None for fk in table.foreign_keys if fk.column.table is table}
        if self_references:
            connection.execute(table.update().values(self_references))
        connection.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client, email: str, password: str = "quiet-harbour-lantern"):
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=False)


def sign_in_therapist(client, therapist):
    """Gives `therapist` a login (committed) and signs `client` in with it; returns the client."""
    make_therapist_user(therapist)
    db.session.commit()
    assert login(client, therapist.email).status_code == 302
    return client


class SmtpSink:
    """A real SMTP server on loopback (aiosmtpd) that keeps every message it receives.

    `refuse` maps a recipient to the SMTP reply it gets instead of 250 (e.g. a 550).
    """

    def __init__(self, port: int | None = None) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.port = port or free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        # The sink stands for the practice's mail server: its debug log is each message it receives, line by
        # line, which a test that reads the app's own log for client data must not find.
        logging.getLogger("mail.log").setLevel(logging.INFO)

    async def handle_RCPT(self, _server, _session, envelope, address, _options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def redis_url(request):
    """A Redis database of the tests' own (TEST_REDIS_URL), emptied before and after each test (what
    the test left is kept for the PHI scan first, under PHI_SCAN_DIR)."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if REQUIRE_SERVICES:
            pytest.fail("TEST_REDIS_URL is not set under CI: the RQ tests need a real Redis")
        pytest.skip("needs a real Redis: set TEST_REDIS_URL (scripts/test.sh does)")
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    yield url
    if scan_dir() is not None:
        snapshot_redis(connection, request.node.name)
    connection.flushdb()
    connection.close()


@pytest.fixture
def mail_app(app, database_url, smtp_sink):
    """The app with its mail pointed at the SMTP sink (same database as `app`)."""
    mailing = make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port, MAIL_SUPPRESS_SEND=False)
    with mailing.app_context():
        yield mailing
        db.session.remove()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; a missing browser fails under CI, else skips."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"the browser tests need playwright and {CHROMIUM} under CI")
        pytest.skip(f"needs playwright and {CHROMIUM} (make test installs them)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def live_server(app, database_url):
    """The app served over HTTP on loopback (same database as `app`), for the browser."""
    from werkzeug.serving import make_server

    served = make_app(database_url, SERVER_NAME=None)  # answer to 127.0.0.1:<port>
    server = make_server("127.0.0.1", free_port(), served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
