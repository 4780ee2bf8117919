"""Reads of protected data in the audit trail: the client's pages (staff and portal), the client list
(one event per page, with its row count), the screens that show survey comments, receipts and payments."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import AuditAction, AuditEvent, Payment
from tests.conftest import sign_in_therapist
from tests.factories import make_client, make_therapist
from tests.integration.billing.test_receipts import carla_paid, in_vancouver  # noqa: F401 (fixtures)
from tests.integration.test_survey_screens import MY_RATINGS, PERIOD, RESPONSES, as_therapist
from tests.integration.test_survey_screens import practice as survey_practice  # noqa: F401 (a fixture)


def reads() -> list[tuple]:
    db.session.expire_all()
    found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.VIEW).order_by(AuditEvent.id))
    return [(e.entity, e.entity_id, e.actor, e.detail) for e in found]


def test_the_staff_opening_a_clients_details_and_edit_pages_is_recorded(admin_client):
    client = make_client(full_name="Ana Quispe")
    db.session.commit()

    assert admin_client.get(f"/admin/client/details/?id={client.id}").status_code == 200
    assert admin_client.get(f"/admin/client/edit/?id={client.id}").status_code == 200

    assert [r for r in reads() if r[0] == "client"] == [
        ("client", client.id, "staff@example.com", None),
        ("client", client.id, "staff@example.com", None),
    ]


def test_a_client_list_page_is_one_event_with_its_row_count_and_no_search_text(admin_client):
    make_client(full_name="Ana Quispe")
    make_client(full_name="Luis Quispe")
    make_client(full_name="Rosa Ruiz")
    db.session.commit()

    admin_client.get("/admin/client/")
    admin_client.get("/admin/client/?search=Quispe")

    assert reads() == [
        ("client", None, "staff@example.com", {"screen": "client", "page": 0, "rows": 3, "search": "no"}),
        ("client", None, "staff@example.com", {"screen": "client", "page": 0, "rows": 2, "search": "yes"}),
    ]
    assert "Quispe" not in json.dumps(reads())


def test_the_portal_client_page_is_recorded_and_another_therapists_client_is_not_shown(client):
    therapist = make_therapist(full_name="Rosa Mendoza")
    mine, theirs = make_client(therapist), make_client(make_therapist(full_name="Otro Terapeuta"))
    sign_in_therapist(client, therapist)
    db.session.commit()

    assert client.get(f"/portal/clients/details/?id={mine.id}").status_code == 200
    assert client.get(f"/portal/clients/details/?id={theirs.id}").status_code == 404

    details = [r for r in reads() if r[1] is not None and r[0] == "client"]
    assert details == [("client", mine.id, therapist.email, None)]


@pytest.mark.parametrize("clock", ["2026-12-10T15:00Z"], indirect=True)
def test_survey_comments_shown_are_recorded_by_response_on_the_staff_list_and_details(admin_client, survey_practice):  # noqa: F811
    answers = survey_practice.answers

    admin_client.get(RESPONSES)
    admin_client.get(f"{RESPONSES}details/?id={answers.diego.id}")

    listed, opened = [r for r in reads() if r[0] == "survey_response"]
    assert listed[3]["rows"] == 4
    assert sorted(listed[3]["ids"]) == sorted(
        a.id for a in (answers.carla, answers.diego, answers.elena, answers.fabio)
    )
    assert opened == ("survey_response", answers.diego.id, "staff@example.com", None)


@pytest.mark.parametrize("clock", ["2026-12-10T15:00Z"], indirect=True)
def test_a_therapist_reading_their_comments_is_recorded_by_month_and_count(client, survey_practice):  # noqa: F811
    as_therapist(client, survey_practice.ana)

    assert client.get(MY_RATINGS + PERIOD).status_code == 200

    [read] = [r for r in reads() if r[0] == "survey_response"]
    assert read == (
        "survey_response",
        None,
        survey_practice.ana.email,
        {"screen": "my_ratings", "comments": {"2026-10": 3}},
    )


def test_receipts_and_payments_shown_are_recorded(admin_client, carla_paid):  # noqa: F811
    db.session.commit()
    with_receipt = set(db.session.scalars(select(Payment.id).where(Payment.receipt_number.is_not(None))))
    every_payment = db.session.scalar(select(func.count(Payment.id)))

    assert admin_client.get("/admin/receipts/").status_code == 200
    assert admin_client.get(f"/admin/payments/details/?id={carla_paid.id}").status_code == 200
    assert admin_client.get("/admin/payments/").status_code == 200

    listed, opened, payments_page = [r for r in reads() if r[0] == "payment"]
    assert listed[:3] == ("payment", None, "staff@example.com")
    assert (listed[3]["screen"], listed[3]["rows"], set(listed[3]["ids"])) == (
        "receipts",
        len(with_receipt),
        with_receipt,
    )
    assert carla_paid.id in with_receipt
    assert opened == ("payment", carla_paid.id, "staff@example.com", None)
    assert payments_page[3] == {"screen": "payment", "page": 0, "rows": every_payment, "search": "no"}
    assert "Carla" not in json.dumps(reads())
