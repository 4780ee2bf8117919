"""`create_app` builds independent apps: two in one process both work (no module-level registration)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request

from admin_app.extensions import db
from tests.conftest import login, make_app
from tests.factories import make_admin
from tests.pages import body, list_rows


def test_two_apps_in_one_process_both_serve_the_login_and_the_staff_area(app, database_url):
    second = make_app(database_url, PRACTICE_NAME="Vancouver Network", CLINIC_TIMEZONE="America/Vancouver")
    make_admin()
    db.session.commit()

    for each, name in ((app, "Demo Practice"), (second, "Vancouver Network")):
        visitor = each.test_client()
        page = visitor.get("/login")
        assert page.status_code == 200
        assert name in body(page)
        assert 'name="password"' in body(page)
        assert urlsplit(visitor.get("/admin/").headers["Location"]).path == "/login"

        assert login(visitor, "staff@example.com").status_code == 302
        clients = visitor.get("/admin/client/")
        assert clients.status_code == 200
        assert list_rows(clients) == []
        assert name in body(clients)

    assert second.config["CLINIC_TIMEZONE"] == "America/Vancouver"
    assert app.config["CLINIC_TIMEZONE"] == "America/Lima"


def test_behind_a_trusted_proxy_the_client_address_comes_from_its_header(app, database_url):
    direct, proxied = make_app(database_url), make_app(database_url, TRUSTED_PROXIES=1)
    for one in (direct, proxied):
        one.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    headers = {"X-Forwarded-For": "203.0.113.7"}

    assert direct.test_client().get("/whoami", headers=headers).get_data(as_text=True) == "127.0.0.1"
    assert proxied.test_client().get("/whoami", headers=headers).get_data(as_text=True) == "203.0.113.7"
