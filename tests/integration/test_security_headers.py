"""The security headers every response carries (views/platform/headers.py), and the pages they must
not break: no staff or portal page has an inline script without the request's nonce, nor an inline
event handler, which the Content-Security-Policy would block. The same checks in a browser, through
gunicorn, are in tests/e2e/test_content_security_policy.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import url_for
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import select

from admin_app import demo
from admin_app.extensions import db
from admin_app.models import Client, Therapist
from tests.conftest import login, make_app
from tests.factories import make_admin
from tests.isolation import UnfilledArgument, rule_arguments
from tests.pages import row_ids

CSP = "Content-Security-Policy"


def directives(response) -> dict[str, str]:
    """The page's Content-Security-Policy, directive → sources."""
    parts = (part.strip().split(" ", 1) for part in response.headers[CSP].split(";"))
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def assert_app_headers(response, url: str) -> None:
    """What every page of the app sends (outside production)."""
    policy = directives(response)
    assert policy["frame-ancestors"] == "'none'", url
    assert policy["object-src"] == "'none'", url
    assert policy["form-action"] == "'self'", url
    script = policy["script-src"].split()
    assert script[0] == "'self'" and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, url
    assert [source for source in script if source.startswith("'nonce-")], url
    assert response.headers["X-Frame-Options"] == "DENY", url
    assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert response.headers["Referrer-Policy"] == "same-origin", url
    assert "Strict-Transport-Security" not in response.headers, url  # only under APP_ENV=production


def assert_not_stored(response, url: str) -> None:
    assert response.headers["Cache-Control"] == "no-store", (url, response.headers.get("Cache-Control"))


def sign_in_demo_therapist(client) -> None:
    """The demo therapist with a login (the one with the most clients)."""
    email = db.session.scalar(select(Therapist.email).where(Therapist.user_id.is_not(None)).limit(1))
    assert login(client, email, demo.THERAPIST_PASSWORD).status_code == 302


@pytest.fixture
def practice(app):
    """The demo practice, small: three therapists, two months."""
    demo.load_demo_practice(db.session, therapists=3, months=2)
    db.session.commit()


