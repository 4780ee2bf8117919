"""An appointment's video link is an https:// address, whichever way it is written: the staff's
appointment form, the therapist's portal form, and every other path that saves an appointment
(series, import, CLI: all through `save_appointment`). A link stored before the rule never reaches a
reminder unless it is one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import Appointment, Attendance
from admin_app.services.platform.errors import RuleViolation
from tests.conftest import login, sign_in_therapist
from tests.factories import book, make_admin, make_appointment, make_client, make_therapist
from tests.forms import appointment_form
from tests.pages import body, field_errors, flashed

REFUSED = "Video link: only a secure web address (https://) is accepted, such as https://meet.example.com/room"
SPANISH_REFUSED = (
    "Enlace de video: solo se acepta una dirección web segura (https://), como https://meet.example.com/room"
)
HOSTILE = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "http://meet.example.com/room",
    "https://",
    "https:///room",
    "//meet.example.com/room",
    "meet.example.com/room",
    "https://meet.example.com/a room",
    "https://meet.example.com/\x0broom",
]
START = dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)


def count_appointments() -> int:
    return db.session.scalar(select(func.count(Appointment.id)))


@pytest.mark.parametrize("link", HOSTILE)
def test_the_staff_form_refuses_a_video_link_that_is_not_https(admin_client, link):
    therapist, client = make_therapist(), make_client()
    db.session.commit()

    response = admin_client.post("/admin/appointment/new/", data=appointment_form(therapist, client, video_link=link))

    assert response.status_code == 200  # the form again
    assert field_errors(response)["video_link"] == [REFUSED]
    assert count_appointments() == 0


def test_the_staff_form_keeps_an_https_link_without_the_spaces_around_it(admin_client):
    therapist, client = make_therapist(), make_client()
    db.session.commit()

    response = admin_client.post(
        "/admin/appointment/new/",
        data=appointment_form(therapist, client, video_link="  https://meet.example.com/ana-quispe  "),
        follow_redirects=True,
    )

    assert "Record was successfully created." in flashed(response)
    assert db.session.scalar(select(Appointment.video_link)) == "https://meet.example.com/ana-quispe"


def test_editing_an_appointment_to_a_javascript_link_leaves_it_as_it_was_in_the_users_language(client):
    make_admin(email="personal@example.com", locale="es")
    therapist, patient = make_therapist(), make_client()
    appointment = book(
        therapist, [patient], START, video_link="https://meet.example.com/abc", attendance=Attendance.EXPECTED
    )
    db.session.commit()
    login(client, "personal@example.com")

    response = client.post(
        f"/admin/appointment/edit/?id={appointment.id}",
        data=appointment_form(
            therapist,
            patient,
            video_link="javascript:alert(1)",
            **{"participants-0-id": str(appointment.participants[0].id)},
        ),
    )

    assert response.status_code == 200
    assert field_errors(response)["video_link"] == [SPANISH_REFUSED]
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).video_link == "https://meet.example.com/abc"


@pytest.mark.parametrize("link", ["javascript:alert(document.cookie)", "http://meet.example.com/room"])
def test_the_portal_form_refuses_a_video_link_that_is_not_https(client, link):
    rosa = make_therapist(full_name="Rosa Mendoza")
    appointment = make_appointment(rosa, make_client(rosa), START)
    sign_in_therapist(client, rosa)

    response = client.post(
        f"/portal/appointments/edit/?id={appointment.id}", data={"video_link": link, "notes": "Seen online"}
    )

    assert response.status_code == 200
    assert REFUSED in body(response)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).video_link is None
    assert db.session.get(Appointment, appointment.id).notes is None


def test_the_portal_form_saves_an_https_link(client):
    rosa = make_therapist(full_name="Rosa Mendoza")
    appointment = make_appointment(rosa, make_client(rosa), START)
    sign_in_therapist(client, rosa)

    response = client.post(
        f"/portal/appointments/edit/?id={appointment.id}",
        data={"video_link": "https://meet.example.com/rosa", "notes": ""},
        follow_redirects=True,
    )

    assert "Record was successfully saved." in flashed(response)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).video_link == "https://meet.example.com/rosa"


@pytest.mark.parametrize("link", HOSTILE)
def test_every_other_write_path_meets_the_same_rule(app, link):
    """Series, import and CLI save through `save_appointment`, as this factory does."""
    with pytest.raises(RuleViolation) as refused:
        book(make_therapist(), [make_client()], START, video_link=link)

    assert (str(refused.value), refused.value.field) == (REFUSED, "video_link")


def test_a_link_stored_before_the_rule_is_left_out_of_the_reminder(mail_app, smtp_sink, clock, book_soon):
    ana = make_client(full_name="Ana Torres", email="ana@example.com", preferred_language="en")
    appointment = book_soon(ana)
    db.session.execute(  # as an older version let it be typed
        Appointment.__table__.update()
        .where(Appointment.__table__.c.id == appointment.id)
        .values(video_link="javascript:alert(document.cookie)")
    )
    db.session.commit()

    assert schedule.tick()["appointment-reminders"] == 1

    [received] = smtp_sink.to("ana@example.com")
    for part in ("plain", "html"):
        text = received.get_body((part,)).get_content()
        assert "javascript" not in text
        assert "Your therapist will send you the link." in text
