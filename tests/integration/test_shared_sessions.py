"""A couple or family session has one fee, split between its participants, and the right kind.

Through the appointment form as a browser posts it, and through the defaults the form's script
reads (`booking-defaults`): the partner, guardian or sibling added to a booking makes it a couple or
family session, and fees left empty are the participants' shares of the therapist's fee (the odd
cent to the first participant, so the lines add up to the fee). What staff typed is saved as typed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Appointment, AppointmentKind, ClientLink, LinkKind, Modality, Participant
from admin_app.services.scheduling import series
from tests.factories import make_client, make_therapist
from tests.forms import appointment_form
from tests.pages import detail_fields, flashed


def linked(client, related, kind: LinkKind) -> None:
    db.session.add(ClientLink(client=client, related_client=related, kind=kind))
    db.session.flush()


def participants_form(*clients, fees=None) -> dict[str, str]:
    """Rows 1.. of the participants (row 0 is the form's first client): empty fees by default."""
    fields = {"participants-0-fee": (fees or [""])[0], "participants-0-currency": "PEN"}
    for row, client in enumerate(clients, start=1):
        fields |= {
            f"participants-{row}-client": str(client.id),
            f"participants-{row}-attendance": "expected",
            f"participants-{row}-fee": fees[row] if fees else "",
            f"participants-{row}-currency": "PEN",
            f"participants-{row}-billed_to": "client",
            f"participants-{row}-payer": "__None",
        }
    return fields


def saved() -> tuple[AppointmentKind, list[str]]:
    """The booked appointment's kind, and each participant as "name fee currency", in form order."""
    appointment = db.session.scalar(select(Appointment))
    rows = db.session.scalars(
        select(Participant).where(Participant.appointment_id == appointment.id).order_by(Participant.id)
    )
    return appointment.kind, [f"{p.client.full_name} {p.fee:.2f} {p.currency}" for p in rows]


@pytest.fixture
def couple():
    rosa = make_therapist(full_name="Rosa Mendoza", default_fee=Decimal("130.00"), default_currency="PEN")
    ana = make_client(rosa, full_name="Ana Quispe")
    luis = make_client(full_name="Luis Quispe")
    linked(ana, luis, LinkKind.PARTNER_OF)
    db.session.commit()
    return rosa, ana, luis


def test_a_partner_added_with_the_fees_left_empty_makes_a_couple_sharing_one_fee(admin_client, couple):
    rosa, ana, luis = couple

    response = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(rosa, ana, **participants_form(luis)), follow_redirects=True
    )

    assert "Record was successfully created." in flashed(response)
    assert saved() == (
        AppointmentKind.COUPLE,
        ["Ana Quispe 65.00 PEN", "Luis Quispe 65.00 PEN"],
    )
    appointment = db.session.scalar(select(Appointment))
    details = detail_fields(admin_client.get(f"/admin/appointment/details/?id={appointment.id}"))
    assert details["Participants"] == "Ana Quispe · Expected · PEN 65.00 Luis Quispe · Expected · PEN 65.00"
    assert details["Kind"] == "Couple"


def test_a_guardian_and_child_are_a_family_and_the_odd_cent_goes_to_the_first(admin_client):
    rosa = make_therapist(default_fee=Decimal("130.01"), default_currency="PEN")
    child = make_client(rosa, full_name="Mateo Rojas")
    mother = make_client(full_name="Carmen Rojas")
    linked(mother, child, LinkKind.GUARDIAN_OF)
    db.session.commit()

    admin_client.post("/admin/appointment/new/", data=appointment_form(rosa, child, **participants_form(mother)))

    assert saved() == (
        AppointmentKind.FAMILY,
        ["Mateo Rojas 65.01 PEN", "Carmen Rojas 65.00 PEN"],
    )


def test_siblings_with_their_mother_are_a_family_sharing_the_fee_in_thirds(admin_client):
    rosa = make_therapist(default_fee=Decimal("100.00"), default_currency="PEN")
    sofia, tomas, mother = (make_client(rosa, full_name=name) for name in ("Sofía Paz", "Tomás Paz", "Elena Paz"))
    linked(sofia, tomas, LinkKind.SIBLING_OF)
    linked(mother, tomas, LinkKind.GUARDIAN_OF)
    db.session.commit()

    admin_client.post("/admin/appointment/new/", data=appointment_form(rosa, sofia, **participants_form(tomas, mother)))

    assert saved() == (AppointmentKind.FAMILY, ["Sofía Paz 33.34 PEN", "Tomás Paz 33.33 PEN", "Elena Paz 33.33 PEN"])


