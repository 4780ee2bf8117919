"""The staff screens create, show and edit records through the form, with the practice's rules.

Every write is a POST of the same fields a browser sends (form field names are the model's column
names; inline rows are `<relation>-<n>-<column>`), and every check is on what the user then sees
(list row, details, flashed message, field error) and on the database row.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentStatus,
    Attendance,
    BilledTo,
    Client,
    ClientLink,
    CompensationModel,
    Participant,
    Payer,
    PayerKind,
    ReminderPreference,
    Room,
    Site,
    Therapist,
)
from tests.factories import make_client, make_payer, make_site, make_therapist
from tests.forms import appointment_form as shared_appointment_form
from tests.pages import body, detail_fields, field_errors, flashed, list_rows, text_of


def client_form(**fields) -> dict[str, str]:
    return {
        "full_name": "Ana Quispe",
        "national_id": "45678912",
        "email": "Ana.Quispe@Example.COM",
        "phone": "987 654 321",
        "birth_date": "1990-04-01",
        "preferred_language": "es",
        "reminder_preference": "email",
        "active": "y",
        "notes": "",
        **fields,
    }


def therapist_form(**fields) -> dict[str, str]:
    return {
        "full_name": "Rosa Mendoza",
        "email": "rosa@example.com",
        "phone": "",
        "compensation_model": "commission",
        "commission_percent": "45",
        "service_fee": "",
        "default_fee": "160.00",
        "default_currency": "PEN",
        "site": "__None",
        "active": "y",
        **fields,
    }


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- clients -----------------------------------------------------------------------------------


def test_admin_creates_a_client_who_then_appears_in_the_list_and_details(admin_client):
    form_page = admin_client.get("/admin/client/new/")
    assert form_page.status_code == 200
    for name in ("full_name", "national_id", "email", "phone", "preferred_language", "reminder_preference"):
        assert f'name="{name}"' in body(form_page)

    response = admin_client.post("/admin/client/new/", data=client_form(), follow_redirects=True)

    assert response.status_code == 200
    assert "Record was successfully created." in flashed(response)
    stored = db.session.scalar(select(Client))
    assert stored.phone == "+51987654321"  # "987 654 321" read in PHONE_REGION=PE, kept in E.164
    assert stored.email == "ana.quispe@example.com"
    assert stored.reminder_preference == ReminderPreference.EMAIL
    assert stored.birth_date == dt.date(1990, 4, 1)
    assert [row["full_name"] for row in list_rows(response)] == ["Ana Quispe"]
    row = list_rows(response)[0]
    assert row["phone"] == "+51987654321"
    assert row["national_id"] == "45678912"

    details = admin_client.get(f"/admin/client/details/?id={stored.id}")
    assert details.status_code == 200
    shown = detail_fields(details)
    assert shown["Name"] == "Ana Quispe"
    assert shown["Phone"] == "+51987654321"
    assert shown["Email"] == "ana.quispe@example.com"
    assert shown["Reminders"] == "Email"


def test_admin_edits_a_client_and_the_new_phone_is_normalised(admin_client):
    client = make_client(full_name="Luis Rojas", phone="+51912345678")
    db.session.commit()

    edit_page = admin_client.get(f"/admin/client/edit/?id={client.id}")
    assert edit_page.status_code == 200
    assert 'value="Luis Rojas"' in body(edit_page)
    assert '<option selected value="es">' in body(edit_page)  # the client's language, not the default (en)

    response = admin_client.post(
        f"/admin/client/edit/?id={client.id}",
        data=client_form(
            full_name="Luis Rojas Vega",
            national_id=client.national_id,
            email=client.email,
            phone="(01) 411 2233",
            birth_date="",
        ),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    stored = db.session.get(Client, client.id)
    assert stored.full_name == "Luis Rojas Vega"
    assert stored.phone == "+5114112233"
    assert [row["full_name"] for row in list_rows(response)] == ["Luis Rojas Vega"]


def test_a_client_with_only_a_phone_gets_sms_reminders_by_default(admin_client):
    """DESIGN: reminders by email when there is an email address, SMS when there is only a phone."""
    form_page = body(admin_client.get("/admin/client/new/"))
    assert "Empty: email if there is an address, else SMS" in form_page
    reminders = re.search(r'<select [^>]*id="reminder_preference"[^>]*>(.*?)</select>', form_page, re.S)
    assert " required" not in reminders.group(0).split(">")[0]
    assert '<option selected value="">' in reminders.group(1)  # a new client starts on "automatic"

    response = admin_client.post(
        "/admin/client/new/",
        data=client_form(email="", reminder_preference=""),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response), flashed(response)
    assert db.session.scalar(select(Client.reminder_preference)) == ReminderPreference.SMS


def test_a_new_client_starts_in_the_practices_default_language(app, admin_client):
    """DESIGN: a new client's language is DEFAULT_LOCALE (en for these tests, es in Lima, en in Vancouver)."""
    for default in ("en", "fr"):
        app.config["DEFAULT_LOCALE"] = default
        try:
            page = body(admin_client.get("/admin/client/new/"))
        finally:
            app.config["DEFAULT_LOCALE"] = "en"
        language = re.search(r'<select [^>]*id="preferred_language"[^>]*>(.*?)</select>', page, re.S).group(1)
        assert re.findall(r'<option selected value="(\w+)">', language) == [default]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "12"}, "Phone: 12 is not a valid phone number"),
        ({"phone": "+1 555 0100"}, "Phone: +1 555 0100 is not a valid phone number"),
        ({"email": "ana.example.com"}, "Email: ana.example.com is not a valid email address"),
        ({"email": "", "reminder_preference": "email"}, "Reminders: reminders by email need an email address"),
    ],
)
def test_a_client_with_bad_contact_data_is_refused_and_nothing_is_written(admin_client, fields, message):
    response = admin_client.post("/admin/client/new/", data=client_form(**fields))

    assert response.status_code == 200  # the form again, with what was typed
    assert message in flashed(response)
    assert count(Client) == 0


