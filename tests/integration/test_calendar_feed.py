"""The calendar feed: each therapist's secret ICS URL, subscribed to by a calendar app.

The URL carries a 256-bit token of which the database keeps only a hash; the feed lists the
therapist's upcoming, non-cancelled appointments in UTC with the clients' initials only; a
wrong or rotated token answers the ordinary 404.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import (
    AppointmentKind,
    AppointmentStatus,
    Attendance,
    AuditEvent,
    Modality,
    Participant,
    Therapist,
)
from admin_app.services.scheduling import calendar
from admin_app.services.scheduling.rules import prepare_appointment, record_attendance
from tests.conftest import make_app, sign_in_therapist
from tests.factories import make_appointment, make_client, make_site, make_therapist, make_therapist_user
from tests.pages import body, csrf_token, detail_fields, flashed
from tests.queries import counted_queries


def path_of(url: str) -> str:
    return urlsplit(url).path


def token_of(url: str) -> str:
    return path_of(url).removeprefix("/calendar/").removesuffix(".ics")


def parse(response) -> Calendar:
    return Calendar.from_ical(response.get_data())


def events_of(response) -> dict[str, dict]:
    """UID → what a calendar app shows of each event."""
    found = {}
    for component in parse(response).walk("VEVENT"):
        found[str(component["uid"])] = {
            "start": component.decoded("dtstart"),
            "end": component.decoded("dtend"),
            "summary": str(component["summary"]),
            "location": str(component.get("location", "")),
        }
    return found


def reload(therapist: Therapist) -> Therapist:
    db.session.expire_all()
    return db.session.get(Therapist, therapist.id)


@pytest.fixture
def practice(app, clock):
    """Rosa's book around now: what her feed must show, and what it must leave out."""
    now = clock.now().replace(second=0, microsecond=0)
    rosa = make_therapist(full_name="Rosa Mendoza")
    jorge = make_therapist(full_name="Jorge Salas")
    ana = make_client(rosa, full_name="Ana Quispe", national_id="45678912", notes="Private clinical note")
    luis = make_client(rosa, full_name="Luis de la Cruz", national_id="70011223")
    room = make_site(name="Miraflores", rooms=("Sala 1",)).rooms[0]

    def booked(therapist, client, starts_at, **fields):
        return make_appointment(therapist, client, starts_at, attendance=Attendance.EXPECTED, **fields)

    tomorrow = booked(rosa, ana, now + dt.timedelta(days=1))
    tomorrow.notes = "Discuss the divorce"
    on_site = booked(rosa, ana, now + dt.timedelta(days=3), modality=Modality.ON_SITE, room=room)
    on_site.kind = AppointmentKind.COUPLE
    on_site.participants.append(Participant(client=luis, fee=Decimal("150.00"), currency="PEN"))
    prepare_appointment(db.session, on_site)
    earlier_today = booked(rosa, luis, now - dt.timedelta(hours=3))  # still on the phone today
    cancelled = booked(rosa, ana, now + dt.timedelta(days=2))
    record_attendance(
        db.session, participant=cancelled.participants[0], attendance="cancelled", cancelled_by="client", reason="Flu"
    )
    last_week = make_appointment(rosa, ana, now - dt.timedelta(days=7))
    next_year = booked(rosa, ana, now + dt.timedelta(days=300))
    jorges = booked(jorge, ana, now + dt.timedelta(days=1, hours=2))
    db.session.flush()
    rosa_url = calendar.rotate_calendar_feed(db.session, rosa)
    jorge_url = calendar.rotate_calendar_feed(db.session, jorge)
    db.session.commit()
    return SimpleNamespace(
        rosa=rosa,
        jorge=jorge,
        ana=ana,
        luis=luis,
        rosa_url=rosa_url,
        jorge_url=jorge_url,
        shown=[earlier_today, tomorrow, on_site],
        hidden=[cancelled, last_week, next_year, jorges],
        on_site=on_site,
        tomorrow=tomorrow,
        now=now,
    )


# --- the token ---------------------------------------------------------------------------------


def test_the_url_carries_a_256_bit_token_of_which_only_a_hash_is_stored(app, practice):
    url = practice.rosa_url
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/calendar/")
    assert url.endswith(".ics")
    token = token_of(url)
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 == 256

    rosa = reload(practice.rosa)
    assert rosa.calendar_feed_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(rosa.calendar_feed_nonce) == 32  # 128 random bits, hex
    stored = " ".join(str(value) for value in db.session.execute(select(Therapist.__table__)).all())
    assert token not in stored
    # The URL is derived again for the screens, not stored.
    assert calendar.calendar_feed_url(rosa) == url
    assert token_of(practice.jorge_url) != token


