"""The admin-task scan (issue 17; DESIGN.md, "Admin tasks"): each kind's cause opens one task with
its subject and params, however often the scan runs; the task closes when the cause goes; a task
marked done is not opened again while its cause lasts; tasks added by hand are never touched.

Lima; today is Saturday 5 December 2026 (10:00). Lucía Torres's fee is 150.00 PEN (the factory's).
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import (
    AdminTask,
    Attendance,
    BadFitResolution,
    Channel,
    MessageStatus,
    PaymentMethod,
    PayoutStatement,
    RequestAction,
    TaskKind,
    TaskStatus,
)
from admin_app.services.billing import extensions, issuing, payments
from admin_app.services.billing.invoice_run import invoice_run
from admin_app.services.messaging import outbox
from admin_app.services.payouts import statements
from admin_app.services.platform.months import Month
from admin_app.services.scheduling.rules import record_attendance
from admin_app.services.tasks import bad_fit, client_requests
from admin_app.services.tasks.scan import ScanResult, scan
from tests.at_once import at_once
from tests.factories import (
    book,
    issued_invoice,
    make_admin,
    make_authorization,
    make_bad_fit_entry,
    make_client,
    make_manual_task,
    make_payer,
    make_therapist,
    pays_for,
)
from tests.queries import counted_queries

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
TODAY = dt.date(2026, 12, 5)
TODAY_ISO = "2026-12-05"


def run_scan(**options) -> ScanResult:
    result = scan(db.session, **options)
    db.session.commit()
    return result


def tasks_of(kind: TaskKind) -> list[AdminTask]:
    db.session.expire_all()
    return list(db.session.scalars(select(AdminTask).where(AdminTask.kind == kind).order_by(AdminTask.id)))


def snapshot() -> list[tuple]:
    """Every task as stored: what a scan that changes nothing leaves exactly as it was."""
    db.session.expire_all()
    return [
        (task.id, task.kind, task.subject, task.status, task.params, task.client_id, task.therapist_id)
        + (task.opened_at, task.opened_on, task.cause_gone_at)
        for task in db.session.scalars(select(AdminTask).order_by(AdminTask.id))
    ]


def session_on(therapist, client, day: dt.datetime, *, payer=None, attendance=Attendance.EXPECTED):
    return book(therapist, [client], day, payer=payer, attendance=attendance).participants[0]


def assert_open_once(kind: TaskKind, subject: str, params: dict, *, client_id=None, therapist_id=None) -> AdminTask:
    [task] = tasks_of(kind)
    assert (task.subject, task.status, task.params) == (subject, TaskStatus.OPEN, params)
    assert (task.client_id, task.therapist_id, task.opened_on, task.cause_gone_at) == (
        client_id,
        therapist_id,
        TODAY,
        None,
    )
    return task


def assert_closed(kind: TaskKind) -> None:
    [task] = tasks_of(kind)
    assert task.status == TaskStatus.CLOSED
    assert task.cause_gone_at is not None


@pytest.fixture
def lucia(app):
    return make_therapist(full_name="Lucía Torres")


@pytest.fixture
def insured(lucia):
    """Ana, in Lucía's care, whose sessions Pacífico Seguros pays."""
    payer = make_payer("Pacífico Seguros")
    ana = make_client(lucia, full_name="Ana Quispe")
    pays_for(ana, payer)
    return ana, payer


# One kind at a time: the cause opens one task, three scans keep one, the cause going closes it.


def test_a_low_authorization_opens_one_task_kept_up_to_date_and_closed_when_sessions_are_freed(lucia, insured):
    """4 sessions approved until 31 March 2027, 2 booked in December: 2 left (low: ≤ 2). A third
    booking leaves 1 (the open task says so); cancelling two leaves 3: no longer low, closed."""
    ana, payer = insured
    authorization = make_authorization(
        ana, payer, 4, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="PS-41", therapist=lucia
    )
    booked = [session_on(lucia, ana, dt.datetime(2026, 12, day, 10, 0), payer=payer) for day in (9, 16)]
    db.session.commit()
    assert run_scan() == ScanResult(opened=1, closed=0)
    for _ in range(2):
        assert run_scan() == ScanResult(opened=0, closed=0)
    params = {"reference": "PS-41", "remaining": 2, "valid_until": "2027-03-31"}
    assert_open_once(TaskKind.AUTHORIZATION_LOW, str(authorization.id), params, client_id=ana.id, therapist_id=lucia.id)

    booked.append(session_on(lucia, ana, dt.datetime(2026, 12, 23, 10, 0), payer=payer))
    db.session.commit()
    assert run_scan() == ScanResult(opened=0, closed=0)
    [task] = tasks_of(TaskKind.AUTHORIZATION_LOW)
    assert task.params["remaining"] == 1

    for participant in booked[1:]:
        record_attendance(
            db.session, participant=participant, attendance=Attendance.CANCELLED, cancelled_by="practice", reason="Ill"
        )
    db.session.commit()
    assert run_scan() == ScanResult(opened=0, closed=1)
    assert_closed(TaskKind.AUTHORIZATION_LOW)
    assert run_scan() == ScanResult(opened=0, closed=0)