def test_a_duplicate_national_id_is_refused_beside_the_field_naming_the_client_who_has_it(admin_client):
    """Issue 21: "already exists" left the receptionist searching for who; the message names them."""
    make_client(full_name="Ana Flores Torres", national_id="45678912", client_number="0042")
    db.session.commit()

    response = admin_client.post("/admin/client/new/", data=client_form(national_id="45678912"))

    assert response.status_code == 200
    message = "National ID: 45678912 is already registered for Ana Flores Torres (client 0042)"
    assert field_errors(response)["national_id"] == [message]
    assert message in flashed(response)
    assert count(Client) == 1


def test_a_duplicate_national_id_in_other_letters_case_is_refused_with_a_message_naming_the_field(admin_client):
    make_client(full_name="Luis Rojas", national_id="CE0012345", client_number="0007")
    db.session.commit()

    response = admin_client.post("/admin/client/new/", data=client_form(national_id=" ce0012345 "))

    assert response.status_code == 200
    assert "National ID: CE0012345 is already registered for Luis Rojas (client 0007)" in flashed(response)
    assert count(Client) == 1


def test_editing_a_client_onto_another_clients_national_id_is_refused(admin_client):
    make_client(full_name="Luis Rojas", national_id="CE0012345", client_number="0007")
    other = make_client(national_id="CE0099999")
    db.session.commit()

    response = admin_client.post(
        f"/admin/client/edit/?id={other.id}",
        data=client_form(national_id="ce0012345", email=other.email),
    )

    assert response.status_code == 200
    assert "National ID: CE0012345 is already registered for Luis Rojas (client 0007)" in flashed(response)
    db.session.expire_all()
    assert db.session.get(Client, other.id).national_id == "CE0099999"