def test_rotating_is_audited_by_field_name_without_the_values(practice):
    trail = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "therapist", AuditEvent.entity_id == practice.rosa.id)
    ).all()
    assert ["calendar_feed_hash", "calendar_feed_nonce"] in [sorted(e.changed_fields) for e in trail]
    assert token_of(practice.rosa_url) not in str([e.changed_fields for e in trail])


# --- the feed ----------------------------------------------------------------------------------


def test_anyone_with_the_url_gets_the_calendar_without_signing_in(client, practice):
    response = client.get(path_of(practice.rosa_url))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert b"X-PUBLISHED-TTL:PT1H" in response.get_data()  # subscribed calendars refresh hourly
    calendar_doc = parse(response)
    assert calendar_doc.name == "VCALENDAR"
    assert str(calendar_doc["version"]) == "2.0"


def test_the_feed_lists_exactly_the_upcoming_non_cancelled_appointments_in_utc(app, client, practice):
    response = client.get(path_of(practice.rosa_url))
    host = urlsplit(app.config["PUBLIC_BASE_URL"]).hostname

    shown = events_of(response)

    assert set(shown) == {f"appointment-{a.id}@{host}" for a in practice.shown}
    for appointment in practice.shown:
        found = shown[f"appointment-{appointment.id}@{host}"]
        assert found["start"] == appointment.starts_at
        assert found["end"] == appointment.ends_at
        assert found["start"].utcoffset() == dt.timedelta(0)
    assert b"DTSTART:" in response.get_data()  # UTC ("...Z"), no floating local times
    assert all(line.endswith(b"Z") for line in response.get_data().splitlines() if line.startswith(b"DTSTART"))


def test_the_feed_shows_initials_kind_and_place_but_no_names_ids_or_notes(app, client, practice):
    response = client.get(path_of(practice.rosa_url))
    host = urlsplit(app.config["PUBLIC_BASE_URL"]).hostname
    shown = events_of(response)

    tomorrow = shown[f"appointment-{practice.tomorrow.id}@{host}"]
    assert (tomorrow["summary"], tomorrow["location"]) == ("Individual · A. Q.", "Virtual")
    on_site = shown[f"appointment-{practice.on_site.id}@{host}"]
    assert (on_site["summary"], on_site["location"]) == ("Couple · A. Q. + L. C.", "Miraflores · Sala 1")

    text = response.get_data(as_text=True)
    for secret in (
        "Ana Quispe",
        "Quispe",
        "Luis de la Cruz",
        "45678912",
        "70011223",
        "Private clinical note",
        "Discuss the divorce",
        "Flu",
    ):
        assert secret not in text, secret


def test_the_feed_costs_the_same_queries_however_many_appointments(client, practice):
    with counted_queries() as few:
        client.get(path_of(practice.rosa_url))
    for offset in range(5):
        make_appointment(practice.rosa, practice.luis, practice.now + dt.timedelta(days=10 + offset))
    db.session.commit()

    with counted_queries() as many:
        response = client.get(path_of(practice.rosa_url))

    assert len(events_of(response)) == len(practice.shown) + 5
    assert len(many) == len(few)


# --- wrong and rotated tokens ------------------------------------------------------------------


def test_a_wrong_token_answers_the_ordinary_404(client, practice):
    ordinary = client.get("/no-such-page")
    token = token_of(practice.rosa_url)
    wrong = [
        "x" * 43,
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        reload(practice.rosa).calendar_feed_hash,  # the stored hash is not a key
        reload(practice.rosa).calendar_feed_nonce,
        token + token,
    ]
    for candidate in wrong:
        response = client.get(f"/calendar/{candidate}.ics")
        assert response.status_code == 404, candidate
        assert response.get_data() == ordinary.get_data()
    assert client.get(f"/calendar/{token}").status_code == 404  # without the .ics


def test_rotating_retires_the_old_url(client, practice):
    old = path_of(practice.rosa_url)

    new = path_of(calendar.rotate_calendar_feed(db.session, practice.rosa))
    db.session.commit()

    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.get(path_of(practice.jorge_url)).status_code == 200  # others keep theirs


def test_an_inactive_therapist_has_no_feed(client, practice):
    practice.rosa.active = False
    db.session.commit()
    assert client.get(path_of(practice.rosa_url)).status_code == 404


def test_a_therapist_without_a_link_has_none(app):
    therapist = make_therapist()
    db.session.commit()
    assert calendar.calendar_feed_url(therapist) is None


# --- the screens -------------------------------------------------------------------------------


