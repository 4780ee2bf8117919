"""Every portal URL, as therapist A with the ids of therapist B's records (issue 18, "Done when").

The URLs are read from the registered portal views, so a screen added later is checked without
editing this test. A signed-in Rosa gives each URL the ids of Jorge's client, appointment,
participant, authorization, payout statement, request and clinical note (and, for a ModelView, the
id of Jorge's record of its own model): nothing of Jorge's shows on any page or export, every page
that reads one record answers 404, and no POST changes any of Jorge's records.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from flask_admin import Admin
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    Authorization,
    Client,
    ClientRequest,
    ClinicalNote,
    Notification,
    Participant,
    PayoutStatement,
    PayoutStatus,
    RequestAction,
    RoomReservation,
)
from admin_app.models.base import utcnow
from admin_app.services.people import clinical_notes
from admin_app.services.tasks import client_requests
from tests.conftest import sign_in_therapist
from tests.factories import (
    book,
    make_authorization,
    make_client,
    make_payer,
    make_reservation,
    make_site,
    make_therapist,
    pays_for,
)

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

# What of Jorge's may never show to Rosa: his client's name and number, his authorization's
# reference, his statement's number, his request's reason, his clinical note, his video link.
SECRETS = (
    "Carlos Quispe",
    "CQ-7731",
    "JORGE-AUTH",
    "PS-JORGE",
    "Carlos wants to stop",
    "panic at night",
    "jorge-room",
    "Sala Jorge",
)
# Pages that read the one record their id names: Jorge's gives 404.
ONE_RECORD = re.compile(r"(details|edit|letter|statement|pdf|ask|clinical_note)")


@pytest.fixture
def jorges(app, client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    icbc = make_payer("ICBC")
    ana = make_client(rosa, full_name="Ana Ríos")
    pays_for(ana, icbc)
    make_authorization(ana, icbc, 2, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="ROSA-AUTH")
    book(rosa, [ana], dt.datetime(2026, 12, 7, 10, 0), payer=icbc)
    carlos = make_client(jorge, full_name="Carlos Quispe", client_number="CQ-7731")
    pays_for(carlos, icbc)
    authorization = make_authorization(
        carlos, icbc, 2, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="JORGE-AUTH"
    )
    appointment = book(jorge, [carlos], dt.datetime(2026, 12, 4, 10, 0), payer=icbc)
    appointment.video_link = "https://video.example.com/jorge-room"
    statement = PayoutStatement(
        therapist=jorge,
        month="2026-11",
        cut_off=dt.date(2026, 11, 30),
        status=PayoutStatus.SENT,
        number="PS-JORGE",
        sent_at=utcnow(),
    )
    db.session.add(statement)
    db.session.flush()
    request = client_requests.ask(
        db.session, therapist=jorge, client=carlos, action=RequestAction.DEACTIVATE, reason="Carlos wants to stop"
    )
    note = clinical_notes.write(db.session, therapist=jorge, client_id=carlos.id, text="panic at night")
    reservation = make_reservation(
        make_site("Sede Jorge", rooms=("Sala Jorge",)).rooms[0], jorge, 2, ("09:00", "12:00"), dt.date(2026, 9, 1)
    )
    db.session.commit()
    sign_in_therapist(client, rosa)
    ids = {
        Client: carlos.id,
        Appointment: appointment.id,
        Participant: appointment.participants[0].id,
        Authorization: authorization.id,
        PayoutStatement: statement.id,
        ClientRequest: request.id,
        ClinicalNote: note.id,
        RoomReservation: reservation.id,
    }
    return SimpleNamespace(rosa=rosa, jorge=jorge, carlos=carlos, ids=ids)


def portal_views(app) -> list:
    [portal] = [admin for admin in app.extensions["admin"] if isinstance(admin, Admin) and admin.endpoint == "portal"]
    return portal._views


def portal_rules(app) -> list[tuple[object, object]]:
    """(view, rule) for every URL of every portal view, its static files left out."""
    found = []
    for view in portal_views(app):
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith(f"{view.endpoint}.") and not rule.endpoint.endswith(".static"):
                found.append((view, rule))
    return found


def url_of(rule, record_id: int) -> str:
    """The rule's path with every path argument set to `record_id`."""
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{argument}>", str(record_id), path)
    return path


def fingerprint(jorges) -> tuple:
    """Jorge's records as a POST could change them (ids may also name Rosa's own records, which she
    may change: only what is Jorge's or about his client counts)."""
    db.session.expire_all()
    carlos = Client.id == jorges.carlos.id
    return (
        db.session.execute(select(Client.active, Client.email, Client.phone, Client.notes).where(carlos)).all(),
        db.session.execute(
            select(Authorization.extension_requested_at).where(Authorization.reference == "JORGE-AUTH")
        ).all(),
        db.session.execute(
            select(
                Participant.attendance,
                Participant.client_id,
                Appointment.notes,
                Appointment.video_link,
                Appointment.status,
            )
            .join(Appointment)
            .where((Appointment.therapist_id == jorges.jorge.id) | (Participant.client_id == jorges.carlos.id))
        ).all(),
        db.session.scalar(select(func.count(ClientRequest.id)).where(ClientRequest.client_id == jorges.carlos.id)),
        db.session.scalar(select(func.count(ClinicalNote.id)).where(ClinicalNote.client_id == jorges.carlos.id)),
        db.session.execute(select(PayoutStatement.status).where(PayoutStatement.number == "PS-JORGE")).all(),
    )


def test_no_portal_page_or_export_shows_another_therapists_records(client, jorges):
    checked = 0
    for view, rule in portal_rules(client.application):
        if "GET" not in rule.methods:
            continue
        own_model = getattr(view, "model", None)
        candidates = {own_model: jorges.ids[own_model]} if own_model in jorges.ids else {}
        candidates |= jorges.ids
        for model, record_id in candidates.items():
            url = url_of(rule, record_id)
            response = client.get(url, query_string={"id": record_id, "month": "2026-11", "client": record_id})
            text = response.get_data(as_text=True)
            assert response.status_code != 500, url
            for secret in SECRETS:
                assert secret not in text, (url, model.__name__, secret)
            if ONE_RECORD.search(rule.endpoint) and (model is own_model or rule.arguments):
                # A read-only list sends its edit page back to the list, whoever's the id.
                refused = (404, 302) if rule.endpoint.endswith(".edit_view") and not view.can_edit else (404,)
                assert response.status_code in refused, (url, model.__name__, response.status_code)
            checked += 1
    assert checked > 100, checked


def test_no_portal_post_changes_another_therapists_records(client, jorges):
    before = fingerprint(jorges)
    posts = 0
    for _view, rule in portal_rules(client.application):
        if "POST" not in rule.methods:
            continue
        for record_id in jorges.ids.values():
            data = {
                "id": record_id,
                "rowid": [str(record_id)],
                "action": "request_extension",
                "reason": "Rosa asks",
                "clinical_note": "Rosa writes",
                "attendance": "no_show",
                "participant": record_id,
                "participant_id": record_id,
                "client": jorges.carlos.id,
                "notes": "Rosa was here",
                "email": "rosa@example.com",
                "phone": "+51987650000",
                "preferred_language": "es",
                "reminder_preference": "email",
            }
            response = client.post(url_of(rule, record_id), query_string={"id": record_id}, data=data)
            assert response.status_code != 500, rule.rule
            posts += 1
    assert fingerprint(jorges) == before
    assert posts > 10, posts
    assert (
        db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == jorges.jorge.user_id)) == 0
    )