def test_a_client_without_a_national_id_is_saved_with_the_practices_next_number(admin_client):
    make_client(national_id="CE0012345")
    db.session.commit()
    first_number = int(db.session.scalar(select(Client.client_number)))

    for name in ("Maple Tremblay", "Olivia Chen"):
        response = admin_client.post(
            "/admin/client/new/",
            data=client_form(full_name=name, national_id="", email="", reminder_preference=""),
            follow_redirects=True,
        )
        assert "Record was successfully created." in flashed(response)

    db.session.expire_all()
    saved = db.session.execute(
        select(Client.full_name, Client.national_id, Client.client_number).where(Client.national_id.is_(None))
    ).all()
    assert sorted(saved) == [
        ("Maple Tremblay", None, str(first_number + 1)),
        ("Olivia Chen", None, str(first_number + 2)),
    ]
    listed = body(admin_client.get("/admin/client/?search=Tremblay"))
    assert "Maple Tremblay" in listed and str(first_number + 1) in listed


def test_a_typed_client_number_is_kept_and_never_handed_out_again(admin_client):
    response = admin_client.post(
        "/admin/client/new/", data=client_form(client_number="40", national_id=""), follow_redirects=True
    )
    assert "Record was successfully created." in flashed(response)
    admin_client.post(
        "/admin/client/new/",
        data=client_form(full_name="Next One", national_id="", email="next@example.com"),
        follow_redirects=True,
    )

    db.session.expire_all()
    numbers = dict(db.session.execute(select(Client.full_name, Client.client_number)).all())
    assert numbers == {"Ana Quispe": "40", "Next One": "41"}


def test_a_client_number_used_by_another_client_is_refused_beside_the_field(admin_client):
    taken = make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/client/new/", data=client_form(client_number=taken.client_number, national_id="")
    )

    assert response.status_code == 200
    assert field_errors(response)["client_number"] == ["Already exists."]
    assert count(Client) == 1


# --- therapists --------------------------------------------------------------------------------


def test_admin_creates_a_commission_therapist(admin_client):
    response = admin_client.post(
        "/admin/therapist/new/",
        data=therapist_form(service_fee="30", phone="987654321"),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Record was successfully created." in flashed(response)
    stored = db.session.scalar(select(Therapist))
    assert stored.compensation_model == CompensationModel.COMMISSION
    assert stored.commission_percent == Decimal("45.00")
    assert stored.service_fee is None  # a commission therapist has no service fee
    assert stored.phone == "+51987654321"
    row = list_rows(response)[0]
    assert row["full_name"] == "Rosa Mendoza"
    assert row["compensation_model"] == "Commission: a percentage of each fee"
    assert row["commission_percent"] == "45.00"
    assert row["default_fee"] == "PEN 160.00"


def test_admin_creates_a_service_fee_therapist(admin_client):
    response = admin_client.post(
        "/admin/therapist/new/",
        data=therapist_form(compensation_model="service_fee", commission_percent="40", service_fee="35.50"),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response)
    stored = db.session.scalar(select(Therapist))
    assert stored.service_fee == Decimal("35.50")
    assert stored.commission_percent is None
    assert list_rows(response)[0]["service_fee"] == "PEN 35.50"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"commission_percent": ""}, "Commission %: a commission between 0 and 100 is required"),
        ({"commission_percent": "120"}, "Commission %: a percentage from 0 to 100"),
        ({"compensation_model": "service_fee", "service_fee": ""}, "Service fee: this field is required"),
        ({"compensation_model": "service_fee", "service_fee": "-5"}, "Service fee: must not be negative"),
        ({"default_fee": "-1"}, "Default fee: must not be negative"),
        ({"email": "rosa@"}, "Email: rosa@ is not a valid email address"),
    ],
)
def test_a_therapist_breaking_the_compensation_rules_is_refused(admin_client, fields, message):
    response = admin_client.post("/admin/therapist/new/", data=therapist_form(**fields))

    assert response.status_code == 200
    # A bound of the column is said under its field (without the label beside it); a rule, in a message.
    under_fields = [error for errors in field_errors(response).values() for error in errors]
    assert message in flashed(response) or message.split(": ", 1)[1] in under_fields
    assert count(Therapist) == 0


