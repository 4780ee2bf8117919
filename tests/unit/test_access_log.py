"""The access log (gunicorn.conf.py) never writes a public link's secret token."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

CONF = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/reset/InR4dCI.aBc-sEcReT_tOkEn", "/reset/<token>"),
        ("/reset/InR4dCI.aBc-sEcReT_tOkEn/", "/reset/<token>/"),
        ("/reset", "/reset"),
        ("/calendar/AbC123-_x.ics", "/calendar/<token>.ics"),
        ("/calendar/AbC123-_x", "/calendar/<token>"),
        ("/survey/q8Zp0-sEcReT_tOkEn", "/survey/<token>"),
        ("/survey/thanks", "/survey/thanks"),
        ("/survey/q8Zp0-sEcReT_tOkEn/extra", "/survey/<token>/extra"),
        ("/welcome/Zq9-sEcReT_tOkEn", "/welcome/<token>"),
        ("/welcome/Zq9-sEcReT_tOkEn/renew", "/welcome/<token>/renew"),
        ("/tf-setup/InR4dCI.sEcReT_tOkEn", "/tf-setup/<token>"),
        ("/tf-setup", "/tf-setup"),
        ("/receipts/Rc7-sEcReT_tOkEn", "/receipts/<token>"),
        ("/admin/receipts/12.pdf", "/admin/receipts/12.pdf"),
        ("/admin/book/", "/admin/book/"),
    ],
)
def test_tokens_are_replaced_in_logged_paths(path, logged):
    logger = CONF["PrivateLogger"](Config())
    environ = {
        "PATH_INFO": path,
        "RAW_URI": path,
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=0, response_length=0)
    request = SimpleNamespace(headers=[], path=path, query="", method="GET", uri=path, version=(1, 1))

    atoms = logger.atoms(response, request, environ, dt.timedelta(milliseconds=5))

    assert atoms["U"] == logged
    assert atoms["r"] == f"GET {logged} HTTP/1.1"


@pytest.mark.parametrize(
    ("referer", "logged"),
    [
        ("https://practice.example.com/reset/InR4dCI.sEcReT?x=1", "https://practice.example.com/reset/<token>"),
        ("https://practice.example.com/survey/q8Zp0-sEcReT", "https://practice.example.com/survey/<token>"),
        ("https://practice.example.com/admin/client/?search=Ana", "https://practice.example.com/admin/client/"),
        ("-", "-"),
    ],
)
def test_the_referring_page_is_masked_too(referer, logged):
    logger = CONF["PrivateLogger"](Config())
    environ = {
        "PATH_INFO": "/static/app.css",
        "RAW_URI": "/static/app.css",
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": referer,
    }
    response = SimpleNamespace(status="200 OK", headers=[], sent=0, response_length=0)
    request = SimpleNamespace(
        headers=[("REFERER", referer)], path="/static/app.css", query="", method="GET", uri="", version=(1, 1)
    )

    atoms = logger.atoms(response, request, environ, dt.timedelta(milliseconds=5))

    assert atoms["f"] == logged
