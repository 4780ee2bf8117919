"""Every URL rule of the app × every role × every method the rule allows (issue 20, "Done when").

The rules come from `app.url_map`, so a screen added later is walked without editing this file (a
rule with an argument tests/isolation.py's ARGUMENTS cannot fill fails the walk, naming it). Each
request names the records of the OTHER therapist: path arguments, `?id=` and the form's ids (Rosa
reaches for Jorge's, Jorge for Rosa's; anonymous and staff for Jorge's). The walk fails on:
- any 5xx (or an exception), for every role, staff included, on GET and on a POST of junk;
- any of the other therapist's secrets (client name, number, email, phone, national ID, references,
  notes...) in what a therapist receives, page, export, PDF or ZIP; either's in what anonymous receives;
- a staff or portal page that does not send anonymous to the login, a staff page a therapist opens,
  a portal page staff open; a portal page for one record that does not answer 404 for another's;
- any change to the other therapist's records after a therapist's or an anonymous POST.
"""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import update
from werkzeug.routing import Map, Rule

from admin_app.extensions import db, limiter
from admin_app.models import (
    AdminTask,
    Appointment,
    BadFitEntry,
    Client,
    Invoice,
    Participant,
    PayoutStatement,
    User,
)
from tests.conftest import login
from tests.factories import PASSWORD, make_admin
from tests.isolation import UnfilledArgument, fingerprint, readable_text, rule_arguments, two_caseloads

ROLES = ("anonymous", "therapist A", "therapist B", "staff")
# Portal pages that read the one record their id names: another therapist's gives 404.
ONE_RECORD = re.compile(r"(details|edit|letter|statement|pdf|ask|clinical_note)")


# Pages that end the visitor's session (Flask-Security's second-step page signs out a visitor who is
# not half-way through signing in; My sessions ends one or all): walked last, so the walk stays signed in.
SIGNING_OUT = {"security.logout", "security.two_factor_token_validation"}
SIGNING_OUT |= {f"{area}.{end}" for area in ("my_sessions", "portal_sessions") for end in ("end", "end_all")}


def walked_rules(app) -> list:
    """Every rule but static files, those that sign out last."""
    rules = [
        rule for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not rule.endpoint.endswith(".static")
    ]
    return sorted(rules, key=lambda rule: (rule.endpoint in SIGNING_OUT, rule.rule))


def view_models(app) -> dict[str, type]:
    """The model of each Flask-Admin list view, by endpoint (`my_clients` → Client)."""
    return {
        view.endpoint: view.model
        for admin in app.extensions["admin"]
        for view in admin._views
        if isinstance(view, ModelView)
    }


def junk_form(owner, record_id: int) -> dict:
    """A form naming `owner`'s records, with plausible values where a write would be accepted (so
    an unguarded write shows in the fingerprint) and junk where a value is parsed."""
    ids = owner.ids
    return {
        "id": record_id,
        "rowid": [str(record_id)],
        "action": "request_extension",
        "url": "/",
        "client": ids[Client],
        "client_id": ids[Client],
        "participant": ids[Participant],
        "participant_id": ids[Participant],
        "appointment": ids[Appointment],
        "invoice": ids[Invoice],
        "invoices": [str(ids[Invoice])],
        "statement": ids[PayoutStatement],
        "entry": ids[BadFitEntry],
        "task": ids[AdminTask],
        "selected": [str(ids[Participant])],
        "reason": "walked here",
        "note": "walked here",
        "notes": "walked here",
        "clinical_note": "walked here",
        "comment": "walked here",
        "attendance": "no_show",
        "cancelled_by": "client",
        "email": "walker@example.com",
        "phone": "+51987650099",
        "full_name": "Walked Over",
        "preferred_language": "es",
        "reminder_preference": "email",
        "amount": "12,50 soles",
        "received_on": "2026-02-31",
        "month": "2026-13",
        "starts_at": "tomorrow-ish",
        "new_start": "25:99",
        "duration_minutes": "-5",
        "approved_sessions": "many",
        "nps": "11",
        "year": "MMXXVI",
        "page": "-1",
        "query": "Quispe",
        "password": "x",
        "password_confirm": "y",
        "language": "xx",
    }