def test_a_therapist_email_used_by_another_is_refused_whatever_its_case(admin_client):
    make_therapist(email="rosa@example.com")
    db.session.commit()

    response = admin_client.post("/admin/therapist/new/", data=therapist_form(email="Rosa@Example.com"))

    assert response.status_code == 200
    assert "Email: rosa@example.com is already used by another therapist" in flashed(response)
    assert count(Therapist) == 1


def test_admin_edits_a_therapist_from_commission_to_service_fee(admin_client):
    therapist = make_therapist(full_name="Rosa Mendoza", email="rosa@example.com")
    db.session.commit()

    response = admin_client.post(
        f"/admin/therapist/edit/?id={therapist.id}",
        data=therapist_form(compensation_model="service_fee", service_fee="40"),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    stored = db.session.get(Therapist, therapist.id)
    assert (stored.compensation_model, stored.service_fee, stored.commission_percent) == (
        CompensationModel.SERVICE_FEE,
        Decimal("40.00"),
        None,
    )


# --- appointments ------------------------------------------------------------------------------


def appointment_form(therapist, client, **fields) -> dict[str, str]:
    return shared_appointment_form(
        therapist, client, **{"starts_at": "2026-03-10 18:30", "ends_at": "2026-03-10 19:20", **fields}
    )


def test_the_appointment_form_has_an_inline_participant(admin_client):
    page = body(admin_client.get("/admin/appointment/new/"))
    assert 'id="participants"' in page
    assert "Add a participant" in page
    for name in ("client", "attendance", "fee", "currency", "billed_to", "payer"):
        assert f"name=&#34;{name}&#34;" in page  # the row template, prefixed participants-N- by the page script
    assert "Clinic time, YYYY-MM-DD HH:MM" in page
    # The end may be left empty (default duration): the browser must not insist on it.
    assert re.search(r'<input [^>]*id="ends_at"[^>]*>', page) and " required" not in re.search(
        r'<input [^>]*id="ends_at"[^>]*>', page
    ).group(0)


def test_an_appointment_entered_in_lima_time_is_stored_in_utc_and_listed_in_lima_time(admin_client):
    therapist = make_therapist(full_name="Rosa Mendoza")
    client = make_client(full_name="Ana Quispe")
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(therapist, client), follow_redirects=True
    )

    assert response.status_code == 200
    assert "Record was successfully created." in flashed(response)
    appointment = db.session.scalar(select(Appointment))
    # Lima is UTC-5 all year: 18:30 local is 23:30 UTC.
    assert appointment.starts_at == dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)
    assert appointment.ends_at == dt.datetime(2026, 3, 11, 0, 20, tzinfo=dt.UTC)
    [participant] = appointment.participants
    assert (participant.client_id, participant.fee, participant.currency) == (client.id, Decimal("150.00"), "PEN")
    assert participant.attendance == Attendance.EXPECTED
    row = list_rows(response)[0]
    assert row["starts_at"] == "2026-03-10 18:30"
    assert row["ends_at"] == "2026-03-10 19:20"
    assert row["therapist"] == "Rosa Mendoza"
    assert row["participants"] == "Ana Quispe · Expected"

    edit_page = admin_client.get(f"/admin/appointment/edit/?id={appointment.id}")
    assert 'value="2026-03-10 18:30"' in body(edit_page)  # the form shows clinic time back


def test_an_appointment_in_vancouver_follows_daylight_saving(app, admin_client):
    app.config["CLINIC_TIMEZONE"] = "America/Vancouver"
    try:
        therapist = make_therapist()
        client = make_client()
        db.session.commit()
        response = admin_client.post(
            "/admin/appointment/new/",
            data=appointment_form(therapist, client, starts_at="2026-03-09 09:00", ends_at="2026-03-09 09:50"),
            follow_redirects=True,
        )
        assert "Record was successfully created." in flashed(response)
        # 2026-03-08 02:00 PST → PDT; on the 9th Vancouver is UTC-7.
        assert db.session.scalar(select(Appointment.starts_at)) == dt.datetime(2026, 3, 9, 16, 0, tzinfo=dt.UTC)
        assert list_rows(response)[0]["starts_at"] == "2026-03-09 09:00"

        skipped = admin_client.post(
            "/admin/appointment/new/",
            data=appointment_form(therapist, client, starts_at="2026-03-08 02:30", ends_at="2026-03-08 03:30"),
        )
        assert skipped.status_code == 200
        assert field_errors(skipped)["starts_at"] == [
            "2026-03-08 02:30 does not exist in America/Vancouver (the clocks skip it for daylight saving)."
        ]
        assert count(Appointment) == 1
    finally:
        app.config["CLINIC_TIMEZONE"] = "America/Lima"