def test_an_extension_requested_opens_a_task_until_the_extension_is_recorded_which_closes_it(lucia, insured):
    ana, payer = insured
    authorization = make_authorization(ana, payer, 10, dt.date(2026, 11, 1), dt.date(2027, 3, 31), reference="PS-7")
    extensions.request_extension(db.session, authorization.id)
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(
        TaskKind.EXTENSION_REQUESTED,
        str(authorization.id),
        {"reference": "PS-7", "requested_on": TODAY_ISO},
        client_id=ana.id,
    )

    extensions.record_extension(
        db.session, authorization.id, reference="PS-8", approved_sessions=10, valid_until=dt.date(2027, 6, 30)
    )
    db.session.commit()
    assert_closed(TaskKind.EXTENSION_REQUESTED)  # at once, by recording it
    assert run_scan() == ScanResult(opened=0, closed=0)


def test_an_expired_authorization_with_sessions_booked_opens_a_task_until_extended(lucia, insured):
    """Approved 1 Sep – 30 Nov 2026: the session of 20 Nov is still expected (linked to it), and 10
    December is booked to the payer with no authorization to cover it: 2 booked. Another client's
    expired authorization with nothing booked opens nothing. The extension from 1 December takes the
    10 December session, and the expired one has an extension recorded: the task closes."""
    ana, payer = insured
    authorization = make_authorization(ana, payer, 10, dt.date(2026, 9, 1), dt.date(2026, 11, 30), reference="PS-3")
    session_on(lucia, ana, dt.datetime(2026, 11, 20, 10, 0), payer=payer)
    session_on(lucia, ana, dt.datetime(2026, 12, 10, 10, 0), payer=payer)
    ben = make_client(lucia, full_name="Ben Soto")
    make_authorization(ben, payer, 10, dt.date(2026, 9, 1), dt.date(2026, 11, 30))
    session_on(lucia, ben, dt.datetime(2026, 11, 18, 10, 0), payer=payer, attendance=Attendance.ATTENDED)
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(
        TaskKind.AUTHORIZATION_EXPIRED,
        str(authorization.id),
        {"reference": "PS-3", "valid_until": "2026-11-30", "booked": 2},
        client_id=ana.id,
    )

    extensions.record_extension(
        db.session, authorization.id, reference="PS-4", approved_sessions=10, valid_until=dt.date(2027, 2, 28)
    )
    db.session.commit()
    assert run_scan().closed == 1
    assert_closed(TaskKind.AUTHORIZATION_EXPIRED)


def test_invoices_unpaid_past_the_payers_terms_open_one_task_for_the_payer_until_paid(lucia, insured):
    """Pacífico has 30 days: the invoice of 20 October was due on 19 November and is overdue; the
    one of 20 November is due on 20 December (not yet). One task for the payer: one invoice, due 19
    November, 150.00 open. A payment of 50.00 leaves 100.00 (the task says so); paying the rest closes it."""
    ana, payer = insured
    october = session_on(lucia, ana, dt.datetime(2026, 10, 12, 10, 0), payer=payer, attendance=Attendance.ATTENDED)
    november = session_on(lucia, ana, dt.datetime(2026, 11, 12, 10, 0), payer=payer, attendance=Attendance.ATTENDED)
    overdue = issued_invoice(payer, [october], number="INV-000101", invoice_date=dt.date(2026, 10, 20))
    issued_invoice(payer, [november], number="INV-000102", invoice_date=dt.date(2026, 11, 20))
    db.session.commit()
    for _ in range(3):
        run_scan()
    params = {"payer": payer.name, "count": 1, "due_on": "2026-11-19", "balances": {"PEN": "150.00"}}
    assert_open_once(TaskKind.INVOICE_OVERDUE, str(payer.id), params)

    def payer_pays(amount: str) -> None:
        payments.record_payer_payment(
            db.session,
            payer_id=payer.id,
            received_on=TODAY,
            amount=Decimal(amount),
            currency="PEN",
            method=PaymentMethod.TRANSFER,
            invoice_ids=[overdue.id],
        )
        db.session.commit()

    payer_pays("50.00")
    assert run_scan() == ScanResult(opened=0, closed=0)
    assert tasks_of(TaskKind.INVOICE_OVERDUE)[0].params["balances"] == {"PEN": "100.00"}
    payer_pays("100.00")
    assert run_scan() == ScanResult(opened=0, closed=1)
    assert_closed(TaskKind.INVOICE_OVERDUE)


