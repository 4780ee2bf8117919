"""The end-to-end suite's world: the app as production runs it, and a browser watching every page.

Once for the package: a brand-new database (a temporary SQLite file, or a private PostgreSQL schema
when TEST_DATABASE_URL is set), migrated and loaded with the demo practice by the real `flask`
commands; an SMTP sink (aiosmtpd) for the emails; gunicorn with `gunicorn.conf.py` on a free
loopback port, with PUBLIC_BASE_URL pointing at it so the links in the emails open as they are.
No REDIS_URL: jobs run in-process, so an email is in the sink when the request that sent it ends.
gunicorn's log goes to a temporary folder, or to PHI_SCAN_DIR for the PHI scan after the suite
(tests/phi.py), which also records the clients of each served database before it is dropped.

Each page the tests open is watched: a JavaScript error, a console error (a missing file logs one),
a request that fails or a 5xx answer fails the test. Screenshots go to `test-artifacts/e2e/`
(git-ignored), or to `SCREENSHOTS_DIR` (`make screenshots` sets it to docs/screenshots).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, REQUIRE_SERVICES, SmtpSink, free_port, private_schema
from tests.phi import RECORDED, kept_file, scan_dir

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 15_000  # actions and navigations
EXPECT_TIMEOUT_MS = 10_000  # expect(...) assertions (Playwright's default is 5 s)

ADMIN = ("admin@example.com", "demo-admin-2026")  # the demo's staff login, Spanish UI
THERAPIST = ("lucia.paredes@example.com", "demo-therapist-2026")  # the demo's therapist login
# Staff logins of the suite's own, one per language (journey 5), created with `flask accounts create-admin`.
LANGUAGE_USERS = {locale: (f"e2e-{locale}@example.com", f"e2e-{locale}-password-2026") for locale in ("es", "en", "fr")}
SWITCHER = ("e2e-switch@example.com", "e2e-switch-password-2026")  # starts in English, switches in the menu


@dataclass
class Practice:
    """The running app: its URL, its database, its mail sink, and what it printed."""

    base_url: str
    database_url: str
    sink: SmtpSink
    log_path: Path
    env: dict[str, str]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _run_flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


# `flask accounts create-admin` for each of the suite's logins, in one process: the app takes seconds
# to import, and this is the same command run through Flask's CLI runner.
CREATE_LOGINS = """
import sys
from admin_app import create_app
runner = create_app().test_cli_runner()
for email, password, locale in (line.split() for line in sys.stdin.read().splitlines()):
    args = ["accounts", "create-admin", "--email", email, "--password", password, "--locale", locale]
    result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit(f"flask {' '.join(args[:4])} failed: {result.output}")
"""


def _create_logins(env: dict[str, str]) -> None:
    logins = [(email, password, locale) for locale, (email, password) in LANGUAGE_USERS.items()]
    logins.append((*SWITCHER, "en"))
    done = subprocess.run(
        [sys.executable, "-c", CREATE_LOGINS],
        input="\n".join(" ".join(login) for login in logins),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        pytest.fail(f"creating the suite's logins failed:\n{done.stdout}\n{done.stderr}")


def _server_env(database_url: str, port: int, mail_port: int, settings: dict[str, str]) -> dict[str, str]:
    """The app's settings, from scratch: nothing of the developer's environment (REDIS_URL, MAIL_*)
    leaks in, so the suite runs the same everywhere. `settings` override the Lima practice's."""
    kept = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    return {
        **kept,
        "FLASK_APP": "admin_app",
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret-key",
        "CLINIC_TIMEZONE": "America/Lima",
        "CURRENCIES": "PEN,USD",
        "DEFAULT_LOCALE": "es",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(mail_port),
        "MAIL_TIMEOUT_SECONDS": "10",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
        # The suite signs in from one address, the demo's logins again and again.
        "SIGN_IN_LIMIT_PER_ADDRESS": "10000 per hour",
        "SIGN_IN_LIMIT_PER_ACCOUNT": "10000 per hour",
        **settings,
    }


