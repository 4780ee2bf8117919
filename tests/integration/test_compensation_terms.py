"""Dated compensation terms: a session is earned by the terms in force on its date of service, and a
change of commission never rewrites an earlier month (DESIGN.md, "Compensation terms").

Ana Ruiz (Lima) is paid 40 % from 1 October 2026; on the 16th her commission becomes 45 % from that
day. Worked out by hand:
- September: 100.00 PEN on the 20th at 40 % -> 40.00.
- October, first half at 40 %: 100.00 on the 5th (40.00) and 100.00 at 23:30 on the 15th (40.00);
  second half at 45 %: 100.00 at 00:30 on the 16th (45.00) and 10.10 on the 20th (4.545 -> 4.55).
  4 sessions; gross 310.10 PEN; commission 129.55 PEN.
- November: 100.00 on the 2nd at 45 % -> 45.00.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from decimal import Decimal
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AppointmentKind,
    Attendance,
    AuditEvent,
    CompensationModel,
    CompensationTerms,
    Modality,
    Participant,
    Therapist,
)
from admin_app.services.people import compensation
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.reports import figures
from admin_app.services.reports import therapist_month as month_reports
from tests import factories
from tests.conftest import make_app, private_schema
from tests.factories import make_client, make_therapist
from tests.integration.test_month_report import pdf_text
from tests.integration.test_records_crud import therapist_form
from tests.pages import body, field_errors, flashed, text_of

D = Decimal
book = partial(factories.book, fee="100.00", currency="PEN")  # the figures below are worked out on 100.00 PEN
OCTOBER_FIRST = "2026-10-01T15:00Z"  # 10:00 in Lima
CHANGE_DAY = "2026-10-16T20:00Z"  # 15:00 in Lima, the day the new terms start


def change_commission(therapist: Therapist, percent: str, day: dt.date) -> CompensationTerms | None:
    """What the screen does: the mirror columns edited, then kept as terms from `day`."""
    therapist.commission_percent = D(percent)
    return compensation.keep_terms(db.session, therapist, effective_from=day)


@pytest.fixture
def ana(app, clock):
    ana = make_therapist(full_name="Ana Ruiz", email="ana@example.com", commission_percent=D("40.00"))
    client = make_client(full_name="José Peña")
    book(ana, [client], dt.datetime(2026, 9, 20, 10, 0))
    book(ana, [client], dt.datetime(2026, 10, 5, 10, 0))
    book(ana, [client], dt.datetime(2026, 10, 15, 23, 30))
    book(ana, [client], dt.datetime(2026, 10, 16, 0, 30))
    book(ana, [client], dt.datetime(2026, 10, 20, 10, 0), fee="10.10")
    book(ana, [client], dt.datetime(2026, 11, 2, 10, 0))
    db.session.commit()
    clock.set(CHANGE_DAY)
    change_commission(ana, "45.00", dt.date(2026, 10, 16))
    db.session.commit()
    return ana


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_each_half_of_the_month_is_earned_by_its_own_terms(ana):
    october = figures.month_totals(db.session, Month(2026, 10)).therapists
    lines = figures.session_lines(db.session, Month(2026, 10), ana.id)

    assert [(line.sessions, line.gross, line.commission) for line in october] == [
        (4, {"PEN": D("310.10")}, {"PEN": D("129.55")})
    ]
    assert [(line.starts_at.isoformat(), line.commission) for line in lines] == [
        ("2026-10-05T15:00:00+00:00", D("40.00")),
        ("2026-10-16T04:30:00+00:00", D("40.00")),  # 23:30 on the 15th in Lima
        ("2026-10-16T05:30:00+00:00", D("45.00")),  # 00:30 on the 16th in Lima
        ("2026-10-20T15:00:00+00:00", D("4.55")),
    ]
    assert figures.month_totals(db.session, Month(2026, 9)).therapists[0].commission == {"PEN": D("40.00")}
    assert figures.month_totals(db.session, Month(2026, 11)).therapists[0].commission == {"PEN": D("45.00")}


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_a_large_fee_is_earned_without_overflow(ana):
    """600,000 fee cents x 4,500 commission hundredths is 2.7 billion, past a 32-bit integer: the
    commission is still 6,000.00 x 45 % = 2,700.00 (and the month 129.55 + 2,700.00 = 2,829.55)."""
    book(ana, [make_client(full_name="Luis Rey")], dt.datetime(2026, 10, 28, 10, 0), fee="6000.00")
    db.session.commit()

    [october] = figures.month_totals(db.session, Month(2026, 10)).therapists
    assert (october.gross, october.commission) == ({"PEN": D("6310.10")}, {"PEN": D("2829.55")})


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_the_report_cli_earns_each_half_by_its_terms_and_keeps_september(runner, ana):
    october = runner.invoke(args=["report", "monthly", "--month", "2026-10"])
    september = runner.invoke(args=["report", "monthly", "--month", "2026-09"])

    assert october.exit_code == 0, october.output
    assert json.loads(october.output)["therapists"] == [
        {
            "email": "ana@example.com",
            "name": "Ana Ruiz",
            "sessions": 4,
            "gross": {"PEN": "310.10"},
            "commission": {"PEN": "129.55"},
        }
    ]
    assert json.loads(september.output)["totals"]["commission"] == {"PEN": "40.00"}


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_the_month_pdf_shows_both_terms_and_earns_each_line_by_its_own(ana):
    october = pdf_text(month_reports.month_report_pdf(db.session, Month(2026, 10), ana.id, language="en").content)
    september = pdf_text(month_reports.month_report_pdf(db.session, Month(2026, 9), ana.id, language="en").content)

    assert "Commission: 40 % of each fee (from 2026-10-01)" in october
    assert "Commission: 45 % of each fee (from 2026-10-16)" in october
    assert "2026-10-15 23:30 José Peña Individual Virtual PEN 100.00 PEN 40.00" in october
    assert "2026-10-16 00:30 José Peña Individual Virtual PEN 100.00 PEN 45.00" in october
    assert "2026-10-20 10:00 José Peña Individual Virtual PEN 10.10 PEN 4.55" in october
    assert "PEN PEN 310.10 PEN 129.55" in october
    # Terms unchanged within the month: one line, without a date, as before terms had dates.
    assert "Commission: 40 % of each fee" in september and "45 %" not in september


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_the_history_and_the_mirror_follow_the_change(ana):
    assert [(t.effective_from, t.commission_percent) for t in compensation.history(db.session, ana.id)] == [
        (dt.date(2026, 10, 16), D("45.00")),
        (dt.date(2026, 10, 1), D("40.00")),
    ]
    assert ana.commission_percent == D("45.00")


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_a_change_never_starts_in_an_earlier_month_before_the_newest_terms_or_in_the_future(ana, clock):
    clock.set("2026-11-03T15:00Z")
    expected = (
        "Effective from: a date from 2026-11-01 to 2026-11-03: new terms never change an earlier month "
        "or the days of the current terms, and start no later than today"
    )
    for day in (dt.date(2026, 10, 31), dt.date(2026, 11, 4)):
        with pytest.raises(RuleViolation) as refused:
            change_commission(ana, "50.00", day)
        assert (str(refused.value), refused.value.field) == (expected, "effective_from")
    with pytest.raises(RuleViolation) as missing:
        change_commission(ana, "50.00", None)
    assert str(missing.value) == "Effective from: this field is required"
    db.session.rollback()

    clock.set("2026-10-20T15:00Z")  # the newest terms started on the 16th, this month
    with pytest.raises(RuleViolation, match="a date from 2026-10-16 to 2026-10-20"):
        change_commission(ana, "50.00", dt.date(2026, 10, 15))


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_terms_of_the_same_day_are_corrected_and_unchanged_columns_add_nothing(ana):
    corrected = change_commission(ana, "46.00", dt.date(2026, 10, 16))
    unchanged = change_commission(ana, "46.00", None)
    db.session.commit()

    assert unchanged is None
    assert corrected.commission_percent == D("46.00")
    assert db.session.scalar(select(func.count()).select_from(CompensationTerms)) == 2
    assert figures.month_totals(db.session, Month(2026, 10)).therapists[0].commission == {
        "PEN": D("130.65")
    }  # 40.00 + 40.00 + 46.00 + 4.65


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_a_switch_to_a_service_fee_earns_by_the_fee_from_its_day(ana, clock):
    clock.set("2026-10-20T15:00Z")
    ana.compensation_model, ana.commission_percent, ana.service_fee = CompensationModel.SERVICE_FEE, None, D("30")
    compensation.keep_terms(db.session, ana, effective_from=dt.date(2026, 10, 20))
    db.session.commit()

    commissions = [line.commission for line in figures.session_lines(db.session, Month(2026, 10), ana.id)]
    assert commissions == [D("40.00"), D("40.00"), D("45.00"), D("0.00")]  # 10.10 - 30.00, never below 0


def test_a_session_before_the_first_terms_is_earned_by_them(app):
    """Terms start with the therapist; a history entered later is earned by their first terms."""
    late = make_therapist(commission_percent=D("50.00"))
    # Written as a migration or an import from an old spreadsheet leaves it: the booking screen
    # would refuse a start this far back.
    starts_at = clinic_time.from_local(dt.datetime(2024, 3, 4, 10, 0))
    participant = Participant(client=make_client(), fee=D("100.00"), currency="PEN", attendance=Attendance.ATTENDED)
    db.session.add(
        Appointment(
            therapist=late,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=50),
            kind=AppointmentKind.INDIVIDUAL,
            modality=Modality.VIRTUAL,
            participants=[participant],
        )
    )
    db.session.commit()

    assert late.compensation_terms[0].effective_from > dt.date(2024, 3, 4)
    assert figures.month_totals(db.session, Month(2024, 3)).therapists[0].commission == {"PEN": D("50.00")}


# --- the therapist screen ---------------------------------------------------------------------------


def edit(admin_client, therapist, **fields):
    return admin_client.post(
        f"/admin/therapist/edit/?id={therapist.id}",
        data=therapist_form(full_name=therapist.full_name, email=therapist.email, **fields),
        follow_redirects=True,
    )


def stored_terms(therapist_id: int) -> list[tuple[dt.date, Decimal | None]]:
    db.session.expire_all()
    return [(t.effective_from, t.commission_percent) for t in compensation.history(db.session, therapist_id)]


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_the_edit_form_asks_from_when_and_the_details_show_the_history(admin_client, clock):
    rosa = make_therapist(full_name="Rosa Mendoza", commission_percent=D("40.00"))
    db.session.commit()
    clock.set("2026-10-16T20:00Z")

    form = admin_client.get(f"/admin/therapist/edit/?id={rosa.id}")
    assert 'name="effective_from"' in body(form) and 'value="2026-10-16"' in body(form)
    response = edit(admin_client, rosa, commission_percent="45", effective_from="2026-10-10")

    assert flashed(response) == ["Record was successfully saved."]
    assert stored_terms(rosa.id) == [(dt.date(2026, 10, 10), D("45.00")), (dt.date(2026, 10, 1), D("40.00"))]
    details = body(admin_client.get(f"/admin/therapist/details/?id={rosa.id}"))
    history = text_of(re.search(r'<table[^>]*id="compensation-history".*?</table>', details, re.S).group(0))
    assert history == (
        "Effective from Compensation Commission % Service fee Created "
        "2026-10-10 Commission: a percentage of each fee 45% 2026-10-16 15:00 "
        "2026-10-01 Commission: a percentage of each fee 40% 2026-10-01 10:00"
    )


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Effective from: this field is required"),
        ("31/02/2026", "Effective from: expected a date as YYYY-MM-DD, got 31/02/2026"),
        ("2026-02-30", "Effective from: expected a date as YYYY-MM-DD, got 2026-02-30"),
        ("2026-09-30", "Effective from: a date from 2026-10-01 to 2026-10-16"),
    ],
)
@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_a_missing_or_wrong_date_is_refused_beside_the_field_and_changes_nothing(admin_client, clock, typed, error):
    rosa = make_therapist(full_name="Rosa Mendoza", commission_percent=D("40.00"))
    db.session.commit()
    clock.set("2026-10-16T20:00Z")

    response = edit(admin_client, rosa, commission_percent="45", effective_from=typed)

    assert response.status_code == 200
    assert field_errors(response)["effective_from"][0].startswith(error)
    assert stored_terms(rosa.id) == [(dt.date(2026, 10, 1), D("40.00"))]
    assert db.session.get(Therapist, rosa.id).commission_percent == D("40.00")


def test_a_new_therapist_is_not_asked_and_starts_with_terms_from_today(admin_client, clock):
    form = admin_client.get("/admin/therapist/new/")
    response = admin_client.post("/admin/therapist/new/", data=therapist_form(), follow_redirects=True)

    assert 'name="effective_from"' not in body(form)
    assert flashed(response) == ["Record was successfully created."]
    rosa = db.session.scalar(select(Therapist).where(Therapist.email == "rosa@example.com"))
    assert stored_terms(rosa.id) == [(clock.today(), D("45.00"))]


# --- the import and the migration ---------------------------------------------------------------------


@pytest.mark.parametrize("clock", [OCTOBER_FIRST], indirect=True)
def test_the_import_starts_terms_for_new_therapists_and_dates_a_change_today(runner, ana, tmp_path, clock):
    clock.set("2026-11-03T15:00Z")
    sheet = tmp_path / "therapists.csv"
    sheet.write_text(
        "name,email,commission_percent,default_fee,currency\n"
        "Ana Ruiz,ana@example.com,50,150.00,PEN\n"
        "Nora Vega,nora@example.com,35,120.00,PEN\n",
        encoding="utf-8",
    )

    result = runner.invoke(args=["import", "therapists", str(sheet)])

    assert result.exit_code == 0, result.output
    nora = db.session.scalar(select(Therapist).where(Therapist.email == "nora@example.com"))
    assert stored_terms(nora.id) == [(dt.date(2026, 11, 3), D("35.00"))]
    assert stored_terms(ana.id)[0] == (dt.date(2026, 11, 3), D("50.00"))
    assert figures.month_totals(db.session, Month(2026, 10)).therapists[0].commission == {"PEN": D("129.55")}


@pytest.fixture(params=["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with private_schema(os.environ["TEST_DATABASE_URL"], "terms") as url:
        yield url


def test_the_migration_turns_each_therapists_values_into_first_terms(empty_database):
    """Terms from the clinic date of the first appointment, or of the creation when earlier (or
    alone), else the day of the migration; the values as they were."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0006_logins"]).exit_code == 0
    utc = dt.UTC
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        therapist = {
            "default_fee": D("150"),
            "default_currency": "PEN",
            "active": True,
            "commission_percent": None,
            "service_fee": None,
        }
        # The table as it stands at 0006 (the model's has columns added since, with defaults).
        therapist_at_0006 = sa.Table("therapist", sa.MetaData(), autoload_with=connection)
        connection.execute(
            sa.insert(therapist_at_0006),
            [
                {
                    "id": 1,
                    "full_name": "Ana",
                    "email": "ana@example.com",
                    "compensation_model": "commission",
                    **therapist,
                    "commission_percent": D("45"),
                },
                {
                    "id": 2,
                    "full_name": "Beto",
                    "email": "beto@example.com",
                    "compensation_model": "service_fee",
                    **therapist,
                    "service_fee": D("40"),
                },
                {
                    "id": 3,
                    "full_name": "Ceci",
                    "email": "ceci@example.com",
                    "compensation_model": "commission",
                    **therapist,
                    "commission_percent": D("30"),
                },
            ],
        )
        first = dt.datetime(2025, 3, 2, 4, 30, tzinfo=utc)  # 23:30 on 1 March in Lima
        later = dt.datetime(2025, 6, 2, 15, 0, tzinfo=utc)
        appointment = {"kind": "individual", "modality": "virtual", "status": "held"}
        connection.execute(
            sa.insert(Appointment.__table__),
            [
                {"therapist_id": 1, "starts_at": first, "ends_at": first + dt.timedelta(minutes=50), **appointment},
                {"therapist_id": 1, "starts_at": later, "ends_at": later + dt.timedelta(minutes=50), **appointment},
                {"therapist_id": 2, "starts_at": later, "ends_at": later + dt.timedelta(minutes=50), **appointment},
            ],
        )
        connection.execute(
            sa.insert(AuditEvent.__table__),
            [
                {
                    "occurred_at": dt.datetime(2025, 5, 10, 15, 0, tzinfo=utc),
                    "actor": "system",
                    "action": "create",
                    "entity": "therapist",
                    "entity_id": 2,
                    "changed_fields": [],
                },
                {
                    "occurred_at": dt.datetime(2025, 9, 1, 15, 0, tzinfo=utc),
                    "actor": "system",
                    "action": "create",
                    "entity": "therapist",
                    "entity_id": 1,
                    "changed_fields": [],
                },
            ],
        )
    engine.dispose()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output

    with app.app_context():
        terms = db.session.scalars(select(CompensationTerms).order_by(CompensationTerms.therapist_id)).all()
        assert [
            (t.therapist_id, t.effective_from, t.compensation_model, t.commission_percent, t.service_fee) for t in terms
        ] == [
            (1, dt.date(2025, 3, 1), CompensationModel.COMMISSION, D("45.00"), None),
            (2, dt.date(2025, 5, 10), CompensationModel.SERVICE_FEE, None, D("40.00")),
            (3, clinic_time.today(), CompensationModel.COMMISSION, D("30.00"), None),
        ]
        assert terms[0].starts_at == dt.datetime(2025, 3, 1, 5, 0, tzinfo=utc)  # midnight in Lima
        db.session.remove()
