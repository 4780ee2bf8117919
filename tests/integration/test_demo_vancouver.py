"""`flask seed-demo --practice vancouver`: the Vancouver network, loaded once for the module as
`make run DEMO=vancouver` loads it (full size, 18 months, a fixed today) and read as staff would."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from email_validator import validate_email
from flask import Flask
from sqlalchemy import func, select, text

from admin_app.demo.catalogue import marker_email
from admin_app.demo.practices import VANCOUVER as VANCOUVER_PRACTICE
from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    Appointment,
    Attendance,
    Authorization,
    BadFitEntry,
    Client,
    ClientLink,
    CompensationModel,
    HeldReason,
    InvoiceStatus,
    LinkKind,
    Participant,
    Payer,
    PayerKind,
    PaymentSource,
    PayoutLine,
    PayoutStatement,
    Room,
    RoomReservation,
    Site,
    TaskKind,
    Therapist,
    User,
)
from admin_app.services.billing.authorizations import AuthorizationStatus, authorization_rows
from admin_app.services.platform.clinic_time import to_local
from admin_app.services.rooms.room_use import low_reservations
from tests.conftest import _empty_all_tables, login, make_app
from tests.integration.test_demo import (
    check_invoiced_as_staff_would,
    check_paid_out_as_staff_would,
    count,
    printed_logins,
    row_counts,
)
from tests.queries import counted_queries

VANCOUVER = ZoneInfo("America/Vancouver")
TODAY = "2026-03-10"
SEED = ["seed-demo", "--practice", "vancouver", "--today", TODAY]
# What `make run DEMO=vancouver` sets.
SETTINGS = {
    "CLINIC_TIMEZONE": "America/Vancouver",
    "CURRENCIES": ("CAD",),
    "DEFAULT_CURRENCY": "CAD",
    "DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_LOCALE": "en",
    "PHONE_REGION": "CA",
}


@dataclass
class Seeded:
    app: Flask
    output: str
    seconds: float


@pytest.fixture(scope="module")
def vancouver(migrated_app, database_url):
    app = make_app(database_url, **SETTINGS)
    with app.app_context():
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=SEED)
        seconds = time.perf_counter() - started
        assert result.exit_code == 0, result.output
        print(f"Vancouver demo seeded in {seconds:.1f} s")
        yield Seeded(app, result.output, seconds)
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def test_the_network_has_40_therapists_three_sites_and_its_payers(vancouver):
    assert "therapists: 40" in vancouver.output
    therapists = db.session.scalars(select(Therapist)).all()
    assert len(therapists) == 40
    models = {model: [t for t in therapists if t.compensation_model == model] for model in CompensationModel}
    assert len(models[CompensationModel.SERVICE_FEE]) >= 10
    assert all(t.service_fee > 0 and t.commission_percent is None for t in models[CompensationModel.SERVICE_FEE])
    assert all(60 <= t.commission_percent <= 70 for t in models[CompensationModel.COMMISSION])
    assert {t.default_currency for t in therapists} == {"CAD"}
    for therapist in therapists:
        validate_email(therapist.email, check_deliverability=False)
        assert phonenumbers.region_code_for_number(phonenumbers.parse(therapist.phone)) == "CA"
    rooms = dict(db.session.execute(select(Site.name, func.count(Room.id)).join(Room).group_by(Site.name)).all())
    assert set(rooms) == {"Downtown", "Kitsilano", "Burnaby"}
    assert all(n >= 2 for n in rooms.values())
    assert set(db.session.scalars(select(Payer.name))) == {
        "ICBC",
        "WorkSafeBC",
        "Pacific EAP",
        "Crime Victim Assistance Program",
    }
    assert set(db.session.scalars(select(Therapist.site_id))) == set(db.session.scalars(select(Site.id)))


def test_therapists_are_registered_and_the_provisional_ones_have_a_supervisor(vancouver):
    therapists = db.session.scalars(select(Therapist)).all()
    by_id = {t.id: t for t in therapists}

    bodies = {t.designation: t.registration_body for t in therapists}
    assert bodies == {
        "R.Psych.": "College of Health and Care Professionals of BC",
        "RCC": "BC Association of Clinical Counsellors",
    }
    assert len({t.registration_number for t in therapists}) == 40
    provisional = [t for t in therapists if t.provisional]
    assert 2 <= len(provisional) <= 10
    for therapist in provisional:
        supervisor = by_id[therapist.supervisor_id]
        assert supervisor.designation == therapist.designation == "R.Psych."
        assert supervisor.active and not supervisor.provisional
    assert all(t.supervisor_id is None for t in therapists if not t.provisional)


def test_clients_speak_english_or_french_have_numbers_and_no_national_id(vancouver):
    languages = dict(
        db.session.execute(select(Client.preferred_language, func.count()).group_by(Client.preferred_language)).all()
    )
    assert set(languages) == {"en", "fr"}
    assert languages["fr"] >= 40
    assert count(Client) >= 400
    assert not db.session.scalar(select(func.count()).where(Client.national_id.is_not(None)))
    numbers = db.session.scalars(select(Client.client_number)).all()
    assert all(numbers) and len(set(numbers)) == len(numbers)
    for client in db.session.scalars(select(Client).where(Client.phone.is_not(None)).limit(200)):
        number = phonenumbers.parse(client.phone)
        assert phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) == "CA"


def test_referred_clients_are_billed_to_their_payer_and_self_pay_clients_to_themselves(vancouver):
    sources = dict(db.session.execute(select(PaymentSource.client_id, PaymentSource.payer_id)).all())
    assert all(sources.values())  # a source names a payer; self-pay clients have none
    assert len(set(sources.values())) == 4
    billed = db.session.execute(select(Participant.client_id, Participant.payer_id).distinct()).all()
    for client_id, payer_id in billed:
        assert payer_id == sources.get(client_id), client_id
    self_pay = {client_id for client_id, payer_id in billed if payer_id is None}
    assert len(self_pay) >= 100


def test_virtual_and_on_site_sessions_couples_and_families_and_no_double_booking(vancouver):
    kinds = set(db.session.scalars(select(Appointment.kind).distinct()))
    assert {k.value for k in kinds} == {"individual", "couple", "family"}
    assert {m.value for m in db.session.scalars(select(Appointment.modality).distinct())} == {"virtual", "on_site"}
    for appointment in db.session.scalars(select(Appointment).where(Appointment.kind == "family").limit(20)):
        parent, child = sorted(appointment.participants, key=lambda p: p.client.birth_date)
        assert any(
            link.kind == LinkKind.GUARDIAN_OF and link.related_client_id == child.client_id
            for link in db.session.scalars(select(ClientLink).where(ClientLink.client_id == parent.client_id))
        )
    for column in ("therapist_id", "room_id"):
        clashes = db.session.execute(
            text(
                f"SELECT a.id FROM appointment a JOIN appointment b ON a.{column} = b.{column} AND a.id < b.id"
                f" AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            )
        ).all()
        assert clashes == [], column


def test_rooms_are_reserved_without_overlap_some_use_is_unreserved_and_some_blocks_idle(vancouver):
    """The demo's reservations (demo/rooms.py): no two of one room overlap; a therapist who sees clients on
    site without any reservation exists; the idle blocks hold no appointment, and the least-used of
    them (the most hours) is the demo therapist login's."""
    assert "room reservations: " in vancouver.output
    overlapping = db.session.execute(
        text(
            "SELECT a.id FROM room_reservation a JOIN room_reservation b ON a.room_id = b.room_id AND a.id < b.id"
            " AND a.weekday = b.weekday AND a.starts_time < b.ends_time AND b.starts_time < a.ends_time"
            " AND (a.valid_until IS NULL OR a.valid_until >= b.valid_from)"
            " AND (b.valid_until IS NULL OR b.valid_until >= a.valid_from)"
        )
    ).all()
    assert overlapping == []
    unreserved = db.session.execute(
        text(
            "SELECT DISTINCT a.therapist_id FROM appointment a WHERE a.modality = 'on_site' AND NOT EXISTS"
            " (SELECT 1 FROM room_reservation r WHERE r.therapist_id = a.therapist_id)"
        )
    ).all()
    assert unreserved
    idle = db.session.scalars(
        select(RoomReservation).where(
            RoomReservation.starts_time == dt.time(8, 0), RoomReservation.ends_time == dt.time(12, 0)
        )
    ).all()
    marker = db.session.scalar(select(Therapist.id).where(Therapist.email == marker_email(VANCOUVER_PRACTICE)))
    afternoons = db.session.scalars(
        select(RoomReservation.therapist_id).where(
            RoomReservation.starts_time == dt.time(13, 0), RoomReservation.ends_time == dt.time(18, 0)
        )
    ).all()
    assert afternoons == [marker]
    assert len({block.therapist_id for block in idle}) == 3 and marker in {block.therapist_id for block in idle}
    least_used = low_reservations(db.session, dt.date.fromisoformat(TODAY))
    assert (least_used[0].therapist_id, least_used[0].starts_time, least_used[0].figures.use) == (
        marker,
        dt.time(13, 0),
        0,
    )
    for block in idle:
        held = db.session.scalars(
            select(Appointment.starts_at).where(Appointment.room_id == block.room_id, Appointment.modality == "on_site")
        ).all()
        clashing = [
            s
            for s in held
            if to_local(s).isoweekday() == block.weekday and dt.time(7, 0) < to_local(s).time() < dt.time(12, 0)
        ]
        assert clashing == [], (block.therapist_id, block.room_id, block.weekday)