def test_a_failed_message_opens_a_task_until_sent_again(lucia, insured):
    ana, _payer = insured
    message = outbox.queue_message(
        db.session,
        channel=Channel.SMS,
        recipient="+51987654321",
        template="reminder",
        language="es",
        context={},
        dedupe_key="test:failed",
        client_id=ana.id,
    )
    message.status = MessageStatus.FAILED
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(TaskKind.MESSAGE_FAILED, "failed", {"count": 1, "oldest": "2026-12-05"})

    outbox.send_again(db.session, message.id)
    assert run_scan().closed == 1
    assert_closed(TaskKind.MESSAGE_FAILED)


def test_an_open_bad_fit_entry_opens_a_task_until_resolved(lucia, insured):
    ana, _payer = insured
    missed = session_on(lucia, ana, dt.datetime(2026, 11, 20, 10, 0), attendance=Attendance.NO_SHOW)
    entry = make_bad_fit_entry(missed)
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(
        TaskKind.BAD_FIT,
        str(entry.id),
        {"reason": "no_show", "on": "2026-11-20"},
        client_id=ana.id,
        therapist_id=lucia.id,
    )

    bad_fit.resolve(db.session, entry.id, resolution=BadFitResolution.KEPT, note="Spoke with her", user=None)
    db.session.commit()
    assert run_scan().closed == 1
    assert_closed(TaskKind.BAD_FIT)


def test_a_client_request_opens_a_task_until_answered(lucia, insured):
    ana, _payer = insured
    request = client_requests.ask(
        db.session, therapist=lucia, client=ana, action=RequestAction.DEACTIVATE, reason="Moved to Cusco"
    )
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(
        TaskKind.CLIENT_REQUEST, str(request.id), {"action": "deactivate"}, client_id=ana.id, therapist_id=lucia.id
    )

    client_requests.answer(db.session, request.id, accepted=False, note="Her insurer still pays", user=make_admin())
    db.session.commit()
    assert_closed(TaskKind.CLIENT_REQUEST)  # at once, by the answer
    assert run_scan() == ScanResult(opened=0, closed=0)
    assert_closed(TaskKind.CLIENT_REQUEST)


def test_draft_payout_statements_open_one_task_per_month_until_approved(lucia):
    beto = make_therapist(full_name="Beto Ramos")
    for therapist in (lucia, beto):
        db.session.add(PayoutStatement(therapist=therapist, month="2026-11", cut_off=dt.date(2026, 11, 30)))
    db.session.commit()
    for _ in range(3):
        run_scan()
    assert_open_once(TaskKind.PAYOUTS_WAITING, "2026-11", {"month": "2026-11", "count": 2})

    statements.approve_drafts(db.session, Month(2026, 11))
    db.session.commit()
    assert run_scan().closed == 1
    assert_closed(TaskKind.PAYOUTS_WAITING)


def test_drafts_older_than_the_setting_open_one_task_until_issued(app, lucia, insured):
    """Two drafts (one per client) made today: not old yet. Scanned 8 days later (setting: 7 days),
    one task for both; issued, it closes."""
    ana, _payer = insured
    ben = make_client(lucia, full_name="Ben Soto")
    for day, client in ((12, ana), (13, ben)):
        session_on(lucia, client, dt.datetime(2026, 11, day, 10, 0), attendance=Attendance.ATTENDED)
    invoice_run(db.session, dt.date(2026, 11, 30))
    db.session.commit()
    later = dt.datetime(2026, 12, 13, 15, 0, tzinfo=dt.UTC)
    assert app.config["INVOICE_DRAFT_TASK_DAYS"] == 7
    assert run_scan() == ScanResult(opened=0, closed=0)
    for _ in range(3):
        run_scan(now=later)
    [task] = tasks_of(TaskKind.INVOICE_DRAFTS_OLD)
    assert (task.subject, task.status, task.params) == (
        "drafts",
        TaskStatus.OPEN,
        {"count": 2, "oldest": TODAY_ISO, "days": 7},
    )
    assert task.opened_on == dt.date(2026, 12, 13)

    issuing.issue(db.session, issuing.all_drafts(db.session))
    db.session.commit()
    assert run_scan(now=later).closed == 1
    assert_closed(TaskKind.INVOICE_DRAFTS_OLD)


# Done tasks, tasks added by hand, a scan that finds nothing new