def test_the_sign_in_pages_are_not_stored_and_say_so_correctly(client):
    # Flask-Security's default sent "private=True, no-store=True", which no cache understands.
    for url in ("/login", "/reset"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_app_headers(response, url)
        assert_not_stored(response, url)
        assert blocked_by_policy(response) == [], url


def test_staff_pages_and_downloads_carry_the_headers_and_are_not_stored(client, practice):
    make_admin()
    db.session.commit()
    login(client, "staff@example.com")
    client_id = db.session.scalar(select(Client.id).order_by(Client.id).limit(1))
    for url in ("/admin/", "/admin/client/", f"/admin/client/details/?id={client_id}", "/admin/client/export/csv/"):
        response = client.get(url, buffered=True)
        assert response.status_code == 200, url
        assert_app_headers(response, url)
        assert_not_stored(response, url)
    assert response.mimetype == "text/csv"


def test_portal_pages_carry_the_headers_and_are_not_stored(client, practice):
    sign_in_demo_therapist(client)
    for url in ("/portal/", "/portal/clients/", "/portal/appointments/export/csv/"):
        response = client.get(url, buffered=True)
        assert response.status_code == 200, url
        assert_app_headers(response, url)
        assert_not_stored(response, url)


def test_static_files_keep_their_caching(client):
    script = client.get("/static/js/charts.js")
    assert script.status_code == 200
    assert "no-store" not in script.headers["Cache-Control"]
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    jquery = client.get("/admin/static/vendor/jquery.min.js")
    assert jquery.status_code == 200 and "no-store" not in jquery.headers.get("Cache-Control", "")
    plotly = client.get(url_for("chart_assets.plotly_js"))  # versioned URL: cached for a year
    assert plotly.status_code == 200
    assert {"public", "immutable"} <= set(re.split(r",\s*", plotly.headers["Cache-Control"]))


def test_a_public_link_page_keeps_its_stricter_policy(client):
    response = client.get("/survey/no-such-link")
    assert response.status_code == 404
    policy = directives(response)
    assert policy["default-src"] == "'none'" and "script-src" not in policy  # no script at all
    assert policy["frame-ancestors"] == "'none'"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert_not_stored(response, "/survey/no-such-link")


@pytest.fixture
def production_app(app, database_url):
    """The app as APP_ENV=production runs it, behind one proxy (TRUSTED_PROXIES=1)."""
    return make_app(database_url, APP_ENV="production", TRUSTED_PROXIES=1, SESSION_COOKIE_SECURE=True)


def test_in_production_http_is_sent_to_https(production_app):
    response = production_app.test_client().get("/login?next=/admin/", base_url="http://practice.example.com")
    assert response.status_code in (301, 302)
    assert response.headers["Location"] == "https://practice.example.com/login?next=/admin/"


def test_in_production_https_pages_carry_hsts(production_app):
    response = production_app.test_client().get("/login", base_url="https://practice.example.com")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in response.headers["Set-Cookie"]


def test_in_production_behind_the_proxy_the_forwarded_scheme_counts(production_app):
    # The proxy spoke https to the browser and http to gunicorn: no redirect loop, and HSTS.
    response = production_app.test_client().get(
        "/login", base_url="http://practice.example.com", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


# --- every page, scanned for what the policy would block ----------------------------------------


class ScriptScan(HTMLParser):
    """Inline scripts without `nonce`, inline event handlers (onclick=...)."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        handlers = [name for name, _ in attrs if name.startswith("on")]
        if handlers:
            self.blocked.append(f"<{tag} {' '.join(handlers)}=...>")
        if tag != "script" or values.get("src") or values.get("type") == "application/json":
            return
        if values.get("nonce") != self.nonce:
            self.blocked.append(f"inline <script> without this request's nonce ({values.get('nonce')!r})")


def blocked_by_policy(response) -> list[str]:
    [nonce] = [s[len("'nonce-") : -1] for s in directives(response)["script-src"].split() if s.startswith("'nonce-")]
    scan = ScriptScan(nonce)
    scan.feed(response.get_data(as_text=True))
    return scan.blocked


def area_pages(app, client, area: str) -> list[str]:
    """Every GET page of an area (`/admin` or `/portal`): lists, forms, screens, and the details and
    edit page of the first row of each list."""
    urls = []
    lists = {
        view.endpoint: view.url
        for admin in app.extensions["admin"]
        for view in admin._views
        if isinstance(view, ModelView) and view.url.startswith(area)
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(area) or rule.endpoint.endswith(".static") or "GET" not in rule.methods:
            continue
        if "export" in rule.rule or rule.rule.endswith((".js", ".csv", ".pdf", ".xlsx", ".zip", ".ics")):
            continue
        try:
            url = rule.build(rule_arguments(rule))[1]
        except UnfilledArgument:
            continue
        view_endpoint, _, kind = rule.endpoint.rpartition(".")
        if kind in ("details_view", "edit_view"):
            ids = row_ids(client.get(f"{lists[view_endpoint]}/"))
            if not ids:
                continue
            url += f"?id={min(ids)}"
        urls.append(url)
    return sorted(urls)


def scan_area(app, client, area: str) -> dict[str, list[str]]:
    problems, scanned = {}, 0
    for url in area_pages(app, client, area):
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        scanned += 1
        assert_app_headers(response, url)
        if blocked := blocked_by_policy(response):
            problems[url] = blocked
    assert scanned > 10, scanned  # the pages really were rendered
    return problems


def test_no_staff_page_has_script_the_policy_would_block(app, client, practice):
    make_admin()
    db.session.commit()
    login(client, "staff@example.com")
    assert scan_area(app, client, "/admin") == {}


def test_no_portal_page_has_script_the_policy_would_block(app, client, practice):
    sign_in_demo_therapist(client)
    assert scan_area(app, client, "/portal") == {}


def test_the_scan_sees_what_the_policy_blocks(client):
    """The scan itself: a page with an inline handler and a script without the nonce fails it."""
    page = client.get("/login")
    page.set_data('<button onclick="go()">Go</button><script>alert(1)</script><script type="application/json">{}')
    assert blocked_by_policy(page) == ["<button onclick=...>", "inline <script> without this request's nonce (None)"]
