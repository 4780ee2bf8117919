"""The Bad Fit list on hand-made histories (clinic time, Lima; today is Saturday 5 December 2026):
the rule (a no-show; two cancellations by the client with nothing attended between them), the scan
that opens entries, resolving them, the screen, the client's page and `flask bad-fit list`.

Each history is Ana Quispe's sessions with Lucía Paredes in November 2026, at 10:00 Lima (15:00 UTC)
unless said otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    Attendance,
    AuditAction,
    AuditEvent,
    BadFitEntry,
    BadFitReason,
    BadFitResolution,
    BadFitState,
    CancelledBy,
    Client,
    Participant,
)
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.scheduling.rules import record_attendance
from admin_app.services.tasks import bad_fit
from tests.factories import book, make_client, make_therapist
from tests.pages import body, flashed, table_rows, text_of
from tests.queries import counted_queries

SCREEN = "/admin/bad-fit/"
pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)

ATTENDED, NO_SHOW, LATE = Attendance.ATTENDED, Attendance.NO_SHOW, Attendance.LATE_CANCELLED
BY_CLIENT, BY_PRACTICE = "cancelled by the client", "cancelled by the practice"
EXPECTED = Attendance.EXPECTED


@pytest.fixture
def lucia(app):
    return make_therapist(full_name="Lucía Paredes", email="lucia@example.com")


@pytest.fixture
def ana(lucia):
    return make_client(lucia, full_name="Ana Quispe", national_id="40112233", client_number="1001")


def session(therapist, client, day: int, what, *, month: int = 11, hour: int = 10) -> Participant:
    """`client`'s session with `therapist` on that day (clinic time), as `what`: an attendance, or
    BY_CLIENT / BY_PRACTICE for a cancellation recorded with who cancelled and why."""
    cancelled = what in (BY_CLIENT, BY_PRACTICE)
    appointment = book(
        therapist, [client], dt.datetime(2026, month, day, hour, 0), attendance=EXPECTED if cancelled else what
    )
    participant = appointment.participants[0]
    if cancelled:
        who = CancelledBy.CLIENT if what == BY_CLIENT else CancelledBy.PRACTICE
        record_attendance(
            db.session, participant=participant, attendance=Attendance.CANCELLED, cancelled_by=who, reason="Ill"
        )
    return participant


def history(therapist, client, *events) -> list[Participant]:
    """Sessions on (day, what) pairs of November."""
    return [session(therapist, client, day, what) for day, what in events]


def scan() -> list[BadFitEntry]:
    entries = bad_fit.scan_bad_fit(db.session)
    db.session.commit()
    return entries


def listed() -> list[tuple[str, str, str, str]]:
    """What the list holds: (client, reason, date, state)."""
    return [
        (row.client, row.reason.value, row.on.isoformat(), row.state.value) for row in bad_fit.bad_fit_rows(db.session)
    ]


# --- the rule ------------------------------------------------------------------------------------


def test_a_no_show_flags_the_client_with_the_therapist_and_the_local_date(lucia, ana):
    # 21:30 in Lima on 9 November is already the 10th in UTC: the entry is dated the 9th.
    history(lucia, ana, (2, ATTENDED))
    no_show = session(lucia, ana, 9, NO_SHOW, hour=21)
    db.session.commit()

    [entry] = scan()

    assert (entry.client_id, entry.participant_id, entry.therapist_id) == (ana.id, no_show.id, lucia.id)
    assert (entry.reason, entry.on, entry.state) == (BadFitReason.NO_SHOW, dt.date(2026, 11, 9), BadFitState.OPEN)


def test_only_the_last_bad_fit_days_count(app, lucia, ana):
    # BAD_FIT_DAYS is 90: 5 September is 91 days before the clock, 7 September 89.
    assert app.config["BAD_FIT_DAYS"] == 90
    session(lucia, ana, 5, NO_SHOW, month=9)
    db.session.commit()
    assert scan() == []

    recent = session(lucia, ana, 7, NO_SHOW, month=9)
    db.session.commit()
    [entry] = scan()
    assert (entry.participant_id, entry.on) == (recent.id, dt.date(2026, 9, 7))


def test_two_client_cancellations_in_a_row_flag_on_the_second_ones_date(lucia, ana):
    _, _, second, _ = history(lucia, ana, (2, ATTENDED), (9, BY_CLIENT), (16, LATE), (23, LATE))
    db.session.commit()

    [entry] = scan()

    assert (entry.reason, entry.on, entry.participant_id) == (
        BadFitReason.TWO_CANCELLATIONS,
        dt.date(2026, 11, 16),
        second.id,
    )


def test_the_earliest_event_decides_the_reason(lucia, ana):
    history(lucia, ana, (2, LATE), (9, NO_SHOW), (16, LATE))
    db.session.commit()

    assert [(entry.reason, entry.on) for entry in scan()] == [(BadFitReason.NO_SHOW, dt.date(2026, 11, 9))]


def test_an_attended_session_between_two_cancellations_breaks_the_pair(lucia, ana):
    history(lucia, ana, (2, LATE), (9, ATTENDED), (16, BY_CLIENT), (23, ATTENDED))
    db.session.commit()

    assert scan() == []
    assert listed() == []


def test_a_practice_cancellation_between_two_client_cancellations_does_not_break_the_pair(lucia, ana):
    # Nor does a past session whose attendance was never recorded.
    history(lucia, ana, (2, BY_CLIENT), (9, BY_PRACTICE), (12, EXPECTED), (16, LATE))
    db.session.commit()

    [entry] = scan()

    assert (entry.reason, entry.on) == (BadFitReason.TWO_CANCELLATIONS, dt.date(2026, 11, 16))


def test_a_practice_cancellation_never_counts(lucia, ana):
    beto = make_client(lucia, full_name="Beto Ramos")
    history(lucia, ana, (2, BY_PRACTICE), (9, BY_PRACTICE))
    history(lucia, beto, (3, BY_PRACTICE), (10, LATE))
    db.session.commit()

    assert scan() == []


def test_a_future_participation_never_counts(clock, lucia, ana):
    # Ana late-cancelled on 30 November and has already called off 10 December.
    session(lucia, ana, 30, LATE)
    session(lucia, ana, 10, BY_CLIENT, month=12)
    db.session.commit()

    assert scan() == []

    clock.set("2026-12-10T16:00Z")  # the 10th's session has started
    assert [(entry.reason, entry.on) for entry in scan()] == [(BadFitReason.TWO_CANCELLATIONS, dt.date(2026, 12, 10))]


def test_scanning_again_opens_nothing_more(lucia, ana):
    history(lucia, ana, (2, NO_SHOW), (9, LATE), (16, LATE))
    db.session.commit()

    assert len(scan()) == 1
    assert scan() == []
    assert scan() == []
    assert listed() == [("Ana Quispe", "no_show", "2026-11-02", "open")]


def test_the_scan_costs_the_same_few_statements_for_one_client_or_many(lucia, ana):
    history(lucia, ana, (2, NO_SHOW))
    db.session.commit()
    with counted_queries() as one:
        scan()
    for n in range(6):
        client = make_client(lucia, full_name=f"Client {n}")
        for day, what in ((3, LATE), (10, LATE), (17, NO_SHOW)):
            session(lucia, client, day, what, hour=11 + n)
    db.session.commit()

    with counted_queries() as many:
        assert len(scan()) == 6

    assert len(many) == len(one)


def test_after_a_resolution_only_a_later_event_flags_again(clock, app, lucia, ana):
    history(lucia, ana, (2, NO_SHOW))
    db.session.commit()
    [first] = scan()
    bad_fit.resolve(
        db.session, first.id, resolution=BadFitResolution.KEPT, note="Had the flu; keeps coming.", user=None
    )
    db.session.commit()

    # A no-show of 20 November recorded late, and a late cancellation of 25 November: both before
    # the resolution (5 December), so neither flags nor pairs with the cancellation of 7 December.
    clock.set("2026-12-08T15:00Z")
    history(lucia, ana, (20, NO_SHOW), (25, LATE))
    session(lucia, ana, 7, LATE, month=12)
    db.session.commit()
    assert scan() == []

    clock.set("2026-12-10T15:00Z")
    session(lucia, ana, 9, NO_SHOW, month=12)
    db.session.commit()

    [second] = scan()
    assert (second.reason, second.on) == (BadFitReason.NO_SHOW, dt.date(2026, 12, 9))
    assert listed() == [
        ("Ana Quispe", "no_show", "2026-12-09", "open"),
        ("Ana Quispe", "no_show", "2026-11-02", "resolved"),
    ]


# --- resolving -----------------------------------------------------------------------------------


@pytest.fixture
def flagged(lucia, ana) -> BadFitEntry:
    """Ana's open entry: a no-show on 2 November."""
    history(lucia, ana, (2, NO_SHOW))
    db.session.commit()
    [entry] = scan()
    return entry


