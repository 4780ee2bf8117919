"""Out-of-range and malformed input on every screen: a message or a 404, never a 5xx, and a refused
form writes nothing.

The screens come from the app itself (both Flask-Admin areas and their URL rules), so a screen added
later is fed the same values without editing this file: every list filter, `page`, `sort`, `search`,
every field of every create and edit form, and the query arguments of the custom screens.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from flask_admin.model import BaseModelView
from sqlalchemy import Boolean, String, Text, inspect

from admin_app.extensions import db
from admin_app.models import OutboundMessage, PaymentSource, SurveyInvitation, SurveyResponse
from tests.conftest import login
from tests.factories import (
    make_appointment,
    make_authorization,
    make_client,
    make_payer,
    make_reservation,
    make_site,
    make_therapist,
    make_therapist_user,
)
from tests.pages import flashed, row_ids

HUGE = "9" * 20
LONG = "a" * 5000
BAD_VALUES = (
    "9999-12",
    "9999-12-31",
    "9999-12-31 23:59:59",
    "0001-01-01 00:00:00",
    "31/02/2026",
    "x",
    "-1",
    HUGE,
    "1e400",
    "nan",
    LONG,
    "'",
    "\x00",
)
# What Flask-Admin says when a save failed on something no rule caught (an exception).
UNHANDLED = ("Failed to create record", "Failed to update record", "Failed to delete record", "Integrity error")
ALONE = ("Failed to create record.", "Failed to update record.")
AREAS = ("/admin", "/portal")
# The query arguments the custom screens read (and a few they do not).
QUERY_ARGS = (
    "date",
    "month",
    "year",
    "from",
    "to",
    "therapist",
    "client",
    "site",
    "modality",
    "id",
    "name",
    "query",
    "limit",
    "page",
    "lang",
    "kind",
    "url",
    "as_of",
    "through",
    "run",
    "payer",
    "since",
    "until",
    "state",
)


@pytest.fixture
def records(app):
    """One of each record a screen lists or edits, the therapist's own included."""
    therapist = make_therapist(full_name="Rosa Mendoza")
    make_therapist_user(therapist)
    other = make_therapist(full_name="Luis Paredes")
    client = make_client(therapist, full_name="Ana Quispe")
    partner = make_client(therapist, full_name="Juan Quispe")
    from admin_app.models import ClientLink, LinkKind

    db.session.add(ClientLink(client=client, related_client=partner, kind=LinkKind.PARTNER_OF))
    room = make_site(name="Miraflores", rooms=("Room 1",)).rooms[0]
    make_reservation(room, other, 1, ("09:00", "12:00"), dt.date(2026, 9, 1))
    payer = make_payer(name="Rimac")
    db.session.add(PaymentSource(client=client, payer=payer, member_number="M-1"))
    make_authorization(client, payer, 5, dt.date(2026, 9, 1), dt.date(2026, 12, 31), reference="R-1")
    make_appointment(therapist, client)
    make_appointment(other, partner)
    db.session.add(
        OutboundMessage(
            channel="email",
            recipient="ana@example.com",
            template="appointment_reminder",
            language="es",
            context={},
            client_id=client.id,
            dedupe_key="bad-input",
        )
    )
    invitation = SurveyInvitation(
        month="2026-10",
        client=client,
        recipient=client,
        language="es",
        token_nonce="n" * 32,
        token_hash="h" * 64,
        expires_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    db.session.add(invitation)
    db.session.add(SurveyResponse(invitation=invitation, month="2026-10", nps_score=9))
    db.session.commit()
    return therapist


@pytest.fixture
def clients(app, admin_client, records):
    """The signed-in test client of each area."""
    portal = app.test_client()
    assert login(portal, records.email).status_code == 302
    return {"/admin": admin_client, "/portal": portal}


class Problems(list):
    """What went wrong, collected over the whole run so one failure does not hide the next."""

    def request(self, client, method: str, url: str, **kwargs):
        try:
            response = client.open(url, method=method, **kwargs)
        except Exception as error:  # the test client re-raises what would have been a 500
            db.session.rollback()
            self.append(f"{method} {url[:200]}: {type(error).__name__}: {str(error)[:200]}")
            return None
        if response.status_code >= 500:
            self.append(f"{method} {url[:200]}: {response.status_code}")
            return None
        if response.mimetype != "text/html":
            return response  # a document (a report for today, say): no page to read messages on
        # Flask-Admin's bare "Failed to create record." only heads the form's field errors.
        shown = [m for m in flashed(response) if m.startswith(UNHANDLED) and m not in ALONE]
        if shown:
            self.append(f"{method} {url[:200]}: {shown[0][:200]}")
        return response


def model_views(app):
    """(area URL, view) of every Flask-Admin model screen of both areas."""
    for admin in app.extensions["admin"]:
        for view in admin._views:
            if isinstance(view, BaseModelView):
                yield admin.url, view


def url_of(view, endpoint: str, **args) -> str:
    from flask import url_for

    return url_for(f"{view.endpoint}.{endpoint}", _external=False, **args)


def test_every_list_survives_bad_filters_pages_sorts_and_searches(app, clients):
    problems = Problems()
    for area, view in model_views(app):
        client = clients[area]
        index = url_of(view, "index_view")
        for arg in (view._filter_args or {}) if view._filters else ():
            for value in BAD_VALUES:
                problems.request(client, "GET", f"{index}?{urlencode({f'flt0_{arg}': value})}")
        for name in ("page", "page_size", "sort", "desc", "search"):
            for value in BAD_VALUES:
                problems.request(client, "GET", f"{index}?{urlencode({name: value})}")
        for value in ("x", "-1", HUGE, "0"):
            for endpoint in ("details_view", "edit_view"):
                problems.request(client, "GET", url_of(view, endpoint, id=value))
            problems.request(client, "POST", url_of(view, "action_view"), data={"action": "delete", "rowid": value})
            problems.request(client, "POST", url_of(view, "delete_view"), data={"id": value})
    assert not problems, "\n".join(problems)


def test_every_custom_screen_survives_bad_query_arguments(app, clients):
    problems = Problems()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(AREAS) or rule.arguments or "GET" not in rule.methods:
            continue
        area = "/portal" if rule.rule.startswith("/portal") else "/admin"
        url = rule.build({})[1]
        for value in BAD_VALUES:
            problems.request(clients[area], "GET", f"{url}?{urlencode(dict.fromkeys(QUERY_ARGS, value))}")
            for span in ("day", "week", "month"):
                problems.request(clients[area], "GET", f"{url}?{urlencode({'date': value, 'view': span})}")
    assert not problems, "\n".join(problems)


class FormFields(HTMLParser):
    """The fields of a page's main form as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = "admin-form" in (attrs.get("class") or "")
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "y")
            else:
                self.fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(response) -> dict[str, str]:
    parser = FormFields()
    parser.feed(response.get_data(as_text=True))
    return {
        name: value
        for name, value in parser.fields.items()
        if name not in ("csrf_token", "search", "url", "action", "rowid", "id", "_continue_editing")
        and not name.startswith(("flt", "_add_another"))
    }


def column_of(model, field_name: str):
    """The model column a form field writes, following an inline form's `relation-N-field` name."""
    parts = field_name.split("-")
    if len(parts) == 3 and parts[1].isdigit():
        relation = inspect(model).relationships.get(parts[0])
        if relation is None:
            return None
        model, field_name = relation.mapper.class_, parts[2]
    return model.__table__.columns.get(field_name)


def text_accepts(model, field_name: str, value: str) -> bool:
    """Whether `value` is a legitimate entry for the field: free text that fits its column."""
    column = column_of(model, field_name)
    if column is None:
        return False
    if isinstance(column.type, Boolean):
        return True  # a ticked box, whatever it sends
    if isinstance(column.type, Text):
        return "\x00" not in value
    if isinstance(column.type, String) and not getattr(column.type, "enums", None):
        return "\x00" not in value and len(value) <= (column.type.length or len(value))
    return False


def snapshot(model):
    """Every row of the model's table and of the tables its forms write inline."""
    tables = {model.__table__, *(r.mapper.class_.__table__ for r in inspect(model).relationships)}
    db.session.expire_all()
    with db.engine.connect() as connection:
        return {table.name: sorted(map(tuple, connection.execute(table.select()))) for table in tables}


def test_every_form_refuses_bad_values_without_writing_anything(app, clients):
    problems = Problems()
    for area, view in model_views(app):
        if not view.can_edit:
            continue
        client = clients[area]
        listed = client.get(url_of(view, "index_view"))
        assert listed.status_code == 200, view.endpoint
        ids = sorted(row_ids(listed))
        assert ids, f"{view.endpoint}: no record to edit; add one to the `records` fixture"
        edit_url = url_of(view, "edit_view", id=ids[0])
        baseline = form_fields(client.get(edit_url))
        assert baseline, f"{view.endpoint}: no form fields found"
        for name in baseline:
            for value in BAD_VALUES:
                before = snapshot(view.model)
                response = problems.request(client, "POST", edit_url, data={**baseline, name: value})
                if response is None or text_accepts(view.model, name, value):
                    continue
                if snapshot(view.model) != before:
                    problems.append(f"POST {edit_url} {name}={value[:30]!r}: saved")
        if view.can_create:
            create_url = url_of(view, "create_view")
            for value in BAD_VALUES:
                before = snapshot(view.model)
                data = {name: value for name in baseline if not name.endswith("-id")}
                response = problems.request(client, "POST", create_url, data=data)
                if response is not None and value == LONG and snapshot(view.model) != before:
                    problems.append(f"POST {create_url} every field {value[:30]!r}: saved")
    assert not problems, "\n".join(problems)
