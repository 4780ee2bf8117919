"""`flask tasks scan`, `flask tasks list` and the periodic entry (issue 17).

Lima; today is Saturday 5 December 2026. Two causes: Ana's no-show of 20 November (a Bad Fit
entry) and two draft payout statements of November.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import AdminTask, Attendance, PayoutStatement, TaskKind, TaskStatus
from admin_app.services.payouts import statements
from admin_app.services.platform.months import Month
from tests.factories import book, make_admin, make_bad_fit_entry, make_client, make_manual_task, make_therapist

pytestmark = pytest.mark.parametrize("clock", ["2026-12-05T15:00Z"], indirect=True)


@pytest.fixture
def causes(app):
    lucia = make_therapist(full_name="Lucía Torres")
    ana = make_client(lucia, full_name="Ana Quispe")
    missed = book(lucia, [ana], dt.datetime(2026, 11, 20, 10, 0), attendance=Attendance.NO_SHOW).participants[0]
    entry = make_bad_fit_entry(missed)
    for therapist in (lucia, make_therapist(full_name="Beto Ramos")):
        db.session.add(PayoutStatement(therapist=therapist, month="2026-11", cut_off=dt.date(2026, 11, 30)))
    db.session.commit()
    return entry


def invoke(runner, *args: str):
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_tasks_scan_prints_what_it_opened_and_closed(runner, causes):
    assert invoke(runner, "tasks", "scan") == "Task scan: 2 opened, 0 closed.\n"
    assert invoke(runner, "tasks", "scan") == "Task scan: 0 opened, 0 closed.\n"
    statements.approve_drafts(db.session, Month(2026, 11))
    db.session.commit()
    assert invoke(runner, "tasks", "scan") == "Task scan: 0 opened, 1 closed.\n"


def test_tasks_list_as_json_with_the_status_chosen(runner, causes):
    invoke(runner, "tasks", "scan")
    admin = make_admin()
    bad_fit = db.session.scalar(select(AdminTask).where(AdminTask.kind == TaskKind.BAD_FIT))
    bad_fit.assigned_to_id = admin.id
    make_manual_task("Call Pacífico", status=TaskStatus.DONE, opened_on=dt.date(2026, 12, 1))
    db.session.commit()

    assert json.loads(invoke(runner, "tasks", "list", "--format", "json")) == [
        {
            "kind": "bad_fit",
            "subject": str(causes.id),
            "status": "open",
            "opened_on": "2026-12-05",
            "assigned_to": "staff@example.com",
        },
        {
            "kind": "payouts_waiting",
            "subject": "2026-11",
            "status": "open",
            "opened_on": "2026-12-05",
            "assigned_to": None,
        },
    ]
    assert json.loads(invoke(runner, "tasks", "list", "--format", "json", "--status", "done")) == [
        {"kind": "manual", "subject": None, "status": "done", "opened_on": "2026-12-01", "assigned_to": None},
    ]
    assert len(json.loads(invoke(runner, "tasks", "list", "--format", "json", "--status", "all"))) == 3
    assert json.loads(invoke(runner, "tasks", "list", "--format", "json", "--status", "closed")) == []


def test_tasks_list_as_text_by_default(runner, causes):
    invoke(runner, "tasks", "scan")
    lines = invoke(runner, "tasks", "list").splitlines()
    assert [line.split() for line in lines] == [
        ["2026-12-05", "open", "bad_fit", str(causes.id), "-"],
        ["2026-12-05", "open", "payouts_waiting", "2026-11", "-"],
    ]


def test_the_scan_runs_every_quarter_of_an_hour(app, causes):
    [entry] = [entry for entry in schedule.PERIODIC if entry.name == "admin-task-scan"]
    assert entry.cron == "*/15 * * * *"
    assert entry.job() == "2 opened, 0 closed"
    assert len(db.session.scalars(select(AdminTask)).all()) == 2