def test_sessions_keep_their_local_time_across_daylight_saving(vancouver):
    """Clocks went back on Sunday 2025-11-02 and forward on Sunday 2026-03-08 (no sessions on
    Sundays): the Mondays either side have the same local times, an hour apart in UTC."""
    first = to_local(db.session.scalar(select(func.min(Appointment.starts_at))), VANCOUVER)
    assert first.date() == dt.date(2024, 10, 1)
    local_hours = defaultdict(set)
    offsets = {}
    for day in (dt.date(2025, 10, 27), dt.date(2025, 11, 3), dt.date(2026, 3, 2), dt.date(2026, 3, 9)):
        start = dt.datetime.combine(day, dt.time(), VANCOUVER).astimezone(dt.UTC)
        rows = db.session.execute(
            select(Appointment.therapist_id, Appointment.starts_at).where(
                Appointment.starts_at >= start, Appointment.starts_at < start + dt.timedelta(hours=23)
            )
        ).all()
        assert len(rows) >= 50, day
        for therapist_id, starts_at in rows:
            local = to_local(starts_at, VANCOUVER)
            assert local.date() == day and local.minute == 0 and 8 <= local.hour < 20
            offsets[day] = local.utcoffset()
            local_hours[day].add((therapist_id, local.hour))
    assert offsets == {
        dt.date(2025, 10, 27): dt.timedelta(hours=-7),
        dt.date(2025, 11, 3): dt.timedelta(hours=-8),
        dt.date(2026, 3, 2): dt.timedelta(hours=-8),
        dt.date(2026, 3, 9): dt.timedelta(hours=-7),
    }
    # Weekly series: most of a Monday's (therapist, local hour) pairs are there the next Monday too.
    assert len(local_hours[dt.date(2025, 10, 27)] & local_hours[dt.date(2025, 11, 3)]) >= 50
    assert len(local_hours[dt.date(2026, 3, 2)] & local_hours[dt.date(2026, 3, 9)]) >= 50