def test_the_admin_sees_the_url_on_the_therapist_details_and_can_rotate_it(admin_client, practice):
    details_url = f"/admin/therapist/details/?id={practice.rosa.id}"
    page = admin_client.get(details_url)
    assert page.status_code == 200
    assert f'value="{practice.rosa_url}"' in body(page)

    newcomer = make_therapist(full_name="Nadia Flores")
    db.session.commit()
    empty = admin_client.get(f"/admin/therapist/details/?id={newcomer.id}")
    assert detail_fields(empty)["Calendar link"].startswith("No calendar link yet")

    # The button on the details page: a POST of the list's action, back to the same page.
    response = admin_client.post(
        "/admin/therapist/action/",
        data={"action": "rotate_calendar_feed", "rowid": str(newcomer.id), "url": details_url},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(details_url)
    shown = admin_client.get(f"/admin/therapist/details/?id={newcomer.id}")
    url = calendar.calendar_feed_url(reload(newcomer))
    assert url and f'value="{url}"' in body(shown)
    assert admin_client.get(path_of(url)).status_code == 200


def test_the_admin_rotates_the_links_of_the_selected_therapists_from_the_list(admin_client, practice):
    response = admin_client.post(
        "/admin/therapist/action/",
        data={"action": "rotate_calendar_feed", "rowid": [str(practice.rosa.id), str(practice.jorge.id)]},
        follow_redirects=True,
    )

    assert "2 calendar links created or rotated." in flashed(response)
    assert admin_client.get(path_of(practice.rosa_url)).status_code == 404
    assert admin_client.get(path_of(practice.jorge_url)).status_code == 404


@pytest.fixture
def rosa_client(client, practice):
    make_therapist_user(practice.jorge)
    return sign_in_therapist(client, practice.rosa)


def test_the_portal_home_shows_the_therapists_own_url(rosa_client, practice):
    page = body(rosa_client.get("/portal/"))

    assert f'value="{practice.rosa_url}"' in page
    assert practice.jorge_url not in page


def test_a_therapist_rotates_only_their_own_link(rosa_client, practice):
    jorge_before = reload(practice.jorge).calendar_feed_hash

    response = rosa_client.post("/portal/calendar-link", follow_redirects=True)

    assert "Your new calendar link is ready; the previous one no longer works." in flashed(response)
    new_url = calendar.calendar_feed_url(reload(practice.rosa))
    assert new_url != practice.rosa_url
    assert f'value="{new_url}"' in body(response)
    assert rosa_client.get(path_of(practice.rosa_url)).status_code == 404
    assert reload(practice.jorge).calendar_feed_hash == jorge_before

    # The staff action is not hers to run, whatever ids she posts.
    refused = rosa_client.post(
        "/admin/therapist/action/", data={"action": "rotate_calendar_feed", "rowid": str(practice.jorge.id)}
    )
    assert refused.status_code == 403
    assert reload(practice.jorge).calendar_feed_hash == jorge_before
    assert rosa_client.get("/portal/calendar-link").status_code == 405  # a GET changes nothing


def test_anonymous_visitors_cannot_rotate_a_link(client, practice):
    before = reload(practice.rosa).calendar_feed_hash
    response = client.post("/portal/calendar-link")
    assert response.status_code == 302
    assert path_of(response.headers["Location"]) == "/login"
    assert reload(practice.rosa).calendar_feed_hash == before


@pytest.fixture
def csrf_client(database_url, migrated_app, app):
    return make_app(database_url, WTF_CSRF_ENABLED=True).test_client()


def test_rotating_from_the_portal_needs_the_csrf_token_while_the_feed_needs_none(csrf_client, practice):
    make_therapist_user(practice.rosa)
    db.session.commit()
    token = csrf_token(csrf_client.get("/login"))
    csrf_client.post(
        "/login", data={"email": practice.rosa.email, "password": "quiet-harbour-lantern", "csrf_token": token}
    )
    before = reload(practice.rosa).calendar_feed_hash

    assert csrf_client.post("/portal/calendar-link").status_code == 400
    assert reload(practice.rosa).calendar_feed_hash == before

    home = csrf_client.get("/portal/")
    response = csrf_client.post("/portal/calendar-link", data={"csrf_token": csrf_token(home)})
    assert response.status_code == 302
    assert reload(practice.rosa).calendar_feed_hash != before

    feed = csrf_client.get(path_of(calendar.calendar_feed_url(reload(practice.rosa))))
    assert feed.status_code == 200


def test_the_cancelled_appointment_is_left_out_because_it_is_cancelled(client, practice):
    """Guard for the fixture itself: the hidden appointment really is cancelled, not just absent."""
    cancelled = practice.hidden[0]
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert cancelled.starts_at > practice.now