def test_an_appointment_without_an_end_gets_the_default_duration(admin_client):
    therapist = make_therapist()
    client = make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(therapist, client, ends_at=""), follow_redirects=True
    )

    assert "Record was successfully created." in flashed(response), flashed(response)
    appointment = db.session.scalar(select(Appointment))
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=50)


def test_an_on_site_appointment_needs_a_room(admin_client):
    therapist = make_therapist()
    client = make_client()
    room = make_site(name="Miraflores", rooms=("Sala 1",)).rooms[0]
    db.session.commit()

    refused = admin_client.post("/admin/appointment/new/", data=appointment_form(therapist, client, modality="on_site"))
    assert refused.status_code == 200
    assert "Room: an on-site appointment needs a room" in flashed(refused)
    assert count(Appointment) == 0

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(therapist, client, modality="on_site", room=str(room.id)),
        follow_redirects=True,
    )
    assert "Record was successfully created." in flashed(response)
    assert db.session.scalar(select(Appointment.room_id)) == room.id
    assert list_rows(response)[0]["room"] == "Miraflores · Sala 1"
    assert list_rows(response)[0]["modality"] == "On-site"


def test_a_participant_billed_to_a_payer_needs_the_payer(admin_client):
    therapist = make_therapist()
    client = make_client()
    payer = make_payer(name="Pacífico Seguros")
    db.session.commit()

    refused = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(therapist, client, **{"participants-0-billed_to": "payer"})
    )
    assert "Payer: choose the payer this participant is billed to" in flashed(refused)
    assert count(Appointment) == 0

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(
            therapist, client, **{"participants-0-billed_to": "payer", "participants-0-payer": str(payer.id)}
        ),
        follow_redirects=True,
    )
    assert "Record was successfully created." in flashed(response)
    participant = db.session.scalar(select(Participant))
    assert (participant.billed_to, participant.payer_id) == (BilledTo.PAYER, payer.id)


def test_a_participant_in_a_currency_the_practice_does_not_use_is_refused(admin_client):
    therapist = make_therapist()
    client = make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/", data=appointment_form(therapist, client, **{"participants-0-currency": "EUR"})
    )

    # The form only offers the practice's currencies; anything else is refused beside the field.
    assert field_errors(response)["participants-0-currency"] == ["Not a valid choice."]
    assert count(Appointment) == 0
    assert count(Participant) == 0


def test_cancelling_an_appointment_cancels_its_expected_participants(admin_client):
    therapist = make_therapist()
    client = make_client(full_name="Ana Quispe")
    db.session.commit()
    admin_client.post("/admin/appointment/new/", data=appointment_form(therapist, client))
    appointment = db.session.scalar(select(Appointment))
    participant_id = appointment.participants[0].id

    response = admin_client.post(
        f"/admin/appointment/edit/?id={appointment.id}",
        data=appointment_form(therapist, client, status="cancelled", **{"participants-0-id": str(participant_id)}),
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED
    assert db.session.get(Participant, participant_id).attendance == Attendance.CANCELLED
    assert count(Participant) == 1  # the same row, not a second participant
    assert list_rows(response)[0]["participants"] == "Ana Quispe · Cancelled"


# --- payers, sites and rooms -------------------------------------------------------------------


def test_admin_creates_and_edits_a_payer(admin_client):
    response = admin_client.post(
        "/admin/payer/new/",
        data={"name": "Pacífico Seguros", "kind": "insurer", "billing_email": "facturas@pacifico.pe", "active": "y"},
        follow_redirects=True,
    )
    assert "Record was successfully created." in flashed(response)
    payer = db.session.scalar(select(Payer))
    assert (payer.name, payer.kind) == ("Pacífico Seguros", PayerKind.INSURER)
    row = list_rows(response)[0]
    assert (row["name"], row["kind"], row["billing_email"]) == ("Pacífico Seguros", "Insurer", "facturas@pacifico.pe")

    response = admin_client.post(
        f"/admin/payer/edit/?id={payer.id}",
        data={"name": "Pacífico EPS", "kind": "employer", "billing_email": "", "active": "y"},
        follow_redirects=True,
    )
    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Payer, payer.id).kind == PayerKind.EMPLOYER
    assert list_rows(response)[0]["kind"] == "Employee assistance programme"


