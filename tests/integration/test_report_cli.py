"""`flask report ...`: the month-end table, the year and the new clients as the practice exports
them, checked against figures worked out by hand (same bookings as tests/integration/test_stats.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Attendance, AuditAction, AuditEvent, SurveyInvitation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from tests.factories import book, make_client, make_room, make_therapist

D = Decimal


@pytest.fixture
def october(app):
    """Lima, October 2026. Ana (45 % commission), Beto (service fee 40.00), Carla (service fee
    50.00, so a 50.00 USD session earns her nothing), Dora (only a cancelled session)."""
    ana = make_therapist(
        default_fee=D("100.00"), full_name="Ana", email="ana@example.com", commission_percent=D("45.00")
    )
    beto = make_therapist(default_fee=D("100.00"), full_name="Beto", email="beto@example.com", service_fee=D("40.00"))
    carla = make_therapist(
        default_fee=D("100.00"), full_name="Carla", email="carla@example.com", service_fee=D("50.00")
    )
    dora = make_therapist(default_fee=D("100.00"), full_name="Dora", email="dora@example.com")
    c1, c2, c3, c4 = (make_client(full_name=f"C{n}") for n in range(1, 5))
    book(ana, [c1], dt.datetime(2026, 10, 31, 23, 30), fee="10.10")  # 4.545 -> 4.55
    book(ana, [c1], dt.datetime(2026, 10, 5, 10, 0), fee="150.00")  # 67.50
    book(ana, [c2], dt.datetime(2026, 10, 6, 10, 0), fee="80.00", currency="USD", room=make_room())  # 36.00
    book(ana, [c3, c4], dt.datetime(2026, 10, 7, 10, 0), fee="100.00")  # one session, 45.00 + 45.00
    book(ana, [c2], dt.datetime(2026, 10, 8, 10, 0), attendance=Attendance.NO_SHOW)
    book(ana, [c1], dt.datetime(2026, 11, 1, 0, 30), fee="999.00")  # November
    book(beto, [c4], dt.datetime(2026, 10, 12, 18, 0), fee="120.00")  # 80.00
    book(beto, [c4], dt.datetime(2026, 10, 19, 18, 0), fee="60.00")  # 20.00
    book(carla, [c3], dt.datetime(2026, 10, 20, 9, 0), fee="50.00", currency="USD")  # 0.00
    book(dora, [c2], dt.datetime(2026, 10, 21, 9, 0), attendance=Attendance.CANCELLED)
    db.session.commit()
    return ana, beto, carla, dora


ANA = {
    "email": "ana@example.com",
    "name": "Ana",
    "sessions": 4,
    "gross": {"PEN": "360.10", "USD": "80.00"},
    "commission": {"PEN": "162.05", "USD": "36.00"},
}
BETO = {
    "email": "beto@example.com",
    "name": "Beto",
    "sessions": 2,
    "gross": {"PEN": "180.00"},
    "commission": {"PEN": "100.00"},
}
CARLA = {"email": "carla@example.com", "name": "Carla", "sessions": 1, "gross": {"USD": "50.00"}, "commission": {}}


def invoke(runner, *args: str):
    return runner.invoke(args=["report", *args])


def test_the_month_as_json_is_the_table_worked_out_by_hand(runner, october):
    result = invoke(runner, "monthly", "--month", "2026-10", "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "month": "2026-10",
        "timezone": "America/Lima",
        "therapists": [ANA, BETO, CARLA],
        "totals": {
            "sessions": 7,
            "gross": {"PEN": "540.10", "USD": "130.00"},
            "commission": {"PEN": "262.05", "USD": "36.00"},
        },
    }


def test_one_therapist_by_email_in_any_case(runner, october):
    result = invoke(runner, "monthly", "--month", "2026-10", "--therapist", "Beto@Example.com")
    nothing = invoke(runner, "monthly", "--month", "2026-10", "--therapist", "dora@example.com")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["therapists"] == [BETO]
    assert report["totals"] == {"sessions": 2, "gross": {"PEN": "180.00"}, "commission": {"PEN": "100.00"}}
    assert json.loads(nothing.output)["therapists"] == []
    assert json.loads(nothing.output)["totals"] == {"sessions": 0, "gross": {}, "commission": {}}


def test_an_unknown_therapist_is_refused_by_name(runner, october):
    result = invoke(runner, "monthly", "--month", "2026-10", "--therapist", "nobody@example.com")

    assert result.exit_code != 0
    assert "--therapist: no therapist has the email nobody@example.com" in result.output
    assert "Traceback" not in result.output


def test_the_month_as_csv_has_a_row_per_therapist_and_currency_then_the_totals(runner, october):
    result = invoke(runner, "monthly", "--month", "2026-10", "--format", "csv")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert rows == [
        ["month", "email", "name", "sessions", "currency", "gross", "commission"],
        ["2026-10", "ana@example.com", "Ana", "4", "PEN", "360.10", "162.05"],
        ["2026-10", "ana@example.com", "Ana", "4", "USD", "80.00", "36.00"],
        ["2026-10", "beto@example.com", "Beto", "2", "PEN", "180.00", "100.00"],
        ["2026-10", "carla@example.com", "Carla", "1", "USD", "50.00", "0.00"],
        ["2026-10", "", "TOTAL", "7", "PEN", "540.10", "262.05"],
        ["2026-10", "", "TOTAL", "7", "USD", "130.00", "36.00"],
    ]


def test_an_empty_month_as_csv_still_has_its_total_row(runner, october):
    result = invoke(runner, "monthly", "--month", "2026-09", "--format", "csv")

    rows = list(csv.reader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert rows[1:] == [["2026-09", "", "TOTAL", "0", "", "", ""]]


def test_a_fee_below_the_service_fee_earns_nothing(runner, app):
    """A 30.00 session with a service fee of 50.00 earns the therapist 0.00, never less (DESIGN.md,
    "Compensation terms"): the CSV and the JSON say so."""
    eva = make_therapist(
        default_fee=D("100.00"),
        full_name="Eva",
        email="eva@example.com",
        service_fee=D("50.00"),
    )
    book(eva, [make_client()], dt.datetime(2026, 10, 5, 10, 0), fee="30.00")
    db.session.commit()

    text = invoke(runner, "monthly", "--month", "2026-10", "--format", "csv").output
    report = json.loads(invoke(runner, "monthly", "--month", "2026-10").output)

    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[1] == ["2026-10", "eva@example.com", "Eva", "1", "PEN", "30.00", "0.00"]
    assert report["totals"]["commission"] == {}


def test_the_month_to_a_file_is_utf8_json_and_recorded_as_an_export(runner, october, tmp_path):
    target = tmp_path / "october.json"

    result = invoke(runner, "monthly", "--month", "2026-10", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text(encoding="utf-8"))["totals"]["sessions"] == 7
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)).all()
    assert event.entity == "therapist" and event.actor.endswith("report monthly")


@pytest.fixture
def year_2025(app):
    """2025: Ana sees `old` from January (new), again in March (recurrent) with `fresh` on site in
    USD (new); September's survey gets three answers (10, 9, 3: NPS 33.3), October's none."""
    ana = make_therapist(default_fee=D("100.00"), full_name="Ana", email="ana@example.com")
    old, fresh = make_client(full_name="Old"), make_client(full_name="Fresh")
    book(ana, [old], dt.datetime(2025, 1, 10, 10, 0))
    book(ana, [old], dt.datetime(2025, 3, 3, 10, 0), fee="120.00")
    book(ana, [fresh], dt.datetime(2025, 3, 4, 10, 0), fee="40.00", currency="USD", room=make_room())
    september = [make_client(full_name=f"S{n}") for n in range(3)]
    for n, client in enumerate(september):
        book(ana, [client], dt.datetime(2025, 9, 5 + n, 10, 0))
    book(ana, [old], dt.datetime(2025, 10, 6, 10, 0))
    db.session.commit()
    surveys.send_for_month(db.session, Month(2025, 9))
    surveys.send_for_month(db.session, Month(2025, 10))
    invitations = db.session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.month == "2025-09").order_by(SurveyInvitation.id)
    ).all()
    for invitation, score in zip(invitations, ("10", "9", "3"), strict=True):
        surveys.submit(db.session, invitation, stars={ana.id: "5"}, nps=score, comment=None)
    db.session.commit()


def test_the_year_as_json_has_twelve_months_and_nps_only_where_answered(runner, year_2025):
    result = invoke(runner, "yearly", "--year", "2025")

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["year"], report["timezone"]) == (2025, "America/Lima")
    months = report["months"]
    assert [line["month"] for line in months] == [f"2025-{n:02d}" for n in range(1, 13)]
    assert months[2] == {
        "month": "2025-03",
        "sessions": 2,
        "responses": 0,
        "nps": None,
        "new_clients": 1,
        "recurrent_clients": 1,
        "virtual_clients": 1,
        "onsite_clients": 1,
        "gross": {"PEN": "120.00", "USD": "40.00"},
    }
    assert (months[8]["responses"], months[8]["nps"]) == (3, 33.3)
    assert '"nps": 33.3,' in result.output  # a JSON number, not a string
    assert (months[9]["responses"], months[9]["nps"]) == (0, None)
    assert months[1]["gross"] == {} and months[1]["sessions"] == 0


def test_the_year_as_csv_has_a_gross_column_per_currency_of_the_year(runner, year_2025):
    result = invoke(runner, "yearly", "--year", "2025", "--format", "csv")

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert rows[0] == [
        "month",
        "sessions",
        "responses",
        "nps",
        "new_clients",
        "recurrent_clients",
        "virtual_clients",
        "onsite_clients",
        "gross_PEN",
        "gross_USD",
    ]
    assert len(rows) == 13
    assert rows[3] == ["2025-03", "2", "0", "", "1", "1", "1", "1", "120.00", "40.00"]
    assert rows[9] == ["2025-09", "3", "3", "33.3", "3", "0", "3", "0", "300.00", "0.00"]


def test_new_clients_to_a_file_start_with_the_bom(runner, october, tmp_path):
    target = tmp_path / "new.csv"

    result = invoke(runner, "new-clients", "--from", "2026-10-01", "--to", "2026-10-31", "--output", str(target))

    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["name", "client_number", "national_id", "email", "phone", "first_session", "first_therapist"]
    assert [row[0] for row in rows[1:]] == ["C1", "C2", "C3", "C4"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT))
    assert event.entity == "client"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("monthly", "--month", "October"), "expected a month as YYYY-MM, got October"),
        (("monthly", "--month", "2026-13"), "expected a month as YYYY-MM"),
        (("monthly", "--month", "9999-12"), "--month: choose a month from the years 1900 to 2099, got 9999-12"),
        (("monthly", "--month", "2026-10", "--format", "xml"), "Invalid value for '--format'"),
        (("yearly", "--year", "twenty"), "Invalid value for '--year'"),
        (("yearly", "--year", "12026"), "--year: expected a year from"),
        (("yearly", "--year", "2026", "--format", "pdf"), "Invalid value for '--format'"),
        (("new-clients", "--from", "2026-02-30", "--to", "2026-03-31"), "Invalid value for '--from'"),
        (("new-clients", "--from", "2026-10-31", "--to", "2026-10-01"), "the end date is before the start date"),
        (("new-clients", "--from", "2026-10-01", "--to", "9999-12-31"), "expected a year from"),
        (("monthly", "--month", "2026-10", "--format", "pdf", "--therapist", "ana@example.com"), "add --output"),
    ],
)
def test_a_bad_value_is_a_message_and_a_failed_exit(runner, october, args, message):
    result = invoke(runner, *args)

    assert result.exit_code != 0
    assert message in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_pdf_needs_a_therapist(runner, october, tmp_path):
    result = invoke(runner, "monthly", "--month", "2026-10", "--format", "pdf", "--output", str(tmp_path / "a.pdf"))

    assert result.exit_code != 0
    assert "add --therapist" in result.output
    assert not (tmp_path / "a.pdf").exists()


def test_a_therapist_month_pdf_is_written_to_the_file(runner, october, tmp_path):
    pytest.importorskip("admin_app.services.reports.therapist_month")
    from pypdf import PdfReader

    target = tmp_path / "ana.pdf"

    result = invoke(
        runner,
        "monthly",
        "--month",
        "2026-10",
        "--format",
        "pdf",
        "--therapist",
        "ana@example.com",
        "--output",
        str(target),
    )

    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "Ana" in text and "162.05" in text