def test_resolving_as_deactivated_deactivates_the_client_and_is_audited(flagged, ana, admin_user):
    bad_fit.resolve(db.session, flagged.id, resolution="deactivated", note="Moved to another city.", user=admin_user)
    db.session.commit()
    db.session.expire_all()

    entry = db.session.get(BadFitEntry, flagged.id)
    assert (entry.state, entry.resolution, entry.resolution_note) == (
        BadFitState.RESOLVED,
        BadFitResolution.DEACTIVATED,
        "Moved to another city.",
    )
    assert entry.resolved_by_id == admin_user.id
    assert db.session.get(Client, ana.id).active is False
    changes = db.session.execute(
        select(AuditEvent.entity, AuditEvent.changed_fields).where(AuditEvent.action == AuditAction.UPDATE)
    ).all()
    assert ("client", ["active"]) in changes
    [(_entity, fields)] = [change for change in changes if change.entity == "bad_fit_entry"]
    assert {"state", "resolution", "resolution_note", "resolved_at", "resolved_by_id"} <= set(fields)


@pytest.mark.parametrize(
    ("resolution", "note", "message"),
    [
        ("kept", "  ", "Write a note saying why: a Bad Fit entry is resolved with one."),
        ("banned", "No.", "Resolution: not a valid choice"),
    ],
)
def test_a_resolution_without_a_note_or_of_no_kind_is_refused(flagged, resolution, note, message):
    with pytest.raises(RuleViolation) as refused:
        bad_fit.resolve(db.session, flagged.id, resolution=resolution, note=note, user=None)

    assert str(refused.value) == message