class Walk:
    """One role's walk: what it requested and what went wrong."""

    def __init__(self, app, role: str, client, owner, others: tuple, sign_in=lambda: None) -> None:
        self.app, self.role, self.client, self.owner, self.sign_in = app, role, client, owner, sign_in
        self.secrets = [secret for caseload in others for secret in caseload.secrets]
        self.protect = others
        self.models = view_models(app)
        self.problems: list[str] = []
        self.requests = 0
        self.untouched = self.fingerprints()

    def fingerprints(self) -> list[tuple]:
        return [fingerprint(caseload) for caseload in self.protect]

    def candidates(self, rule) -> list[tuple[type | None, int]]:
        """(model, id) to try: a list view's own model (or else a client); outside the staff area a
        therapist's screen that is no list view tries every kind of the owner's records, whichever it reads."""
        own = self.models.get(rule.endpoint.rpartition(".")[0])
        first = (own, self.owner.ids[own]) if own in self.owner.ids else (Client, self.owner.ids[Client])
        if own is not None or not self.role.startswith("therapist") or rule.rule.startswith("/admin"):
            return [first]
        return [first] + [(model, record_id) for model, record_id in self.owner.ids.items() if model is not first[0]]

    def walk(self) -> None:
        """Every GET first, then the other methods: a POST that deletes (staff may) does not turn
        the pages read after it into 404s; the pages that sign out come after both, each request
        of theirs signed in afresh."""
        rules = walked_rules(self.app)
        staying = [rule for rule in rules if rule.endpoint not in SIGNING_OUT]
        leaving = [rule for rule in rules if rule.endpoint in SIGNING_OUT]
        for part, reading in ((staying, True), (staying, False), (leaving, True), (leaving, False)):
            for rule in part:
                if part is leaving:
                    self.sign_in()
                try:
                    url = rule.build(rule_arguments(rule, self.owner.ids))[1]
                except UnfilledArgument as missing:
                    if reading:
                        self.problems.append(str(missing))
                    continue
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    if (method == "GET") == reading:
                        for model, record_id in self.candidates(rule):
                            self.visit(rule, method, url, model, record_id)

    def visit(self, rule, method: str, url: str, model, record_id: int) -> None:
        where = f"{self.role}: {method} {url}?id={record_id} ({model.__name__ if model else '-'})"
        self.requests += 1
        try:
            if method == "GET":
                query = {"id": record_id, "month": "2026-11", "client": self.owner.ids[Client]}
                response = self.client.get(url, query_string=query)
            else:
                response = self.client.open(
                    url, method=method, query_string={"id": record_id}, data=junk_form(self.owner, record_id)
                )
        except Exception as error:  # an unhandled exception is the 500 a user would get
            db.session.rollback()
            self.problems.append(f"{where}: exception {error!r}")
            return
        if response.status_code >= 500:
            self.problems.append(f"{where}: {response.status_code}")
        self.check_access(rule, method, url, model, response, where)
        text = readable_text(response.get_data()) + response.headers.get("Location", "")
        for secret in self.secrets:
            if secret in text:
                self.problems.append(f"{where}: shows {secret!r}")
        if method != "GET" and self.protect and (now := self.fingerprints()) != self.untouched:
            self.problems.append(f"{where}: changed the other therapist's records")
            self.untouched = now

    def check_access(self, rule, method, url, model, response, where) -> None:
        staff_area, portal = rule.rule.startswith("/admin"), rule.rule.startswith("/portal")
        status = response.status_code
        if self.role == "anonymous" and (staff_area or portal):
            location = urlsplit(response.headers.get("Location", ""))
            if status != 302 or location.path != "/login" or parse_qs(location.query).get("next") != [url]:
                self.problems.append(f"{where}: not sent to the login ({status} {response.headers.get('Location')})")
        elif self.role.startswith("therapist") and staff_area:
            if status != 403:
                self.problems.append(f"{where}: a therapist got {status} from a staff page")
        elif self.role == "staff" and portal:
            if status != 403:
                self.problems.append(f"{where}: staff got {status} from the portal")
        elif self.role == "staff" and staff_area and method == "GET" and "/ajax/" not in url:
            # 301: an old address. A page that is no list view gets a client's id: where it reads a
            # record of another kind (a room's week), that id may name none, and 404 is the answer.
            guessed = model is not self.models.get(rule.endpoint.rpartition(".")[0])
            if status not in (200, 301, 302) and not (guessed and status == 404):
                self.problems.append(f"{where}: staff got {status} from a staff page")
        elif self.role.startswith("therapist") and portal and method == "GET" and ONE_RECORD.search(rule.endpoint):
            own = self.models.get(rule.endpoint.rpartition(".")[0])
            if model is own or rule.arguments:
                # A read-only list sends its edit page back to the list, whoever's the id.
                refused = (404, 302) if rule.endpoint.endswith(".edit_view") and not self.editable(rule) else (404,)
                if status not in refused:
                    self.problems.append(f"{where}: another therapist's record answered {status}, not 404")

    def editable(self, rule) -> bool:
        view_endpoint = rule.endpoint.rpartition(".")[0]
        return any(
            view.endpoint == view_endpoint and getattr(view, "can_edit", False)
            for admin in self.app.extensions["admin"]
            for view in admin._views
        )


@pytest.fixture
def fresh_limits():
    """The walk guesses public links by the hundred: the limits it meets (429s) are reset for the
    tests after it."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_every_url_for_every_role_with_the_other_therapists_ids(app, client, role, tmp_path, monkeypatch, fresh_limits):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # the approval letters' folder
    rosa, jorge = two_caseloads()

    def signing_in(email: str):
        def sign_in() -> None:
            # The walk's junk passwords (re-authentication, change of password) lock the login, as
            # they should: it is unlocked before signing in again.
            db.session.execute(update(User).where(User.email == email).values(failed_logins=0, locked_until=None))
            db.session.commit()
            assert login(client, email, PASSWORD).status_code == 302

        sign_in()
        return sign_in

    if role == "therapist A":
        walk = Walk(app, role, client, jorge, (jorge,), signing_in(rosa.therapist.email))
    elif role == "therapist B":
        walk = Walk(app, role, client, rosa, (rosa,), signing_in(jorge.therapist.email))
    elif role == "staff":
        staff = make_admin()
        db.session.commit()
        walk = Walk(app, role, client, jorge, (), signing_in(staff.email))
    else:
        walk = Walk(app, role, client, jorge, (rosa, jorge))
    started = time.monotonic()
    walk.walk()
    print(f"{role}: {walk.requests} requests in {time.monotonic() - started:.1f} s")
    if walk.problems:
        pytest.fail(f"{len(walk.problems)} problems:\n" + "\n".join(walk.problems), pytrace=False)
    assert walk.requests > 300, walk.requests  # the url_map really was walked


def test_a_screen_with_an_argument_the_walk_cannot_fill_fails_it_by_name():
    rule = Rule("/admin/widgets/<int:widget_id>/<export_type>", endpoint="widgets.export")
    Map([rule])
    with pytest.raises(UnfilledArgument, match=r"/admin/widgets/.*no value for widget_id: add one to ARGUMENTS"):
        rule_arguments(rule, {})
