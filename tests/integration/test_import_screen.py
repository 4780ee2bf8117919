"""The import screen (/admin/import/): upload, preview with counts and every error, confirm.

Uploaded files wait in the instance folder, pointed at a temporary one for each test.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, insert, select

from admin_app.extensions import db
from admin_app.models import Appointment, AuditEvent, Client, Therapist
from admin_app.services.imports import therapists as therapists_import
from admin_app.views.imports import screen as import_view
from tests.conftest import login, make_app
from tests.factories import PASSWORD, make_admin, make_appointment, make_client, make_therapist, make_therapist_user
from tests.integration.test_import_people import CLIENTS, THERAPISTS, csv_bytes, row_counts
from tests.pages import body, csrf_token, flashed, text_of

INDEX, UPLOAD, PREVIEW = "/admin/import/", "/admin/import/upload", "/admin/import/preview"
CONFIRM, CANCEL = "/admin/import/confirm", "/admin/import/cancel"


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Where the screen keeps uploaded files: `<instance>/imports`, here under tmp_path."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "imports"


def upload(visitor, kind: str, data: bytes, filename: str, **extra):
    return visitor.post(
        UPLOAD,
        data={"kind": kind, "file": (io.BytesIO(data), filename), **extra},
        content_type="multipart/form-data",
    )


def waiting_files(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def preview_counts(page: str) -> dict[str, int]:
    return {
        action: int(count)
        for action, count in re.findall(r'<tr data-action="(\w+)"><th scope="row">[^<]*</th><td[^>]*>(\d+)</td>', page)
    }


def preview_errors(page: str) -> list[tuple[str, str, str]]:
    """(row, column, reason) of the errors shown: the file's (the header row), then those of the
    rows listed (the rows in error, when the preview opens on a file with errors)."""
    table = re.search(r'<table[^>]*id="import-errors">(.*?)</table>', page, re.S)
    file_errors = (
        [
            tuple(text_of(cell) for cell in re.findall(r'<td class="col-\w+">(.*?)</td>', row, re.S))
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
            if "<td" in row
        ]
        if table
        else []
    )
    return file_errors + [
        (row["row"], column, reason) for row in preview_rows(page) for column, reason in row["errors"]
    ]


def preview_rows(page: str) -> list[dict]:
    """The rows of the file listed on this page of the preview: number, outcome (as shown), the
    cells that say which record it is, and (column, reason) of each error."""
    table = re.search(r'<table[^>]*id="import-rows"[^>]*>(.*?)</table>', page, re.S)
    listed = []
    for row in re.findall(r"<tr data-row=[^>]*>(.*?)</tr>", table.group(1), re.S):
        errors = re.findall(
            r'<span class="error-column">(.*?):</span> <span class="error-reason">(.*?)</span>', row, re.S
        )
        listed.append(
            {
                "row": text_of(re.search(r'<td class="col-row">(.*?)</td>', row, re.S).group(1)),
                "outcome": text_of(re.search(r'<td class="col-outcome">(.*?)</td>', row, re.S).group(1)),
                "keys": [text_of(cell) for cell in re.findall(r'<td class="col-key">(.*?)</td>', row, re.S)],
                "errors": [(text_of(column), text_of(reason)) for column, reason in errors],
                "text": text_of(re.search(r'<td class="col-errors">(.*?)</td>', row, re.S).group(1)),
            }
        )
    return listed


@pytest.fixture
def ana_and_beto(app):
    make_therapist(full_name="Ana Pérez", email="ana@example.com")
    make_therapist(full_name="Beto Ruiz", email="beto@example.com")
    db.session.commit()


GOOD_CLIENTS = [row[:6] + ["", row[7]] if row[0] == "Marco Díaz" else row for row in CLIENTS]  # no DB guardian


def test_the_form_offers_each_kind_and_describes_its_columns(admin_client, uploads):
    page = body(admin_client.get(INDEX))

    assert 'enctype="multipart/form-data"' in page
    assert re.findall(r'<option value="(\w+)">', page) == [
        "therapists",
        "clients",
        "appointments",
        "authorizations",
        "payments",
        "rooms",
        "reservations",
    ]
    assert "national_id [dni]" in page and "guardian_national_ids [apoderados]" in page
    assert "approved_sessions [sesiones_aprobadas]" in page and "authorization [autorizacion]" in page
    assert "Import from spreadsheets" in page  # the menu entry


def test_upload_preview_then_confirm_imports_the_clients(admin_client, admin_user, uploads, ana_and_beto):
    before = row_counts()

    response = upload(admin_client, "clients", csv_bytes(GOOD_CLIENTS, delimiter=";", bom=True), "clientes.csv")

    assert response.status_code == 302
    assert response.headers["Location"] == PREVIEW  # nothing from the file in the URL
    [waiting] = waiting_files(uploads)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}\.csv", waiting)
    preview = admin_client.get(PREVIEW)
    page = body(preview)
    assert preview.status_code == 200
    assert "clientes.csv" in page
    assert preview_counts(page) == {"created": 3, "updated": 0, "unchanged": 0}
    assert preview_errors(page) == []
    assert 'id="import-confirm"' in page and "Confirm import" in page
    assert row_counts() == before  # a preview writes nothing

    confirmed = admin_client.post(CONFIRM, follow_redirects=True)

    assert confirmed.request.path == INDEX
    assert flashed(confirmed) == ["clientes.csv imported: 3 created, 0 updated, 0 unchanged."]
    db.session.expire_all()
    names = db.session.scalars(select(Client.full_name).order_by(Client.full_name)).all()
    assert names == ["Luis Quispe", "Marco Díaz", "Rosa Quispe"]
    actors = set(db.session.scalars(select(AuditEvent.actor).where(AuditEvent.entity == "client")))
    assert actors == {admin_user.email}
    assert waiting_files(uploads) == []  # deleted once imported
    assert 'id="pending-import"' not in body(confirmed)


def test_the_preview_lists_every_error_and_offers_no_confirmation(admin_client, uploads, ana_and_beto):
    rows = [
        CLIENTS[0],
        ["Good", "G-1", "", "", "ana@example.com", "", "", ""],
        ["Bad Email", "B-1", "luis@", "", "", "", "", ""],
        ["Twice", "g-1", "", "", "nobody@example.com", "", "NOBODY", ""],
    ]
    upload(admin_client, "clients", csv_bytes(rows), "bad.csv")

    page = body(admin_client.get(PREVIEW))

    assert preview_counts(page) == {"created": 1, "updated": 0, "unchanged": 0}
    assert preview_errors(page) == [
        ("3", "email", "luis@ is not a valid email address"),
        ("4", "national_id", "G-1 is already on row 2"),
        ("4", "therapists", "no therapist has the email nobody@example.com"),
        ("4", "guardian_national_ids", "no client with the national ID NOBODY in the file or in the practice"),
    ]
    assert "The file has 4 errors." in text_of(page)
    assert 'id="import-confirm"' not in page
    before = row_counts()
    refused = admin_client.post(CONFIRM)  # even when posted by hand
    assert refused.status_code == 200
    assert preview_errors(body(refused))[0] == ("3", "email", "luis@ is not a valid email address")
    assert row_counts() == before


def test_confirming_checks_the_file_again(admin_client, uploads, ana_and_beto):
    upload(admin_client, "clients", csv_bytes(GOOD_CLIENTS), "clients.csv")
    assert preview_errors(body(admin_client.get(PREVIEW))) == []
    beto = db.session.scalars(select(Therapist).where(Therapist.email == "beto@example.com")).one()
    beto.email = "beto.ruiz@example.com"  # changed on another screen meanwhile
    db.session.commit()
    before = row_counts()

    response = admin_client.post(CONFIRM)

    page = body(response)
    assert "The file does not pass the checks" in text_of(page)
    assert "nothing was imported" in text_of(page)
    assert preview_errors(page) == [("3", "therapists", "no therapist has the email beto@example.com")]
    assert row_counts() == before
    # Kept, to be fixed and uploaded again (or cancelled), with the preview of this check beside it.
    [waiting, checked] = waiting_files(uploads)
    assert checked == waiting.replace(".csv", ".preview.json")
    assert preview_errors(body(admin_client.get(PREVIEW))) == [
        ("3", "therapists", "no therapist has the email beto@example.com")
    ]


def test_a_therapist_saved_by_someone_else_during_the_import_stops_it(admin_client, uploads, monkeypatch):
    """The race the re-check cannot see: the same email committed between the check and the write."""
    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "t.csv")
    planned = therapists_import.plan

    def plan_then_someone_saves(session, table):
        result = planned(session, table)
        monkeypatch.setattr(therapists_import, "plan", planned)  # once
        with db.engine.begin() as other:
            other.execute(
                insert(Therapist.__table__).values(
                    full_name="Ana",
                    email="ana@example.com",
                    compensation_model="commission",
                    commission_percent=10,
                    default_fee=1,
                    default_currency="PEN",
                    active=True,
                )
            )
        return result

    monkeypatch.setattr(therapists_import, "plan", plan_then_someone_saves)

    response = admin_client.post(CONFIRM, follow_redirects=True)

    assert response.request.path == PREVIEW  # checked again: Ana is now an update
    assert "Someone changed the same records meanwhile; nothing was imported." in flashed(response)[0]
    assert preview_counts(body(response)) == {"created": 1, "updated": 1, "unchanged": 0}
    db.session.expire_all()
    assert db.session.scalars(select(Therapist.full_name)).all() == ["Ana"]  # only the other one's


def test_the_same_file_again_previews_as_unchanged(admin_client, uploads):
    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "t.csv")
    admin_client.post(CONFIRM)

    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "t.csv")

    assert preview_counts(body(admin_client.get(PREVIEW))) == {"created": 0, "updated": 0, "unchanged": 2}


def test_a_new_upload_replaces_the_waiting_file_and_cancel_deletes_it(admin_client, uploads):
    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "first.csv")
    [first] = waiting_files(uploads)

    upload(admin_client, "therapists", csv_bytes(THERAPISTS), "second.csv")

    [second] = waiting_files(uploads)
    assert second != first
    assert "second.csv" in body(admin_client.get(PREVIEW))
    cancelled = admin_client.post(CANCEL, follow_redirects=True)
    assert flashed(cancelled) == ["The uploaded file was discarded; nothing was imported."]
    assert waiting_files(uploads) == []
    assert admin_client.get(PREVIEW).headers["Location"] == INDEX
    assert row_counts()["therapist"] == 0


def test_a_file_over_the_limit_is_refused_with_a_message(admin_client, uploads):
    too_big = b"name,email\n" + b"x" * (import_view.MAX_BYTES - 10)

    response = upload(admin_client, "therapists", too_big, "big.csv")

    assert response.status_code == 302
    assert flashed(admin_client.get(INDEX)) == [
        "The file is larger than 20 MB. Split it into smaller files, or import it with `flask import` on the server."
    ]
    assert waiting_files(uploads) == []


def test_a_body_announced_over_the_limit_is_not_read(admin_client, uploads):
    response = upload(admin_client, "therapists", b"x" * (import_view.MAX_BYTES + import_view.FORM_OVERHEAD), "big.csv")

    assert response.status_code == 302
    assert "larger than 20 MB" in flashed(admin_client.get(INDEX))[0]
    assert waiting_files(uploads) == []


@pytest.mark.parametrize(
    ("kind", "filename", "message"),
    [
        ("therapists", "t.xls", "Only CSV and XLSX files can be imported"),
        ("payers", "t.csv", "Choose what the file holds"),
    ],
)
def test_a_wrong_kind_or_file_type_is_refused(admin_client, uploads, kind, filename, message):
    upload(admin_client, kind, csv_bytes(THERAPISTS), filename)

    assert message in flashed(admin_client.get(INDEX))[0]
    assert waiting_files(uploads) == []


def test_an_unreadable_file_is_reported_on_the_form(admin_client, uploads):
    upload(admin_client, "therapists", b"PK\x03\x04 broken", "t.xlsx")

    response = admin_client.get(PREVIEW, follow_redirects=True)

    assert response.request.path == INDEX
    assert flashed(response) == ["File: the file could not be read as an Excel workbook (XLSX)"]
    assert waiting_files(uploads) == []


def test_a_therapist_is_refused_the_screen_and_cannot_upload(client, uploads):
    therapist = make_therapist()
    make_therapist_user(therapist)
    db.session.commit()
    login(client, therapist.email)

    assert client.get(INDEX).status_code == 403
    assert upload(client, "therapists", csv_bytes(THERAPISTS), "t.csv").status_code == 403
    assert client.post(CONFIRM).status_code == 403
    assert waiting_files(uploads) == []
    assert db.session.scalar(select(func.count()).select_from(Therapist)) == 1


def test_the_forms_carry_a_csrf_token(app, database_url, uploads):
    protected = make_app(database_url, WTF_CSRF_ENABLED=True)
    protected.instance_path = app.instance_path
    make_admin()
    db.session.commit()
    visitor = protected.test_client()
    token = csrf_token(visitor.get("/login"))
    signed_in = visitor.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302

    token = csrf_token(visitor.get(INDEX))
    assert upload(visitor, "therapists", csv_bytes(THERAPISTS), "t.csv").status_code == 400
    assert waiting_files(uploads) == []
    assert upload(visitor, "therapists", csv_bytes(THERAPISTS), "t.csv", csrf_token=token).status_code == 302
    preview = visitor.get(PREVIEW)
    assert visitor.post(CONFIRM).status_code == 400
    assert visitor.post(CONFIRM, data={"csrf_token": csrf_token(preview)}).status_code == 302
    assert row_counts()["therapist"] == 2


def test_another_client_at_a_booked_hour_is_shown_as_a_clash_and_a_couple_row_joins_the_session(admin_client, uploads):
    """Issue #12 through the screen: the second file must not replace the booked session."""
    rosa = make_therapist(full_name="Rosa Quispe", email="rosa@clinic.pe")
    ana = make_client(full_name="Ana Ruiz", national_id="40111222")
    make_client(full_name="Carlos Soto", national_id="40333444")
    make_appointment(rosa, ana, dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC))  # 10:00 in Lima
    db.session.commit()
    header = "client_national_id,therapist_email,start,duration_minutes,fee,currency,kind"

    upload(
        admin_client,
        "appointments",
        f"{header}\n40333444,rosa@clinic.pe,2026-10-05 10:00,50,150,PEN,\n".encode(),
        "b.csv",
    )
    page = body(admin_client.get(PREVIEW))

    assert preview_errors(page) == [
        (
            "2",
            "start",
            "Clashes with Rosa Quispe's appointment on 2026-10-05 10:00–10:50 (same therapist). "
            "Several clients in one session need the kind column: couple, family or group.",
        )
    ]
    assert 'id="import-confirm"' not in page
    admin_client.post(CONFIRM)
    db.session.expire_all()
    [booked] = db.session.scalars(select(Appointment)).all()
    assert [p.client.full_name for p in booked.participants] == ["Ana Ruiz"]

    data = f"{header}\n40333444,rosa@clinic.pe,2026-10-05 10:00,50,150,PEN,pareja\n".encode()
    upload(admin_client, "appointments", data, "b2.csv")
    assert preview_counts(body(admin_client.get(PREVIEW))) == {"created": 1, "updated": 0, "unchanged": 0}
    confirmed = admin_client.post(CONFIRM, follow_redirects=True)

    assert flashed(confirmed) == [
        "b2.csv imported: 1 created, 0 updated, 0 unchanged.",
        "Clients matched by national ID: 1.",
    ]
    db.session.expire_all()
    [couple] = db.session.scalars(select(Appointment)).all()
    assert (couple.id, couple.kind.value) == (booked.id, "couple")
    assert sorted(p.client.full_name for p in couple.participants) == ["Ana Ruiz", "Carlos Soto"]