@pytest.fixture(scope="package")
def chromium():
    """tests/conftest.py's `chromium`, closed when this package's tests end rather than with the
    session: Playwright's sync API runs one instance per thread at a time, and a later test that
    starts its own (test_statistics_page.py) fails while another is open."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        if REQUIRE_SERVICES:
            pytest.fail(f"the browser tests need playwright and {CHROMIUM} under CI")
        pytest.skip(f"end-to-end suite skipped: needs playwright and {CHROMIUM} (make test installs them)")
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        yield browser
        browser.close()


def fresh_database(tmp_path_factory, name: str) -> Iterator[str]:
    """A database of its own: SQLite in a temporary folder, or a private PostgreSQL schema."""
    base_url = os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        yield f"sqlite:///{tmp_path_factory.mktemp(f'{name}-db') / 'practice.sqlite3'}"
        return
    with private_schema(base_url, name) as url:
        yield url


@pytest.fixture(scope="package")
def e2e_database_url(tmp_path_factory) -> Iterator[str]:
    """The suite's database."""
    yield from fresh_database(tmp_path_factory, "e2e")


@pytest.fixture(scope="package")
def practice(chromium, e2e_database_url, tmp_path_factory) -> Iterator[Practice]:
    """The demo practice served by gunicorn (asks for `chromium` first: no browser, no server)."""
    sink = SmtpSink()
    sink.start()
    try:
        yield from serve(sink, e2e_database_url, tmp_path_factory.mktemp("e2e-server") / "gunicorn.log")
    finally:
        sink.stop()


def serve(
    sink: SmtpSink, database_url: str, log_path: Path, *, settings: dict[str, str] | None = None, seed: tuple = ()
) -> Iterator[Practice]:
    """gunicorn serving a demo practice: Lima, unless `settings` (environment) and `seed`
    (`flask seed-demo` options) say otherwise."""
    port = free_port()
    log_path = kept_file(f"gunicorn-{log_path.parent.name}", log_path)
    env = _server_env(database_url, port, sink.port, settings or {})
    _run_flask(env, "db", "upgrade")
    _run_flask(env, "seed-demo", *seed)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "admin_app:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    practice = Practice(f"http://127.0.0.1:{port}", database_url, sink, log_path, env)
    try:
        _create_logins(env)  # while gunicorn starts
        _wait_until_serving(server, practice)
        yield practice
    finally:
        server.terminate()  # gunicorn's graceful stop: the workers finish their requests
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        if scan_dir() is not None:
            RECORDED.add_database(database_url)  # the clients gunicorn and the demo wrote


