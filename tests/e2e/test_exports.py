"""Journey 6: every list exports every row, downloaded from gunicorn as a person would.

The staff export the whole appointment list of the demo practice (about 12,000 rows) to CSV and
XLSX, then the list filtered to one therapist's last month, then the clients; the demo therapist
exports her own appointments from the portal. Each file is opened (the CSV after its BOM, the XLSX
with openpyxl) and holds exactly the rows the list counts, with a known row's values in clinic
time; each download leaves one audit row. Streaming through a real server is the point: a test
client that keeps one app context and session across the request cannot see a stream that reads
from a closed session.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
from playwright.sync_api import expect
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Appointment, AuditEvent, Client, Participant, Therapist
from admin_app.services.people.records import clients_in_care_now
from admin_app.services.scheduling.portal_day import shown_name
from tests.e2e.conftest import ADMIN, THERAPIST
from tests.e2e.helpers import last_month, log_in

LIMA = ZoneInfo("America/Lima")
BOM = "\ufeff"
BIG_DOWNLOAD_MS = 60_000  # gunicorn's timeout: a slower export is cut off by the server anyway


def local(instant: dt.datetime) -> str:
    """An instant as the practice reads it (computed here, not with the app's helpers)."""
    if instant.tzinfo is None:  # SQLite hands back naive UTC
        instant = instant.replace(tzinfo=dt.UTC)
    return instant.astimezone(LIMA).strftime("%Y-%m-%d %H:%M")


def listed_count(page) -> int:
    """The count the list's tab shows: "Lista (12229)"."""
    tab = page.locator(".nav-tabs .nav-link.active").inner_text()
    found = re.search(r"\((\d+)\)", tab)
    assert found, tab
    return int(found.group(1))


def download(page, link_selector: str, tmp_path: Path, *, menu: bool) -> Path:
    """Click the list's Export entry (through its drop-down when it offers several types)."""
    if menu:
        page.locator(".nav-tabs .dropdown-toggle", has_text="Exportar").click()
    with page.expect_download(timeout=BIG_DOWNLOAD_MS) as downloading:
        page.locator(link_selector).click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    assert downloading.value.failure() is None, downloading.value.failure()
    return saved


def csv_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith(BOM), "the CSV starts with a BOM, so Excel reads the accents"
    return list(csv.reader(io.StringIO(text[len(BOM) :])))


def xlsx_rows(path: Path) -> list[list[str]]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    rows = [["" if cell is None else str(cell) for cell in row] for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


def export_events(app_db, entity: str, actor: str) -> int:
    with app_db.app_context():
        count = db.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "export", AuditEvent.entity == entity, AuditEvent.actor == actor
            )
        )
        db.session.remove()
    return count


def appointment_row(appointment: Appointment) -> tuple[str, str, str, set[str]]:
    """What the export shows of an appointment: start, end, therapist, participants."""
    names = {p.client.full_name for p in appointment.participants}
    return local(appointment.starts_at), local(appointment.ends_at), appointment.therapist.full_name, names


def exported_appointment(row: list[str]) -> tuple[str, str, str, set[str]]:
    return row[0], row[1], row[2], set(row[3].split("; ")) if row[3] else set()


def a_known_appointment(app_db, *, therapist_email: str | None = None, month: str | None = None):
    """The first appointment with two participants (a couple or family session), read from the database."""
    with app_db.app_context():
        query = (
            select(Appointment)
            .join(Participant)
            .group_by(Appointment.id)
            .having(func.count(Participant.id) > 1)
            .order_by(Appointment.id)
        )
        if therapist_email:
            query = query.join(Therapist, Therapist.id == Appointment.therapist_id).where(
                Therapist.email == therapist_email
            )
        appointments = db.session.scalars(query).all()
        if month:
            appointments = [a for a in appointments if local(a.starts_at).startswith(month)]
        assert appointments, "the demo practice has couple and family sessions"
        row = appointment_row(appointments[0])
        db.session.remove()
    return row


