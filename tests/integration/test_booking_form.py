"""The new-appointment form: laid out client first, dates in the reader's format, opened from a slot of
the book and back to it, and what saving would refuse said before saving."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Appointment, Attendance, Modality
from tests.conftest import login
from tests.factories import book, make_admin, make_client, make_room, make_therapist
from tests.pages import body, flashed, text_of

DAY = dt.date(2026, 12, 13)  # a Sunday
DAY_VIEW = f"/admin/book/?view=day&date={DAY.isoformat()}"


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with that id."""
    return re.search(rf'<[^>]*\bid="{element_id}"[^>]*>', page).group(0)


def position(page: str, element_id: str) -> int:
    return page.index(f'id="{element_id}"')


def signed_in(client, locale: str):
    make_admin(email=f"{locale}@example.com", locale=locale)
    db.session.commit()
    assert login(client, f"{locale}@example.com").status_code == 302
    return client


def form_data(therapist, client, starts_at: str, **fields) -> dict[str, str]:
    return {
        "therapist": str(therapist.id),
        "starts_at": starts_at,
        "duration_minutes": "50",
        "ends_at": "",
        "kind": "individual",
        "modality": "virtual",
        "status": "scheduled",
        "participants-0-client": str(client.id),
        "participants-0-attendance": "expected",
        "participants-0-fee": "",
        "participants-0-currency": "PEN",
        "participants-0-billed_to": "client",
        **fields,
    }


def test_the_form_reads_in_booking_order_with_the_rest_folded_away(admin_client):
    page = body(admin_client.get("/admin/appointment/new/"))

    order = [
        "participants-0-client",
        "therapist",
        "participants-0-fee",
        "participants-0-payer",
        "modality",
        "room",
        "starts_at",
        "duration_minutes",
        "clash-messages",
        "participants-button",
    ]
    assert [position(page, element) for element in order] == sorted(position(page, element) for element in order)
    more = re.search(r'<details class="booking-more[^"]*"[^>]*>(.*?)</details>\s*</div>\s*</div>', page, re.S)
    assert more is not None and "More" in more.group(1)
    for folded in ("kind", "ends_at", "status", "video_link", "notes", "participants-0-attendance"):
        assert f'id="{folded}"' in more.group(1), folded
    # Two columns from a large screen up, one below.
    assert page.count('<div class="col-lg-6">') == 2
    # The first participant is on the form from the start; the next one added is the second.
    assert 'id="participants-0" class="inline-field d-none"' in page
    assert 'data-inline-add="participants"' in tag(page, "participants-button")


