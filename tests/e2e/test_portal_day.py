"""Journey (issue 18): a Vancouver demo therapist's portal, on a phone and on a desktop.

Claire Tremblay signs in on her phone and reads her day; closes yesterday's session still expected
(marks it attended); sees a running-low authorization among her alerts and says the documents were
submitted (the office is notified, their task opens); asks the office to deactivate a client; then,
at her desk, opens her latest payout statement's PDF.

Two things are set up in the database first, as her week would leave them: her latest past session
is still "expected", and one of her clients' authorizations ends in ten days.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select, update

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    Appointment,
    AppointmentStatus,
    Attendance,
    Authorization,
    CareAssignment,
    Client,
    ClientRequest,
    Notification,
    Participant,
    TaskKind,
    Therapist,
)
from admin_app.models.base import utcnow
from admin_app.services.platform import clinic_time
from tests.conftest import make_app
from tests.e2e.conftest import VANCOUVER_SETTINGS
from tests.e2e.helpers import alerts, assert_accessible, follow, log_in

CLAIRE = ("claire.tremblay@vancouver.example.com", "demo-therapist-2026")


@pytest.fixture(scope="module")
def van_db(vancouver):
    app = make_app(vancouver.database_url, **VANCOUVER_SETTINGS)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def her_week(van_db):
    """Her latest past session back to "expected", and an authorization of hers ending in ten days."""
    with van_db.app_context():
        claire = db.session.scalar(select(Therapist).where(Therapist.email == CLAIRE[0]))
        participant = db.session.scalar(
            select(Participant)
            .join(Appointment, Appointment.id == Participant.appointment_id)
            .where(
                Appointment.therapist_id == claire.id,
                Appointment.starts_at < utcnow() - dt.timedelta(hours=2),
                Appointment.starts_at > utcnow() - dt.timedelta(days=6),
                Appointment.status != AppointmentStatus.CANCELLED,
            )
            .order_by(Appointment.starts_at.desc())
            .limit(1)
        )
        db.session.execute(
            update(Participant).where(Participant.id == participant.id).values(attendance=Attendance.EXPECTED)
        )
        db.session.execute(
            update(Appointment)
            .where(Appointment.id == participant.appointment_id)
            .values(status=AppointmentStatus.SCHEDULED)
        )
        in_care = select(CareAssignment.client_id).where(
            CareAssignment.therapist_id == claire.id, CareAssignment.active
        )
        authorization = db.session.scalar(
            select(Authorization)
            .where(
                Authorization.client_id.in_(in_care),
                Authorization.closed_at.is_(None),
                Authorization.extension_requested_at.is_(None),
            )
            .order_by(Authorization.valid_until.desc())
            .limit(1)
        )
        ends = clinic_time.today() + dt.timedelta(days=10)
        db.session.execute(update(Authorization).where(Authorization.id == authorization.id).values(valid_until=ends))
        client_name = db.session.get(Client, participant.client_id).full_name
        db.session.commit()
        found = {
            "participant": participant.id,
            "client": client_name,
            "authorization": authorization.id,
            "reference": authorization.reference,
        }
        db.session.remove()
    return found


def test_her_day_on_a_phone_then_her_statement_at_her_desk(vancouver_browser, van_db, her_week, screenshots):
    phone = vancouver_browser.page(locale="en-CA", phone=True)
    log_in(phone, *CLAIRE)
    expect(phone).to_have_url(re.compile(r"/portal/$"))
    expect(phone.locator("h1")).to_contain_text("Claire Tremblay")
    expect(phone.locator("#portal-days .portal-day").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone)
    screenshots.page(phone, "portal-home-phone", full_page=True)

    # Yesterday's session still expected: marked attended from the home.
    waiting = phone.locator(f"#still-expected li.attendee[data-participant='{her_week['participant']}']")
    expect(waiting.locator(".attendee-name")).to_have_text(her_week["client"])
    waiting.locator("select[name=attendance]").select_option("attended")
    follow(phone, waiting.locator("button[type=submit]"))
    [done] = alerts(phone, "success")
    assert done.startswith(f"Attendance recorded: {her_week['client']}, ") and done.endswith(": Attended."), done
    expect(phone.locator(f"#still-expected li.attendee[data-participant='{her_week['participant']}']")).to_have_count(0)

    # The authorization ending in ten days is among her alerts: documents submitted.
    alert = phone.locator("#alerts a", has_text=her_week["reference"])
    follow(phone, alert)
    follow(phone, phone.get_by_role("button", name="Documents submitted"))
    assert alerts(phone, "success") == ["Documents submitted for 1 authorization: the office is told."]

    # Ask the office to deactivate one of her clients, from the client's page.
    phone.goto("/portal/clients/")
    first = phone.locator("table.model-list tbody tr").first
    name = first.locator("td.col-full_name").inner_text().strip()
    follow(phone, first.locator("a[href*='/details/']").first)
    phone.locator("#request-reason").fill("Finished treatment; moving to Calgary.")
    follow(phone, phone.locator("#client-request [type=submit]"))
    assert alerts(phone, "success") == ["Your request was sent to the office; its answer will come as a notification."]
    phone.goto("/portal/")
    expect(phone.locator("#open-requests")).to_contain_text(name)

    # At her desk: My payments, her latest statement's PDF.
    desk = vancouver_browser.page(locale="en-CA")
    log_in(desk, *CLAIRE)
    follow(desk, desk.locator("a.nav-link[href$='/portal/payments/']"))
    latest = desk.locator("#my-statements tbody tr").first
    number = latest.locator(".col-number").inner_text().strip()
    with desk.expect_download() as download:
        latest.locator(".col-pdf a").click()
    pages = PdfReader(io.BytesIO(download.value.path().read_bytes())).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert number in text and "Claire Tremblay" in text
    assert_accessible(desk)
    screenshots.page(desk, "portal-payments-desktop", full_page=True)

    with van_db.app_context():
        db.session.expire_all()
        participant = db.session.get(Participant, her_week["participant"])
        assert participant.attendance == Attendance.ATTENDED
        assert db.session.get(Authorization, her_week["authorization"]).extension_requested_at is not None
        assert db.session.scalar(
            select(AdminTask.id).where(
                AdminTask.kind == TaskKind.EXTENSION_REQUESTED, AdminTask.subject == str(her_week["authorization"])
            )
        )
        assert db.session.scalars(select(Notification.kind)).all().count("documents_submitted") >= 1
        assert db.session.scalar(select(ClientRequest.reason).order_by(ClientRequest.id.desc()).limit(1)) == (
            "Finished treatment; moving to Calgary."
        )
        db.session.remove()
