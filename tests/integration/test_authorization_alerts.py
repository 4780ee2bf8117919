"""Authorization alerts: when an authorization becomes low, its therapist and every admin get a
notice and an email (delivered for real to an SMTP sink, jobs in-process), once per change of state."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import billing as billing_jobs
from admin_app.jobs import schedule
from admin_app.models import (
    Attendance,
    Authorization,
    CareAssignment,
    MessageStatus,
    Notification,
    OutboundMessage,
    Participant,
)
from admin_app.services.billing import alerts
from admin_app.services.messaging import notifications
from tests.factories import (
    book,
    make_admin,
    make_authorization,
    make_client,
    make_payer,
    make_therapist,
    make_therapist_user,
    pays_for,
)
from tests.queries import counted_queries


def notices():
    return db.session.scalars(select(Notification).order_by(Notification.user_id)).all()


def outbox_rows():
    return db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()


def alerted_status(authorization: Authorization) -> str | None:
    db.session.expire_all()
    return db.session.get(Authorization, authorization.id).alerted_status


@pytest.fixture
def practice(mail_app, clock):
    """Lima, 1 October 2026, 10:00. Ana Soto is cared for by Lucía (French login), Marco (English
    login) and Nora (no login); Pedro (a login) does not care for her. Authorization PAC-77 of
    Pacífico: 4 sessions to 31 Dec, Lucía's; one attended this morning (3 left: active). Two admins,
    English and Spanish."""
    clock.set("2026-10-01T15:00Z")
    lucia, marco, nora, pedro = (
        make_therapist(full_name=name, email=f"{name.lower()}@example.com")
        for name in ("Lucia", "Marco", "Nora", "Pedro")
    )
    ana = make_client(lucia, full_name="Ana Soto")
    for therapist in (marco, nora):
        db.session.add(CareAssignment(client=ana, therapist=therapist))
    users = {
        "lucia": make_therapist_user(lucia, locale="fr"),
        "marco": make_therapist_user(marco),
        "pedro": make_therapist_user(pedro),
        "staff": make_admin("staff@example.com", locale="en"),
        "jefa": make_admin("jefa@example.com", locale="es"),
    }
    pacifico = make_payer("Pacífico Seguros")
    pays_for(ana, pacifico)
    authorization = make_authorization(
        ana, pacifico, 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31), reference="PAC-77", therapist=lucia
    )
    book(lucia, [ana], dt.datetime(2026, 10, 1, 8))
    db.session.commit()
    return {"authorization": authorization, "ana": ana, "lucia": lucia, "users": users}


def book_next(practice, day: int) -> None:
    book(practice["lucia"], [practice["ana"]], dt.datetime(2026, 10, day, 9), attendance=Attendance.EXPECTED)
    db.session.commit()


def test_an_authorization_becoming_low_alerts_its_therapist_and_every_admin_once(
    mail_app, smtp_sink, clock, practice, caplog
):
    authorization, users = practice["authorization"], practice["users"]
    assert schedule.tick()["authorization-alerts"] == 0  # active: nothing to say
    assert alerted_status(authorization) == "active" and notices() == []

    book_next(practice, 8)  # 1 used + 1 booked of 4: 2 left, low
    caplog.set_level(logging.DEBUG)
    result = mail_app.test_cli_runner().invoke(args=["jobs", "tick"])

    assert result.exit_code == 0, result.output
    assert "authorization-alerts: 1" in result.output
    assert [(notice.user_id, notice.kind, notice.params) for notice in notices()] == sorted(
        (users[name].id, "authorization_low", {"authorization_id": authorization.id})
        for name in ("lucia", "staff", "jefa")
    )
    [french] = smtp_sink.to("lucia@example.com")
    [english] = smtp_sink.to("staff@example.com")
    [spanish] = smtp_sink.to("jefa@example.com")
    assert smtp_sink.to("marco@example.com") == smtp_sink.to("pedro@example.com") == []
    assert french["Subject"] == "L'autorisation PAC-77 arrive à sa fin"
    assert (
        "L'autorisation PAC-77 de Ana Soto arrive à sa fin : il reste 2 séance(s) sur 4"
        in french.get_body(("plain",)).get_content()
    )
    assert english["Subject"] == "Authorization PAC-77 is running low"
    text = english.get_body(("plain",)).get_content()
    assert "Authorization PAC-77 for Ana Soto is running low: 2 of 4 approved sessions left (1 used, 1 booked)" in text
    assert "valid until December 31, 2026" in text
    assert "<strong>2 of 4</strong> approved sessions left" in english.get_body(("html",)).get_content()
    assert "quedan 2 de 4 sesiones aprobadas" in spanish.get_body(("plain",)).get_content()
    assert [row.status for row in outbox_rows()] == [MessageStatus.SENT] * 3
    assert alerted_status(authorization) == "low"
    assert "Ana Soto" not in caplog.text

    assert schedule.tick()["authorization-alerts"] == 0  # still low: quiet
    clock.set("2026-10-02T15:00Z")
    assert schedule.tick()["authorization-alerts"] == 0  # and the next day too
    assert len(smtp_sink.messages) == 3 and len(notices()) == 3


def test_the_notice_reads_in_the_users_language_without_client_data(mail_app, smtp_sink, practice):
    book_next(practice, 8)
    billing_jobs.alert_low_authorizations()
    staff = practice["users"]["staff"]

    [line] = notifications.recent(db.session, staff.id)

    assert line.text.startswith(f"Authorization #{practice['authorization'].id} is running low")
    assert "Ana" not in line.text


def test_extension_requested_and_back_the_same_day_does_not_alert_again(mail_app, smtp_sink, clock, practice):
    authorization = practice["authorization"]
    book_next(practice, 8)
    assert billing_jobs.alert_low_authorizations() == 1

    authorization.extension_requested_at = clock.now()
    db.session.commit()
    assert billing_jobs.alert_low_authorizations() == 0
    assert alerted_status(authorization) == "extension_requested"

    authorization.extension_requested_at = None  # requested by mistake: low again
    db.session.commit()
    assert billing_jobs.alert_low_authorizations() == 0
    assert alerted_status(authorization) == "low"
    assert len(smtp_sink.messages) == 3 and len(notices()) == 3


def test_becoming_low_again_on_a_later_day_alerts_again(mail_app, smtp_sink, clock, practice):
    """Low, then the booked session is cancelled (3 left: active), then the next week a booking
    makes it low again: a second alert, one for each change of state."""
    authorization = practice["authorization"]
    book_next(practice, 8)
    billing_jobs.alert_low_authorizations()

    booked = db.session.scalar(select(Participant).where(Participant.attendance == Attendance.EXPECTED))
    booked.attendance = Attendance.CANCELLED
    db.session.commit()
    assert billing_jobs.alert_low_authorizations() == 0
    assert alerted_status(authorization) == "active"

    clock.set("2026-10-08T15:00Z")
    book_next(practice, 15)
    assert billing_jobs.alert_low_authorizations() == 1
    assert len(smtp_sink.to("lucia@example.com")) == 2 and len(notices()) == 6


def test_without_a_therapist_on_the_authorization_every_caring_therapist_with_a_login_is_told(
    mail_app, smtp_sink, practice
):
    authorization = practice["authorization"]
    authorization.therapist_id = None
    db.session.commit()
    book_next(practice, 8)

    billing_jobs.alert_low_authorizations()

    told = sorted(message["To"] for message in smtp_sink.messages)
    assert told == ["jefa@example.com", "lucia@example.com", "marco@example.com", "staff@example.com"]


def test_closed_authorizations_are_left_alone(mail_app, smtp_sink, clock, practice):
    authorization = practice["authorization"]
    authorization.closed_at = clock.now()
    db.session.commit()
    book_next(practice, 8)

    assert billing_jobs.alert_low_authorizations() == 0
    assert alerted_status(authorization) is None
    assert smtp_sink.messages == [] and notices() == []


def test_an_alert_queued_but_not_delivered_before_an_extension_request_is_withdrawn(
    mail_app, smtp_sink, clock, practice
):
    """The mail server answers "try later" at the scan; by the retry an extension was requested,
    so the alert is withdrawn rather than sent."""
    authorization = practice["authorization"]
    book_next(practice, 8)
    for address in ("lucia@example.com", "staff@example.com", "jefa@example.com"):
        smtp_sink.refuse[address] = "451 4.3.0 try again later"
    billing_jobs.alert_low_authorizations()
    assert {row.status for row in outbox_rows()} == {MessageStatus.QUEUED}
    smtp_sink.refuse.clear()

    authorization.extension_requested_at = clock.now()
    db.session.commit()
    clock.set("2026-10-01T15:05Z")
    schedule.tick()

    assert {row.status for row in outbox_rows()} == {MessageStatus.WITHDRAWN}
    assert smtp_sink.messages == []


def test_a_quiet_scan_reads_every_authorization_in_two_queries(mail_app, clock, practice):
    """Nothing changed since the last scan: the statuses (one query) and the stored ones (one)."""
    for _ in range(5):
        client = make_client(practice["lucia"])
        make_authorization(client, make_payer(), 4, dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    db.session.commit()
    alerts.alert_low_authorizations(db.session)
    db.session.commit()

    with counted_queries() as statements:
        assert alerts.alert_low_authorizations(db.session) == 0

    assert len(statements) == 2