def test_admin_creates_a_site_with_a_room_and_the_room_is_listed(admin_client):
    form_page = body(admin_client.get("/admin/site/new/"))
    assert 'id="rooms"' in form_page

    response = admin_client.post(
        "/admin/site/new/",
        data={
            "name": "Miraflores",
            "address": "Av. Larco 123",
            "active": "y",
            "rooms-0-name": "Sala 1",
            "rooms-0-active": "y",
        },
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response)
    site = db.session.scalar(select(Site))
    assert [room.name for room in site.rooms] == ["Sala 1"]
    assert list_rows(response)[0]["name"] == "Miraflores"
    rooms = list_rows(admin_client.get("/admin/room/"))
    assert [(row["site"], row["name"]) for row in rooms] == [("Miraflores", "Sala 1")]
    assert count(Room) == 1


# --- links between clients, on the client's own form ---------------------------------------------


def edit_client(admin_client, client: Client, **fields):
    """Post the client's edit form unchanged but for `fields` (inline rows included)."""
    form = client_form(
        **{
            "full_name": client.full_name,
            "national_id": client.national_id,
            "email": client.email,
            "phone": "",
            "birth_date": "",
            **fields,
        }
    )
    return admin_client.post(f"/admin/client/edit/?id={client.id}", data=form, follow_redirects=True)


def links_of(client: Client) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(ClientLink.client_id, ClientLink.kind, ClientLink.related_client_id).order_by(ClientLink.id)
    ).all()
    names = {c.id: c.full_name for c in db.session.scalars(select(Client))}
    return [(names[a], kind.value, names[b]) for a, kind, b in rows if client.id in (a, b)]


