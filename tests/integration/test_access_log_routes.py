"""Every route of the app whose URL carries a secret token is masked in gunicorn's access log
(gunicorn.conf.py): a new public link cannot be added and forgotten there. The log of a real reset
through gunicorn is read in tests/e2e/test_access_log.py."""

from __future__ import annotations

import runpy
from pathlib import Path

CONF = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
TOKEN = "InR4dCI.sEcReT-tOkEn_0123456789"


def test_every_token_bearing_route_is_masked_in_the_access_log(app):
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert {rule.endpoint for rule in rules} >= {
        "security.reset_password",
        "invitation.set_password",
        "survey.answer",
        "receipt.open_receipt",
        "calendar_feed.feed",
    }

    urls = app.url_map.bind("localhost")
    for rule in rules:
        path = urls.build(rule.endpoint, {"token": TOKEN})
        logged = CONF["masked_path"](path)
        assert TOKEN not in logged, (rule.rule, logged)
        assert "<token>" in logged, (rule.rule, logged)


def test_the_error_log_names_a_failing_public_link_without_its_token(app, client, caplog, monkeypatch):
    """Flask logs an unexpected error with the request's path: a token in it would be in the log."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("admin_app.services.billing.receipts.open_link", broken)  # any error on that page
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error is logged and answered 500
    with caplog.at_level("ERROR"):
        assert client.get(f"/receipts/{TOKEN}").status_code == 500

    assert "Exception on /receipts/<token> [GET]" in caplog.text
    assert "the database went away" in caplog.text  # the traceback is kept
    assert TOKEN not in caplog.text