def test_an_empty_slot_of_the_book_prefills_therapist_and_start_and_saving_returns_to_that_day(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza", default_fee=Decimal("80.00"), default_currency="PEN")
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()
    opened = f"/admin/appointment/new/?therapist={rosa.id}&starts_at={DAY.isoformat()}T20:00&url={quote(DAY_VIEW)}"

    page = body(admin_client.get(opened))

    assert "Rosa Mendoza" in tag(page, "therapist")
    assert f'value="{DAY.isoformat()} 20:00"' in tag(page, "starts_at")  # English: the ISO order
    assert 'type="text"' in tag(page, "starts_at")  # no browser date control in the browser's order
    saved = admin_client.post(opened, data=form_data(rosa, ana, f"{DAY.isoformat()} 20:00"))
    assert saved.status_code == 302
    assert saved.headers["Location"] == DAY_VIEW
    day = admin_client.get(saved.headers["Location"])
    assert "Record was successfully created." in flashed(day)
    appointment = db.session.scalar(select(Appointment))
    assert appointment.therapist_id == rosa.id
    assert [p.client_id for p in appointment.participants] == [ana.id]


@pytest.mark.parametrize(
    "back",
    [
        "http://evil.example.com/admin/book/",
        "//evil.example.com/",
        "http://localhost/admin/book/",
        "javascript:alert(1)",
    ],
)
def test_saving_never_follows_an_address_off_the_site_nor_an_absolute_one(admin_client, back):
    rosa = make_therapist()
    ana = make_client(rosa)
    db.session.commit()

    saved = admin_client.post(
        f"/admin/appointment/new/?url={quote(back)}", data=form_data(rosa, ana, f"{DAY.isoformat()} 18:00")
    )

    assert saved.status_code == 302
    assert saved.headers["Location"] == "/admin/appointment/"
    assert db.session.scalar(select(Appointment)) is not None


def test_spanish_and_french_read_and_show_the_day_first(client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    ana = make_client(rosa)
    db.session.commit()
    signed_in(client, "es")

    page = body(client.get(f"/admin/appointment/new/?therapist={rosa.id}&starts_at={DAY.isoformat()}T20:00"))
    assert 'value="13/12/2026 20:00"' in tag(page, "starts_at")
    assert "Hora de la clínica, DD/MM/AAAA HH:MM" in page  # the hint

    assert client.post("/admin/appointment/new/", data=form_data(rosa, ana, "13/12/2026 20:00")).status_code == 302
    # The ISO form that links and scripts send is read too.
    assert client.post("/admin/appointment/new/", data=form_data(rosa, ana, "2026-12-14T09:30")).status_code == 302
    starts = sorted(a.starts_at for a in db.session.scalars(select(Appointment)))
    assert starts == [
        dt.datetime(2026, 12, 14, 1, 0, tzinfo=dt.UTC),  # 20:00 in Lima
        dt.datetime(2026, 12, 14, 14, 30, tzinfo=dt.UTC),
    ]


@pytest.mark.parametrize(("locale", "typed"), [("en", "12/13/2026 20:00"), ("es", "2026/12/13 20:00")])
def test_a_date_in_no_format_of_the_language_is_explained_not_saved(client, locale, typed):
    rosa = make_therapist()
    ana = make_client(rosa)
    db.session.commit()
    signed_in(client, locale)

    response = client.post("/admin/appointment/new/", data=form_data(rosa, ana, typed))

    assert response.status_code == 200
    expected = {
        "en": "Expected a date and time as YYYY-MM-DD HH:MM",
        "es": "Se esperaba una fecha y hora como DD/MM/AAAA HH:MM",
    }[locale]
    assert expected in text_of(body(response))
    assert db.session.scalar(select(Appointment)) is None


def test_the_first_participant_stays_on_top_when_the_form_comes_back_with_an_error(admin_client):
    rosa = make_therapist()
    ana = make_client(rosa, full_name="Ana Quispe")
    db.session.commit()

    page = body(admin_client.post("/admin/appointment/new/", data=form_data(rosa, ana, "not a date")))

    assert "Ana Quispe" in tag(page, "participants-0-client")
    assert position(page, "participants-0-client") < position(page, "therapist")
    assert "Expected a date and time as YYYY-MM-DD HH:MM" in page


def test_a_form_posted_without_participants_comes_back_with_the_client_search_on_top(admin_client):
    response = admin_client.post("/admin/appointment/new/", data={"starts_at": "", "modality": "virtual"})

    assert response.status_code == 200
    page = body(response)
    assert 'name="participants-0-client"' in tag(page, "participants-0-client")
    assert position(page, "participants-0-client") < position(page, "therapist")
    assert db.session.scalar(select(Appointment)) is None


def test_an_inactive_therapist_or_a_wrong_start_in_the_link_prefills_nothing(admin_client):
    gone = make_therapist(full_name="Gone Therapist", active=False)
    db.session.commit()

    response = admin_client.get(f"/admin/appointment/new/?therapist={gone.id}&starts_at=2026-02-31T10:00")

    assert response.status_code == 200
    page = body(response)
    assert "Gone Therapist" not in tag(page, "therapist")
    assert 'value=""' in tag(page, "starts_at")


def clashes(http, **args) -> list[str]:
    response = http.get("/admin/book/ajax/booking-clashes/", query_string=args)
    assert response.status_code == 200
    return response.get_json()["messages"]


def test_the_clashes_the_save_refuses_are_said_before_saving_in_the_same_words(admin_client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    luis = make_therapist(full_name="Luis Vega")
    ana = make_client(rosa, full_name="Ana Quispe")
    other = make_client(luis, full_name="Carla Ríos")
    room = make_room("Consultorio 1")
    book(rosa, [ana], dt.datetime(2026, 12, 13, 18, 0), room=room)
    db.session.commit()

    same_therapist = clashes(admin_client, therapist=rosa.id, starts_at="2026-12-13 18:30", client=other.id)
    refused = admin_client.post("/admin/appointment/new/", data=form_data(rosa, other, "2026-12-13 18:30"))

    assert same_therapist == ["Clashes with Rosa Mendoza's appointment on 2026-12-13 18:00–18:50 (same therapist)."]
    assert same_therapist[0] in text_of(body(refused))
    # The room, only for an on-site booking; the client, unless their attendance is cancelled.
    on_site = {"therapist": luis.id, "starts_at": "2026-12-13T18:40", "room": room.id, "client": other.id}
    assert clashes(admin_client, **on_site, modality="on_site") == [
        f"Clashes with Rosa Mendoza's appointment on 2026-12-13 18:00–18:50 in room {room.site.name} · Consultorio 1."
    ]
    assert clashes(admin_client, **on_site, modality="virtual") == []
    twice = {"therapist": luis.id, "starts_at": "2026-12-13 18:00", "client": ana.id}
    assert clashes(admin_client, **twice) == [
        "Ana Quispe already has an appointment on 2026-12-13 18:00–18:50 with Rosa Mendoza."
    ]
    assert clashes(admin_client, **twice, attendance=Attendance.CANCELLED.value) == []
    # Back to back is no clash; the duration sets the end, as on saving.
    assert clashes(admin_client, therapist=rosa.id, starts_at="2026-12-13 17:10", duration_minutes=50) == []
    assert clashes(admin_client, therapist=rosa.id, starts_at="2026-12-13 17:10", duration_minutes=60) != []


@pytest.mark.parametrize(
    "args",
    [
        {},
        {"starts_at": "soon", "therapist": "x"},
        {"starts_at": "2026-12-13 18:00", "therapist": "99999999999999999999", "client": "'; drop"},
        {"starts_at": "2026-12-13 18:00", "duration_minutes": "-5", "modality": "moon", "attendance": "?"},
        {"starts_at": "1800-01-01 10:00", "therapist": "1"},
    ],
)
def test_the_clash_check_takes_any_input_without_failing(admin_client, args):
    assert clashes(admin_client, **args) == []


def test_the_clash_check_is_for_staff_only(therapist_client):
    assert therapist_client.get("/admin/book/ajax/booking-clashes/").status_code == 403


def lookup(client, typed: str) -> list[str]:
    response = client.post("/admin/book/ajax/lookup/?name=client", data={"query": typed, "offset": 0, "limit": 10})
    assert response.status_code == 200
    return [label for _id, label in response.get_json()]


def test_the_client_search_finds_by_name_number_national_id_and_phone_as_typed(admin_client):
    ana = make_client(full_name="Ana Quispe", national_id="45879632", phone="+51987654321")
    make_client(full_name="Luis Vega", national_id="10293847", phone="+51911222333")
    db.session.commit()
    shown = str(ana)

    assert lookup(admin_client, "quispe") == [shown]
    assert shown in lookup(admin_client, ana.client_number)  # a number may also be part of another
    assert lookup(admin_client, "4587963") == [shown]
    assert lookup(admin_client, "987 654 321") == [shown]
    assert lookup(admin_client, "+51 987-654-321") == [shown]
    assert lookup(admin_client, "(987) 654") == [shown]
    assert lookup(admin_client, "nobody") == []


def test_the_clash_check_reads_the_start_in_the_readers_format(client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    room = make_room("Consultorio 1")
    book(rosa, [make_client(rosa)], dt.datetime(2026, 12, 13, 18, 0), room=room, modality=Modality.ON_SITE)
    db.session.commit()
    signed_in(client, "fr")

    found = clashes(client, therapist=rosa.id, starts_at="13/12/2026 18:20")

    assert len(found) == 1 and "18:00" in found[0]