def test_an_entry_is_resolved_once(flagged):
    bad_fit.resolve(db.session, flagged.id, resolution="kept", note="Fine.", user=None)
    db.session.commit()

    with pytest.raises(RuleViolation) as refused:
        bad_fit.resolve(db.session, flagged.id, resolution="deactivated", note="Changed my mind.", user=None)

    assert str(refused.value) == "This Bad Fit entry was already resolved on 2026-12-05."


# --- the screen ----------------------------------------------------------------------------------


def post(admin_client, action: str, **data):
    return admin_client.post(f"{SCREEN}{action}", data={"shown": "open", **data}, follow_redirects=True)


def test_the_list_shows_the_open_entry(admin_client, flagged):
    page = admin_client.get(SCREEN)

    assert page.status_code == 200
    [row] = table_rows(page, "bad-fit")
    assert row[:4] == ["Ana Quispe #1001", "Lucía Paredes", "No-show", "Nov 2, 2026"]
    assert row[5].startswith("To review")
    assert f'href="/admin/client/details/?id={flagged.client_id}"' in body(page)


def test_notes_are_saved_from_the_list_and_the_trail_says_who(admin_client, admin_user, flagged):
    page = post(admin_client, "notes", entry=flagged.id, notes="  Called her: car trouble.  ")

    assert flashed(page) == ["The notes were saved."]
    assert "Called her: car trouble.</textarea>" in body(page)
    db.session.expire_all()
    assert db.session.get(BadFitEntry, flagged.id).notes == "Called her: car trouble."
    trail = db.session.execute(
        select(AuditEvent.actor_user_id, AuditEvent.changed_fields).where(
            AuditEvent.entity == "bad_fit_entry", AuditEvent.action == AuditAction.UPDATE
        )
    ).all()
    assert trail == [(admin_user.id, ["notes"])]