def test_three_clients_not_related_are_a_group(admin_client):
    rosa = make_therapist(default_fee=Decimal("100.00"), default_currency="PEN")
    uno, dos, tres = (make_client(rosa, full_name=name) for name in ("Uno Ríos", "Dos Vera", "Tres Soto"))
    db.session.commit()

    admin_client.post("/admin/appointment/new/", data=appointment_form(rosa, uno, **participants_form(dos, tres)))

    assert saved() == (AppointmentKind.GROUP, ["Uno Ríos 33.34 PEN", "Dos Vera 33.33 PEN", "Tres Soto 33.33 PEN"])


def test_fees_typed_by_hand_and_a_kind_chosen_by_staff_are_saved_as_typed(admin_client, couple):
    rosa, ana, luis = couple

    admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(rosa, ana, kind="family", **participants_form(luis, fees=["130.00", "90.00"])),
    )

    assert saved() == (
        AppointmentKind.FAMILY,
        ["Ana Quispe 130.00 PEN", "Luis Quispe 90.00 PEN"],
    )


def test_a_fee_left_empty_beside_a_typed_one_is_that_participants_share(admin_client, couple):
    rosa, ana, luis = couple

    admin_client.post(
        "/admin/appointment/new/", data=appointment_form(rosa, ana, **participants_form(luis, fees=["100.00", ""]))
    )

    assert saved() == (
        AppointmentKind.COUPLE,
        ["Ana Quispe 100.00 PEN", "Luis Quispe 65.00 PEN"],
    )


def test_one_client_alone_pays_the_full_fee_in_an_individual_session(admin_client, couple):
    rosa, ana, _luis = couple

    admin_client.post("/admin/appointment/new/", data=appointment_form(rosa, ana, **participants_form()))

    assert saved() == (AppointmentKind.INDIVIDUAL, ["Ana Quispe 130.00 PEN"])


def test_the_forms_defaults_show_the_kind_and_each_participants_share_before_saving(admin_client, couple):
    rosa, ana, luis = couple
    usd = make_therapist(full_name="Tomás Vega", default_fee=Decimal("75.01"), default_currency="USD")
    db.session.commit()
    url = "/admin/book/ajax/booking-defaults/"

    alone = admin_client.get(f"{url}?client={ana.id}").get_json()
    together = admin_client.get(f"{url}?client={ana.id}&with={luis.id}").get_json()
    with_another_therapist = admin_client.get(f"{url}?client={ana.id}&with={luis.id}&therapist={usd.id}").get_json()

    assert (alone["kind"], alone["fees"], alone["currency"]) == ("individual", ["130.00"], "PEN")
    assert (together["kind"], together["fee"], together["fees"]) == ("couple", "130.00", ["65.00", "65.00"])
    assert together["split"] == "One fee of PEN\xa0130.00 for the appointment, split between its 2 participants."
    assert (with_another_therapist["fees"], with_another_therapist["currency"]) == (["37.51", "37.50"], "USD")
    assert with_another_therapist["therapist"] == {"id": rosa.id, "text": "Rosa Mendoza"}  # the client's own


def test_a_weekly_series_of_a_couple_without_a_fee_shares_it_every_time(app, couple):
    rosa, ana, luis = couple
    plan = series.plan_series(
        db.session,
        therapist_id=rosa.id,
        client_ids=[ana.id, luis.id],
        first_start_local=dt.datetime(2027, 1, 7, 10, 0),
        duration_minutes=50,
        interval_weeks=1,
        occurrences=3,
        modality=Modality.VIRTUAL,
        kind=AppointmentKind.INDIVIDUAL,
    )
    series.create_series(db.session, plan=plan, skip_conflicting=False)
    db.session.commit()

    booked = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    assert [a.kind for a in booked] == [AppointmentKind.COUPLE] * 3
    assert {tuple(sorted(f"{p.fee:.2f}" for p in a.participants)) for a in booked} == {("65.00", "65.00")}