def linked_on_page(admin_client, client) -> list[str]:
    """The lines of the Links section of the client's page."""
    page = body(admin_client.get(f"/admin/client/details/?id={client.id}"))
    links = re.search(r'<ul[^>]*id="client-link-list">(.*?)</ul>', page, re.S)
    return [text_of(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", links.group(1), re.S)] if links else []


@pytest.fixture
def family(app):
    luis = make_client(full_name="Luis Quispe", national_id="71234567")
    rosa = make_client(full_name="Rosa Quispe", national_id="40123456")
    db.session.commit()
    return luis, rosa


def test_a_guardian_added_on_the_minors_own_form_is_saved_and_shown_on_both_clients(admin_client, family):
    """Issue #12: Clients → Edit → new "Linked from" row → Rosa, guardian of: said "saved", wrote nothing."""
    luis, rosa = family
    form = body(admin_client.get(f"/admin/client/edit/?id={luis.id}"))
    assert "Linked from" in form and "What the client above is to this client" in form
    found = admin_client.post(
        "/admin/client/ajax/lookup/?name=clientlink-client", data={"query": "Rosa"}
    )  # the row's picker
    assert found.get_json() == [[rosa.id, "Rosa Quispe (40123456)"]]

    response = edit_client(
        admin_client,
        luis,
        **{"linked_from-0-id": "", "linked_from-0-client": str(rosa.id), "linked_from-0-kind": "guardian_of"},
    )

    assert "Record was successfully saved." in flashed(response)
    assert links_of(luis) == [("Rosa Quispe", "guardian_of", "Luis Quispe")]
    assert linked_on_page(admin_client, luis) == [f"in the care of Rosa Quispe (client {rosa.client_number})"]
    assert linked_on_page(admin_client, rosa) == [f"guardian of Luis Quispe (client {luis.client_number})"]
    # Each side's form shows it where it can be edited: Rosa's links, Luis's "linked from".
    [link_id] = db.session.scalars(select(ClientLink.id))
    assert f'name="links-0-id" type="hidden" value="{link_id}"' in body(
        admin_client.get(f"/admin/client/edit/?id={rosa.id}")
    )
    assert f'name="linked_from-0-id" type="hidden" value="{link_id}"' in body(
        admin_client.get(f"/admin/client/edit/?id={luis.id}")
    )


def test_a_link_removed_on_the_other_clients_form_is_gone_from_both(admin_client, family):
    luis, rosa = family
    edit_client(
        admin_client, rosa, **{"links-0-id": "", "links-0-kind": "guardian_of", "links-0-related_client": str(luis.id)}
    )
    [link_id] = db.session.scalars(select(ClientLink.id))

    response = edit_client(
        admin_client,
        luis,
        **{
            "linked_from-0-id": str(link_id),
            "linked_from-0-client": str(rosa.id),
            "linked_from-0-kind": "guardian_of",
            "del-linked_from-0": "y",
        },
    )

    assert "Record was successfully saved." in flashed(response)
    assert links_of(luis) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"linked_from-0-client": "self", "linked_from-0-kind": "guardian_of"},
            "Related client: a client cannot be linked to themselves",
        ),
        (
            {"links-0-related_client": "self", "links-0-kind": "sibling_of"},
            "Related client: a client cannot be linked to themselves",
        ),
        (  # Rosa is already Luis's guardian: the same link again from his side
            {"linked_from-1-client": "rosa", "linked_from-1-kind": "guardian_of"},
            "Luis Quispe Díaz and Rosa Quispe are already linked (guardian of); each link is kept once.",
        ),
        (  # ... or the other way round
            {"links-0-related_client": "rosa", "links-0-kind": "guardian_of"},
            "Luis Quispe Díaz and Rosa Quispe are already linked (guardian of); each link is kept once.",
        ),
    ],
)
def test_a_link_against_the_rules_is_refused_on_the_form_and_nothing_is_saved(admin_client, family, fields, message):
    luis, rosa = family
    db.session.add(ClientLink(client=rosa, related_client=luis, kind="guardian_of"))
    db.session.commit()
    [existing] = db.session.scalars(select(ClientLink.id))
    ids = {"self": str(luis.id), "rosa": str(rosa.id)}
    posted = {name: ids.get(value, value) for name, value in fields.items()}
    kept = {
        "linked_from-0-id": str(existing),
        "linked_from-0-client": str(rosa.id),
        "linked_from-0-kind": "guardian_of",
    }

    # The name changes too: a refused link must not let the rest of the form through.
    response = edit_client(admin_client, luis, **{**kept, **posted}, full_name="Luis Quispe Díaz")

    assert message in flashed(response)
    assert "Record was successfully saved." not in flashed(response)
    assert links_of(luis) == [("Rosa Quispe", "guardian_of", "Luis Quispe")]
    db.session.expire_all()
    assert db.session.get(Client, luis.id).full_name == "Luis Quispe"


def test_the_client_links_screen_refuses_a_link_the_pair_already_has(admin_client, family):
    luis, rosa = family
    db.session.add(ClientLink(client=rosa, related_client=luis, kind="guardian_of"))
    db.session.commit()

    response = admin_client.post(
        "/admin/clientlink/new/",
        data={"client": str(luis.id), "kind": "guardian_of", "related_client": str(rosa.id)},
        follow_redirects=True,
    )

    assert "Luis Quispe and Rosa Quispe are already linked (guardian of); each link is kept once." in flashed(response)
    assert links_of(luis) == [("Rosa Quispe", "guardian_of", "Luis Quispe")]