def test_resolving_from_the_list_needs_a_note(admin_client, flagged, ana):
    page = post(admin_client, "resolve", entry=flagged.id, resolution="deactivated", resolution_note="")

    assert flashed(page) == ["Write a note saying why: a Bad Fit entry is resolved with one."]
    db.session.expire_all()
    assert db.session.get(BadFitEntry, flagged.id).state == BadFitState.OPEN
    assert db.session.get(Client, ana.id).active is True

    page = post(admin_client, "resolve", entry=flagged.id, resolution="kept", resolution_note="Talked it through.")

    assert flashed(page) == ["The entry was resolved; Ana Quispe stays on."]
    assert text_of(body(page)).count("No entries to show.") == 1
    resolved = admin_client.get(SCREEN, query_string={"state": "resolved"})
    [row] = table_rows(resolved, "bad-fit")
    assert row[5] == "Resolved · Kept on Talked it through. Dec 5, 2026 · staff@example.com"


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("notes", {"entry": "999999", "notes": "x"}, "This Bad Fit entry does not exist (any more)."),
        ("notes", {"entry": "abc", "notes": "x"}, "This Bad Fit entry does not exist (any more)."),
        ("notes", {"notes": "x"}, "This Bad Fit entry does not exist (any more)."),
        (
            "resolve",
            {"entry": "999999", "resolution": "kept", "resolution_note": "x"},
            "This Bad Fit entry does not exist (any more).",
        ),
        ("notes", {"entry": "{id}", "notes": "a\x00b"}, "Notes: contains a character that cannot be stored"),
        ("resolve", {"entry": "{id}", "resolution": "gone", "resolution_note": "x"}, "Resolution: not a valid choice"),
        ("resolve", {"entry": "{id}", "resolution_note": "x"}, "Resolution: not a valid choice"),
        (
            "resolve",
            {"entry": "{id}", "resolution": "kept"},
            "Write a note saying why: a Bad Fit entry is resolved with one.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(admin_client, flagged, action, data, message):
    data = {key: value.replace("{id}", str(flagged.id)) for key, value in data.items()}

    page = post(admin_client, action, **data)

    assert page.status_code == 200
    assert flashed(page) == [message]
    db.session.expire_all()
    entry = db.session.get(BadFitEntry, flagged.id)
    assert (entry.state, entry.notes) == (BadFitState.OPEN, None)


def test_a_wrong_filter_shows_the_open_entries_with_a_message(admin_client, flagged):
    page = admin_client.get(SCREEN, query_string={"state": "everything"})

    assert page.status_code == 200
    assert flashed(page) == ["Show: choose open, resolved or all entries."]
    assert len(table_rows(page, "bad-fit")) == 1


def test_the_client_page_shows_the_entries_open_first(clock, admin_client, flagged, lucia, ana):
    bad_fit.save_notes(db.session, flagged.id, "Called twice.")
    bad_fit.resolve(db.session, flagged.id, resolution="kept", note="Agreed to a new time.", user=None)
    db.session.commit()
    clock.set("2026-12-12T15:00Z")
    session(lucia, ana, 10, NO_SHOW, month=12)
    db.session.commit()
    [reopened] = scan()

    page = admin_client.get(f"/admin/client/details/?id={ana.id}")

    assert page.status_code == 200
    assert table_rows(page, "client-bad-fit") == [
        ["No-show", "Dec 10, 2026", "Lucía Paredes", "", "To review", "", ""],
        [
            "No-show",
            "Nov 2, 2026",
            "Lucía Paredes",
            "Called twice.",
            "Resolved",
            "Kept on Dec 5, 2026",
            "Agreed to a new time.",
        ],
    ]
    assert reopened.id != flagged.id


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def two_entries(flagged, lucia):
    """Ana's open entry and Beto's resolved one (two cancellations, 16 November)."""
    beto = make_client(lucia, full_name="Beto Ramos", national_id=None, client_number="1002")
    history(lucia, beto, (9, LATE), (16, BY_CLIENT))
    db.session.commit()
    [entry] = scan()
    bad_fit.resolve(db.session, entry.id, resolution="kept", note="OK", user=None)
    db.session.commit()


ANA = {
    "client_national_id": "40112233",
    "client_number": "1001",
    "client": "Ana Quispe",
    "therapist_email": "lucia@example.com",
    "reason": "no_show",
    "on": "2026-11-02",
    "state": "open",
}
BETO = {**ANA, "client_national_id": None, "client_number": "1002", "client": "Beto Ramos"}
BETO |= {"reason": "two_cancellations", "on": "2026-11-16", "state": "resolved"}


@pytest.mark.parametrize(
    ("shown", "clients"),
    [("open", ["Ana Quispe"]), ("resolved", ["Beto Ramos"]), ("all", ["Ana Quispe", "Beto Ramos"])],
)
def test_the_list_filters_open_resolved_or_all(admin_client, two_entries, shown, clients):
    page = admin_client.get(SCREEN, query_string={"state": shown})

    assert [row[0].split(" #")[0] for row in table_rows(page, "bad-fit")] == clients


def test_the_command_lists_the_entries_as_json(runner, two_entries):
    result = runner.invoke(args=["bad-fit", "list"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [ANA, BETO]
    opened = runner.invoke(args=["bad-fit", "list", "--format", "json", "--state", "open"])
    assert json.loads(opened.output) == [ANA]
    exported = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == AuditAction.EXPORT)
    )
    assert exported == 2


def test_the_command_lists_the_entries_as_csv(runner, two_entries):
    result = runner.invoke(args=["bad-fit", "list", "--format", "csv", "--state", "resolved"])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output.lstrip("\ufeff"))))
    assert rows == [{key: value or "" for key, value in BETO.items()}]
    assert list(rows[0]) == list(ANA)


def test_the_command_refuses_an_unknown_state(runner, two_entries):
    result = runner.invoke(args=["bad-fit", "list", "--state", "closed"])

    assert result.exit_code != 0
    assert "closed" in result.output