def test_staff_export_every_appointment_to_csv_and_xlsx(browser, app_db, tmp_path):
    with app_db.app_context():
        total = db.session.scalar(select(func.count(Appointment.id)))
        db.session.remove()
    assert total > 10_000, "the demo practice holds about 12,000 appointments"
    known = a_known_appointment(app_db)
    before = export_events(app_db, "appointment", ADMIN[0])

    page = browser.page()
    log_in(page, *ADMIN)
    page.goto("/admin/appointment/")
    assert listed_count(page) == total

    exported = csv_rows(download(page, "a[href*='/export/csv/']", tmp_path, menu=True))
    header, rows = exported[0], exported[1:]
    assert header[0] == page.locator("table.model-list thead th.column-header").first.inner_text().strip()
    assert len(rows) == total
    assert len({tuple(row) for row in rows}) > total * 0.99  # not one row repeated
    assert known in [exported_appointment(row) for row in rows]
    assert export_events(app_db, "appointment", ADMIN[0]) == before + 1

    sheet = xlsx_rows(download(page, "a[href*='/export/xlsx/']", tmp_path, menu=True))
    assert sheet[0] == header
    assert len(sheet) - 1 == total
    assert sheet[1:] == rows  # the same rows in the same order as the CSV
    assert export_events(app_db, "appointment", ADMIN[0]) == before + 2


def test_staff_export_the_filtered_list_only(browser, app_db, tmp_path):
    month = last_month()
    with app_db.app_context():
        therapist = db.session.scalar(select(Therapist).where(Therapist.email == THERAPIST[0]))
        therapist_id, name = therapist.id, therapist.full_name
        db.session.remove()
    known = a_known_appointment(app_db, therapist_email=THERAPIST[0], month=month)

    page = browser.page()
    log_in(page, *ADMIN)
    # The list filtered to the month and the therapist (as the filter form writes it).
    page.goto(f"/admin/appointment/?flt0_0={month}&flt1_1={therapist_id}")
    expect(page.locator("table.model-list tbody tr").first).to_contain_text(name)
    count = listed_count(page)
    assert 0 < count < 1000

    rows = csv_rows(download(page, "a[href*='/export/csv/']", tmp_path, menu=True))[1:]
    assert len(rows) == count
    assert {row[2] for row in rows} == {name}
    assert all(row[0].startswith(month) for row in rows), [row[0] for row in rows]
    assert known in [exported_appointment(row) for row in rows]

    sheet = xlsx_rows(download(page, "a[href*='/export/xlsx/']", tmp_path, menu=True))[1:]
    assert sheet == rows


def test_staff_export_every_client(browser, app_db, tmp_path):
    with app_db.app_context():
        total = db.session.scalar(select(func.count(Client.id)))
        client = db.session.scalars(select(Client).where(Client.email.is_not(None)).order_by(Client.id)).first()
        known = {client.client_number, client.full_name, client.email}
        db.session.remove()

    page = browser.page()
    log_in(page, *ADMIN)
    page.goto("/admin/client/")
    assert listed_count(page) == total

    rows = csv_rows(download(page, "a[href*='/export/csv/']", tmp_path, menu=True))[1:]
    assert len(rows) == total
    assert any(known <= set(row) for row in rows), known
    sheet = xlsx_rows(download(page, "a[href*='/export/xlsx/']", tmp_path, menu=True))[1:]
    assert sheet == rows


def test_therapist_exports_only_her_own_appointments(browser, app_db, tmp_path):
    """Every one of her appointments; a client no longer in her care by initials (the privacy hold)."""
    with app_db.app_context():
        therapist = db.session.scalar(select(Therapist).where(Therapist.email == THERAPIST[0]))
        in_care = set(db.session.scalars(clients_in_care_now(therapist.id)))
        mine = db.session.scalars(
            select(Appointment).where(Appointment.therapist_id == therapist.id).order_by(Appointment.id)
        ).all()

        def shown(appointment: Appointment) -> str:
            return "; ".join(
                sorted(shown_name(p.client.full_name, p.client_id in in_care) for p in appointment.participants)
            )

        expected = sorted((local(a.starts_at), local(a.ends_at), shown(a)) for a in mine)
        assert any(p.client_id not in in_care for a in mine for p in a.participants)  # the demo has some
        db.session.remove()
    assert len(expected) > 100
    before = export_events(app_db, "appointment", THERAPIST[0])

    page = browser.page()
    log_in(page, *THERAPIST)
    page.goto("/portal/appointments/")
    assert listed_count(page) == len(expected)

    rows = csv_rows(download(page, "a[href*='/export/csv/']", tmp_path, menu=False))[1:]
    assert len(rows) == len(expected)
    # Hers, every one, and no one else's: start, end and participants of each (no therapist column).
    assert sorted((row[0], row[1], "; ".join(sorted(row[2].split("; ")))) for row in rows) == expected
    assert export_events(app_db, "appointment", THERAPIST[0]) == before + 1