def _wait_until_serving(server: subprocess.Popen, practice: Practice, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{practice.log_tail()}")
        try:
            with urllib.request.urlopen(f"{practice.base_url}/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer on {practice.base_url} within {seconds} s:\n{practice.log_tail()}")


@pytest.fixture(scope="package")
def app_db(practice):
    """An app object on the suite's database, to look things up as the tests need (read only)."""
    from admin_app.extensions import db
    from tests.conftest import make_app

    app = make_app(practice.database_url, DEFAULT_LOCALE="es", BABEL_DEFAULT_LOCALE="es")
    yield app
    with app.app_context():
        db.engine.dispose()


VANCOUVER_SETTINGS = {
    "CLINIC_TIMEZONE": "America/Vancouver",
    "CURRENCIES": "CAD",
    "DEFAULT_LOCALE": "en",
    "PHONE_REGION": "CA",
    "PRACTICE_NAME": "Coast Counselling Network",
}
VANCOUVER_ADMIN = ("admin@vancouver.example.com", "demo-admin-2026")  # the Vancouver demo's staff, English UI


SMALL = ("--therapists", "4", "--months", "3")
VANCOUVER_SEED = ("--practice", "vancouver", *SMALL)


def demo_of_its_own(
    tmp_path_factory, name: str, *, settings: dict[str, str] | None = None, seed: tuple = SMALL
) -> Iterator[Practice]:
    """A demo practice of its own in database `name` (Lima, 4 therapists, 3 months, unless `seed` says
    otherwise), served by gunicorn with `settings`: for a module whose changes (a payout run, say) or
    settings must touch no other test's practice."""
    sink = SmtpSink()
    sink.start()
    try:
        for database_url in fresh_database(tmp_path_factory, name):
            yield from serve(
                sink, database_url, tmp_path_factory.mktemp(name) / "gunicorn.log", settings=settings, seed=seed
            )
    finally:
        sink.stop()


@pytest.fixture(scope="module")
def vancouver(chromium, tmp_path_factory) -> Iterator[Practice]:
    """A small Vancouver demo network (4 therapists; the month before last, last month and this one)
    served by gunicorn, for the module that asks for it."""
    yield from demo_of_its_own(tmp_path_factory, "e2evan", settings=VANCOUVER_SETTINGS, seed=VANCOUVER_SEED)


@pytest.fixture
def vancouver_browser(chromium, vancouver, request):
    yield from watched_browser(chromium, vancouver, request)


# --- pages that fail on errors -------------------------------------------------------------------


@dataclass
class Watch:
    """What went wrong on a page: console errors, uncaught exceptions, failed requests, 5xx answers.

    `allow(pattern)` accepts problems a test provokes on purpose (the 404 page of journey 4).
    """

    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(pattern.search(p) for pattern in self.allowed)]

    def attach(self, page) -> None:
        page.on("console", lambda message: self._console(message, page))
        page.on("pageerror", lambda error: self.add(f"JavaScript error on {page.url}: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message, page) -> None:
        if message.type == "error":
            location = message.location.get("url") or page.url
            self.add(f"console error on {location}: {message.text}")

    def _failed(self, request) -> None:
        # ERR_ABORTED is the browser giving up a request, not the server failing it: a link that
        # answers with a file (a download), or a page left while it loads. A missing file is a
        # console error; a server error is a 5xx; a dead server is ERR_CONNECTION_REFUSED/RESET.
        if request.failure == "net::ERR_ABORTED":
            return
        self.add(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.add(f"HTTP {response.status} for {response.request.method} {response.url}")


class Browser:
    """Opens watched pages in fresh contexts (each its own cookies), and checks them at the end."""

    def __init__(self, chromium, base_url: str) -> None:
        self._chromium = chromium
        self._base_url = base_url
        self._contexts = []
        self.watches: list[Watch] = []

    def page(self, *, locale: str = "es-PE", phone: bool = False, **options):
        context = self._chromium.new_context(
            base_url=self._base_url,
            locale=locale,
            timezone_id="America/Lima",
            accept_downloads=True,
            **(PHONE if phone else {"viewport": VIEWPORT}),
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        watch = Watch()
        watch.attach(page)
        page.watch = watch
        self.watches.append(watch)
        return page

    def close(self) -> list[str]:
        for context in self._contexts:
            context.close()
        return [problem for watch in self.watches for problem in watch.unexpected()]


@pytest.fixture
def browser(chromium, practice, request) -> Iterator[Browser]:
    yield from watched_browser(chromium, practice, request)


def watched_browser(chromium, practice: Practice, request) -> Iterator[Browser]:
    """A `Browser` on this practice; at the end, failure screenshots, and any problem it saw fails the test."""
    opened = Browser(chromium, practice.base_url)
    yield opened
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        for number, context in enumerate(opened._contexts):
            for page in context.pages:
                _save_failure_screenshot(page, f"{request.node.name}-{number}")
    problems = opened.close()
    if problems and failed:
        print("The browser also saw:\n" + "\n".join(problems))
    elif problems:
        pytest.fail("The browser saw problems:\n" + "\n".join(problems) + "\n\nserver log:\n" + practice.log_tail(30))


def _save_failure_screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
    except Exception as error:  # a closed page: nothing to show
        print(f"no failure screenshot for {name}: {error}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- screenshots ---------------------------------------------------------------------------------


class Screenshots:
    """Where the suite saves its pictures: SCREENSHOTS_DIR (docs/screenshots for the README), else
    test-artifacts/e2e."""

    def __init__(self, folder: Path, for_readme: bool) -> None:
        self.folder = folder
        self.for_readme = for_readme
        folder.mkdir(parents=True, exist_ok=True)

    def page(self, page, name: str, *, full_page: bool = False) -> Path:
        path = self.folder / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the top of the screen, as it opens
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def pdf_first_page(self, pdf: Path, name: str) -> Path | None:
        """The first page of a PDF as a PNG (pdftoppm, from poppler-utils); None without it."""
        if shutil.which("pdftoppm") is None:
            if self.for_readme or REQUIRE_SERVICES:
                pytest.fail("pdftoppm (poppler-utils) is needed to picture the PDF: apt-get install poppler-utils")
            print("pdftoppm not installed: no picture of the PDF (apt-get install poppler-utils)")
            return None
        target = self.folder / name
        subprocess.run(
            ["pdftoppm", "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to", "1100", str(pdf), str(target)],
            check=True,
            timeout=60,
        )
        return target.with_suffix(".png")


@pytest.fixture(scope="package")
def screenshots() -> Screenshots:
    chosen = os.environ.get("SCREENSHOTS_DIR")
    return Screenshots(Path(chosen).resolve() if chosen else ARTIFACTS, for_readme=bool(chosen))