def test_a_task_marked_done_is_not_reopened_while_its_cause_lasts_and_a_new_one_opens_when_it_comes_back(
    lucia, insured
):
    """A low authorization's task is marked done: the scan leaves it done. Sessions freed (cause
    gone): it stays done, no longer live. Booked again (cause back): a new open task."""
    ana, payer = insured
    authorization = make_authorization(ana, payer, 3, dt.date(2026, 11, 1), dt.date(2027, 3, 31))
    booked = session_on(lucia, ana, dt.datetime(2026, 12, 9, 10, 0), payer=payer)
    db.session.commit()
    run_scan()
    [task] = tasks_of(TaskKind.AUTHORIZATION_LOW)
    task.status, task.note = TaskStatus.DONE, "Asked Pacífico for more sessions"
    db.session.commit()
    assert run_scan() == ScanResult(opened=0, closed=0)
    [task] = tasks_of(TaskKind.AUTHORIZATION_LOW)
    assert (task.status, task.cause_gone_at) == (TaskStatus.DONE, None)

    record_attendance(
        db.session, participant=booked, attendance=Attendance.CANCELLED, cancelled_by="client", reason="x"
    )
    db.session.commit()
    assert run_scan().closed == 0  # a done task is not "closed", it only stops being live
    [done] = tasks_of(TaskKind.AUTHORIZATION_LOW)
    assert done.status == TaskStatus.DONE and done.cause_gone_at is not None

    session_on(lucia, ana, dt.datetime(2026, 12, 16, 10, 0), payer=payer)
    db.session.commit()
    run_scan()
    assert [
        (task.subject, task.status, task.cause_gone_at is None) for task in tasks_of(TaskKind.AUTHORIZATION_LOW)
    ] == [
        (str(authorization.id), TaskStatus.DONE, False),
        (str(authorization.id), TaskStatus.OPEN, True),
    ]


def test_tasks_added_by_hand_are_never_touched(lucia, insured):
    manual = make_manual_task("Call Pacífico about the new forms")
    db.session.commit()
    run_scan()
    run_scan()
    [task] = tasks_of(TaskKind.MANUAL)
    assert (task.id, task.status, task.cause_gone_at, task.title) == (
        manual.id,
        TaskStatus.OPEN,
        None,
        "Call Pacífico about the new forms",
    )


def test_a_second_scan_changes_nothing_and_costs_the_same_whatever_the_number_of_causes(lucia, insured):
    """Every kind at once; the second scan writes nothing (not even an audit row), and a scan
    over three times the causes sends as many statements."""
    ana, payer = insured

    def causes_of(client, day: int) -> None:
        make_authorization(client, payer, 1, dt.date(2026, 11, 1), dt.date(2027, 3, 31))
        session_on(lucia, client, dt.datetime(2026, 12, day, 10, 0), payer=payer)
        missed = session_on(lucia, client, dt.datetime(2026, 11, day, 10, 0), attendance=Attendance.NO_SHOW)
        make_bad_fit_entry(missed)

    causes_of(ana, 1)
    db.session.commit()
    with counted_queries() as few:
        run_scan()
    for day in (2, 3):
        causes_of(make_client(lucia), day)
    db.session.commit()
    with counted_queries() as many:
        assert run_scan() == ScanResult(opened=4, closed=0)
    assert len(many) == len(few)

    before = snapshot()
    with counted_queries() as statements_sent:
        assert run_scan() == ScanResult(opened=0, closed=0)
    assert snapshot() == before
    assert not [sql for sql in statements_sent if sql.lstrip().startswith("INSERT") or "UPDATE admin_task" in sql]


@pytest.mark.skipif(not ON_POSTGRES, reason="two machines scan at once on PostgreSQL (TEST_DATABASE_URL)")
def test_two_scans_at_once_write_each_task_once(lucia, insured):
    """Three scans start together, each in its own app and transaction, and all commit: one task
    per cause."""
    ana, payer = insured
    make_authorization(ana, payer, 1, dt.date(2026, 11, 1), dt.date(2027, 3, 31))
    session_on(lucia, ana, dt.datetime(2026, 12, 9, 10, 0), payer=payer)
    make_bad_fit_entry(session_on(lucia, ana, dt.datetime(2026, 11, 9, 10, 0), attendance=Attendance.NO_SHOW))
    db.session.commit()

    def scan_and_commit() -> ScanResult:
        result = scan(db.session)
        db.session.commit()
        return result

    results = at_once([scan_and_commit] * 3)
    assert not [result for result in results if isinstance(result, BaseException)], results
    assert sorted(result.opened for result in results) == [0, 0, 2]
    db.session.expire_all()
    rows = db.session.execute(select(AdminTask.kind, func.count()).group_by(AdminTask.kind)).all()
    assert sorted(rows) == [(TaskKind.AUTHORIZATION_LOW, 1), (TaskKind.BAD_FIT, 1)]