def test_the_month_end_report_is_in_canadian_dollars_only(vancouver):
    result = vancouver.app.test_cli_runner().invoke(args=["report", "monthly", "--month", "2026-02"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["timezone"] == "America/Vancouver"
    assert len(report["therapists"]) == 40
    assert all(set(line["gross"]) == {"CAD"} == set(line["commission"]) for line in report["therapists"])
    assert set(report["totals"]["gross"]) == {"CAD"}
    # Pinned before authorizations joined the demo: linking sessions to them moved no figure.
    assert report["totals"] == {
        "sessions": 1050,
        "gross": {"CAD": "219805.00"},
        "commission": {"CAD": "148078.04"},
    }


def test_a_second_run_changes_nothing_and_repeats_the_logins(vancouver):
    before = row_counts()

    second = vancouver.app.test_cli_runner().invoke(args=SEED)

    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert printed_logins(second.output) == printed_logins(vancouver.output)
    assert row_counts() == before


def test_the_printed_logins_open_an_english_back_office_and_the_portal(vancouver):
    logins = printed_logins(vancouver.output)
    admin_email, admin_password = logins["admin"]
    assert db.session.scalar(select(User.locale).where(User.email == admin_email)) == "en"
    with vancouver.app.test_client() as browser:
        assert login(browser, admin_email, admin_password).status_code == 302
        for url in ("/admin/", "/admin/book/", "/admin/client/", "/admin/therapist/"):
            page = browser.get(url, follow_redirects=True)
            assert page.status_code == 200, url
            html = page.get_data(as_text=True)
            assert '<html lang="en">' in html, url
            assert "Therapists" in html and "Terapeutas" not in html and "Thérapeutes" not in html, url
    therapist_email, therapist_password = logins["therapist"]
    with vancouver.app.test_client() as browser:
        assert login(browser, therapist_email, therapist_password).status_code == 302
        page = browser.get("/portal/appointments/")
        assert page.status_code == 200
        assert '<html lang="en">' in page.get_data(as_text=True)


def authorizations_as_of_today():
    return authorization_rows(db.session, today=dt.date.fromisoformat(TODAY))


def test_the_payers_have_their_billing_settings(vancouver):
    payers = {payer.name: payer for payer in db.session.scalars(select(Payer))}
    assert payers["ICBC"].kind == PayerKind.INSURER
    assert payers["Pacific EAP"].kind == PayerKind.EMPLOYER
    assert payers["WorkSafeBC"].kind == payers["Crime Victim Assistance Program"].kind == PayerKind.PUBLIC
    assert [name for name, payer in payers.items() if payer.refuses_over_approved] == ["WorkSafeBC"]
    assert [name for name, payer in payers.items() if payer.counts_missed_sessions] == ["Pacific EAP"]
    assert all(payer.billing_address and payer.provider_number and payer.active for payer in payers.values())


def test_referred_clients_have_authorizations_in_every_state_as_of_the_demos_today(vancouver):
    rows = authorizations_as_of_today()

    statuses = defaultdict(int)
    for row in rows:
        statuses[row.status] += 1
    assert set(statuses) == set(AuthorizationStatus)
    assert statuses[AuthorizationStatus.ACTIVE] > statuses[AuthorizationStatus.LOW] >= 10
    referred = set(db.session.scalars(select(PaymentSource.client_id)))
    assert {row.client_id for row in rows} == referred
    assert {row.payer for row in rows} == {"ICBC", "WorkSafeBC", "Pacific EAP", "Crime Victim Assistance Program"}


def test_authorization_counts_never_go_beyond_what_was_approved(vancouver):
    rows = authorizations_as_of_today()

    assert all(row.counts.used + row.counts.scheduled <= row.approved for row in rows)
    exhausted = [row for row in rows if row.status == AuthorizationStatus.EXHAUSTED]
    assert all(row.counts.used == row.approved and row.counts.scheduled == 0 for row in exhausted)
    low = [row for row in rows if row.status == AuthorizationStatus.LOW]
    assert any(row.remaining <= 2 and row.valid_until > dt.date(2026, 3, 24) for row in low)  # few left
    assert any(row.valid_until <= dt.date(2026, 3, 24) for row in low)  # ends within 14 days
    # The counts are the participants linked to each authorization, counted by hand.
    attendance = defaultdict(list)
    for authorization_id, value in db.session.execute(
        select(Participant.authorization_id, Participant.attendance).where(Participant.authorization_id.is_not(None))
    ):
        attendance[authorization_id].append(value)
    missed_counted = set(db.session.scalars(select(Payer.name).where(Payer.counts_missed_sessions.is_(True))))
    for row in rows:
        outcomes = attendance[row.id]
        used = {Attendance.ATTENDED} | (
            {Attendance.LATE_CANCELLED, Attendance.NO_SHOW} if row.payer in missed_counted else set()
        )
        assert row.counts.scheduled == outcomes.count(Attendance.EXPECTED), row
        assert row.counts.used == sum(1 for value in outcomes if value in used), row


def test_sessions_billed_to_a_payer_are_linked_to_the_authorization_covering_their_date(vancouver):
    """A client's authorizations from one payer never overlap, so the one covering the date of
    service is what the rule picks; a session no authorization covers is linked to nothing."""
    authorizations = db.session.scalars(select(Authorization)).all()
    by_pair = defaultdict(list)
    for authorization in authorizations:
        by_pair[(authorization.client_id, authorization.payer_id)].append(authorization)
    for chain in by_pair.values():
        chain.sort(key=lambda authorization: authorization.valid_from)
        assert all(a.valid_until < b.valid_from for a, b in pairwise(chain))
    billed = db.session.execute(
        select(Participant.client_id, Participant.payer_id, Participant.authorization_id, Appointment.starts_at)
        .join(Appointment, Appointment.id == Participant.appointment_id)
        .where(Participant.payer_id.is_not(None))
    ).all()
    uncovered = 0
    for client_id, payer_id, authorization_id, starts_at in billed:
        day = to_local(starts_at, VANCOUVER).date()
        covering = [a.id for a in by_pair[(client_id, payer_id)] if a.valid_from <= day <= a.valid_until]
        assert [authorization_id] == covering or (authorization_id is None and covering == [])
        uncovered += authorization_id is None
    assert 0 < uncovered < len(billed) / 50  # a few bookings past an authorization that ends soon
    refusing = db.session.scalar(select(Payer.id).where(Payer.name == "WorkSafeBC"))
    assert all(a is not None for _c, payer_id, a, _s in billed if payer_id == refusing)


def test_extensions_are_chained_without_overlap(vancouver):
    authorizations = {a.id: a for a in db.session.scalars(select(Authorization))}
    extensions = [a for a in authorizations.values() if a.extends_id is not None]

    assert len(extensions) >= 100
    for extension in extensions:
        extended = authorizations[extension.extends_id]
        assert (extended.client_id, extended.payer_id) == (extension.client_id, extension.payer_id)
        assert extension.valid_from == extended.valid_until + dt.timedelta(days=1)
        assert extended.extension_requested_at is not None
    rows = {row.id: row for row in authorizations_as_of_today()}
    assert any(rows[a.extends_id].status == AuthorizationStatus.EXPIRED for a in extensions)


def test_the_authorizations_list_costs_one_query_whatever_its_length(vancouver):
    everything = [row.id for row in authorizations_as_of_today()]
    db.session.expunge_all()

    with counted_queries() as few:
        assert len(authorization_rows(db.session, ids=everything[:3])) == 3
    db.session.expunge_all()
    with counted_queries() as all_of_them:
        assert len(authorization_rows(db.session)) == len(everything) >= 1000

    assert len(few) == len(all_of_them) == 1


def test_past_months_are_invoiced_in_every_state_as_each_payer_asks(vancouver):
    by_status = check_invoiced_as_staff_would(dt.date.fromisoformat(TODAY), VANCOUVER_PRACTICE.invoicing)

    issued = by_status[InvoiceStatus.ISSUED]
    assert len({invoice.invoice_date for invoice in issued}) == 16  # October 2024 to January 2026
    by_bill_to = defaultdict(list)
    for invoice in issued:
        by_bill_to[invoice.payer.name if invoice.payer else "self-paying"].append(invoice)
    assert set(by_bill_to) == {"ICBC", "WorkSafeBC", "Pacific EAP", "Crime Victim Assistance Program", "self-paying"}
    # ICBC numbers its invoices in a series of its own; everyone else is on the practice's.
    assert all(invoice.number.startswith("ICBC-") for invoice in by_bill_to["ICBC"])
    others = [invoice for name, invoices in by_bill_to.items() if name != "ICBC" for invoice in invoices]
    assert all(invoice.number.startswith("INV-") for invoice in others)
    # One invoice per client and month for ICBC, WorkSafeBC and the self-paying; the EAP gets one per month.
    for name in ("ICBC", "WorkSafeBC", "self-paying"):
        keys = [(invoice.client_id, invoice.invoice_date) for invoice in by_bill_to[name]]
        assert all(client for client, _day in keys) and len(set(keys)) == len(keys), name
    eap = by_bill_to["Pacific EAP"]
    assert all(invoice.client_id is None for invoice in eap) and len({i.invoice_date for i in eap}) == len(eap) == 16
    # Each payer invoice can carry the vendor number BC payers check.
    assert all(invoice.payer.provider_number for invoice in others + by_bill_to["ICBC"] if invoice.payer)
    assert {invoice.currency for invoice in issued} == {"CAD"}


def test_past_months_are_paid_out_and_icbc_sessions_are_held(vancouver):
    by_month = check_paid_out_as_staff_would(dt.date.fromisoformat(TODAY), "ICBC")

    assert [len(statements) for statements in by_month.values()] == [40, 40, 40, 40]
    # ICBC's last two months are not invoiced yet: held too, as not invoiced.
    reasons = db.session.scalars(
        select(PayoutLine.held_reason)
        .join(PayoutStatement, PayoutStatement.id == PayoutLine.statement_id)
        .join(Payer, Payer.id == PayoutLine.payer_id)
        .where(PayoutStatement.month == "2026-02", PayoutLine.held.is_(True), Payer.name == "ICBC")
        .distinct()
    ).all()
    assert set(reasons) == {HeldReason.INVOICED, HeldReason.UNINVOICED}


def test_the_admin_home_has_open_and_done_tasks_and_bad_fit_entries_to_review(vancouver):
    tasks = db.session.execute(
        select(AdminTask.kind, AdminTask.status, func.count()).group_by(AdminTask.kind, AdminTask.status)
    )
    by_kind = {(kind, status): count for kind, status, count in tasks}
    assert by_kind[(TaskKind.AUTHORIZATION_LOW, "open")] and by_kind[(TaskKind.AUTHORIZATION_LOW, "done")]
    for kind in (
        TaskKind.EXTENSION_REQUESTED,
        TaskKind.INVOICE_OVERDUE,
        TaskKind.BAD_FIT,
        TaskKind.PAYOUTS_WAITING,
        TaskKind.RESERVATION_LOW_USE,
    ):
        assert by_kind[(kind, "open")], kind
    assert by_kind[(TaskKind.CLIENT_REQUEST, "open")] == by_kind[(TaskKind.MANUAL, "open")] == 1
    states = dict(db.session.execute(select(BadFitEntry.state, func.count()).group_by(BadFitEntry.state)).all())
    assert states["open"] and states["resolved"]
    admin_email, admin_password = printed_logins(vancouver.output)["admin"]
    with vancouver.app.test_client() as browser:
        login(browser, admin_email, admin_password)
        home = browser.get("/admin/").get_data(as_text=True)
    assert "Check the intake forms of this week" in home and 'id="home-bad-fit"' in home
