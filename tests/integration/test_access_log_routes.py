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
