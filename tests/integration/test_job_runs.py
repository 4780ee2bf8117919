"""Runs in the background (services.job_runs, jobs.job_runs, the run's page): started from a screen,
performed in-process where no runner runs, by the embedded runner, or by a real RQ worker; their
progress visible while they work, their failures worded for the screen, one per kind and month.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import job_runs as run_jobs
from admin_app.jobs import runner
from admin_app.models import Client, JobKind, JobRun, JobState, OutboundMessage
from admin_app.services.job_runs import runs
from admin_app.services.platform.documents.pdf import PdfError
from tests.conftest import login, make_app, sign_in_therapist
from tests.factories import attended, make_admin, make_client, make_therapist
from tests.integration.test_jobs_rq import rq_app_for, work
from tests.pages import body, flashed, run_link, run_result, text_of

pytestmark = pytest.mark.parametrize("clock", ["2026-11-10T15:00Z"], indirect=True)

OCTOBER = "2026-10"
SEND = "/admin/survey-results/send"


def october_clients(count: int) -> None:
    therapist = make_therapist(full_name="Ana Ruiz")
    for n in range(count):
        attended(therapist, make_client(email=f"client-{n}@example.com", preferred_language="en"), 1 + n % 28)
    db.session.commit()


def the_run() -> JobRun:
    db.session.expire_all()
    return db.session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()


def start_survey(user_id: int | None = None) -> int:
    run = runs.start(
        db.session,
        kind=JobKind.SURVEY_SEND,
        key=f"{JobKind.SURVEY_SEND}:{OCTOBER}",
        params={"month": OCTOBER},
        user_id=user_id,
        language="en",
    )
    run_id = run.id
    db.session.commit()
    return run_id


@pytest.fixture
def runner_app(app, database_url):
    """The app as `make run` has it: no Redis, an embedded runner beside it (runs wait for it)."""
    waiting = make_app(database_url, RUN_PERIODIC_WORK=True)
    with waiting.app_context():
        yield waiting
        db.session.remove()


def test_the_survey_sent_from_the_screen_reports_each_client_and_the_result(admin_client):
    october_clients(7)

    page = admin_client.post(SEND, data={"month": OCTOBER}, follow_redirects=True)

    run = the_run()
    assert page.request.path == f"/admin/jobs/{run.id}"
    assert (
        run_result(page) == "Survey for 2026-10: 7 invited, 0 already invited, 0 opted out, 0 without an email address."
    )
    assert 'role="progressbar"' in body(page) and 'aria-valuenow="100"' in body(page)
    assert (run.state, run.done, run.total) == (JobState.DONE, 7, 7)
    assert db.session.query(OutboundMessage).count() == 7
    state = admin_client.get(f"/admin/jobs/{run.id}/state").get_json()
    assert state["finished"] and (state["done"], state["total"], state["percent"]) == (7, 7, 100)
    assert state["message"].startswith("Survey for 2026-10: 7 invited")
    back = run_link(page, "job-run-back")
    assert back == "/admin/survey-results/"
    recent = admin_client.get("/admin/jobs/")
    assert "Sending the survey for 2026-10" in text_of(body(recent))


def test_a_month_not_ended_is_refused_on_the_form_and_starts_no_run(admin_client):
    page = admin_client.post(SEND, data={"month": "2026-11"}, follow_redirects=True)

    assert flashed(page) == ["Month: 2026-11 has not ended yet; the survey asks about a finished month."]
    assert the_run() is None


def test_progress_is_visible_while_the_run_works(runner_app, monkeypatch):
    """A run of N items reports 0..N as it goes, read from outside its transaction."""
    seen: list[tuple[int, int | None]] = []

    def count_to_five(run, progress, finish):
        progress.every = 0  # write each step
        for done in range(6):
            progress(done, 5)
            with db.engine.connect() as outside:
                row = outside.execute(select(JobRun.done, JobRun.total).where(JobRun.id == run.id)).one()
            seen.append(tuple(row))
        finish(result={})
        db.session.commit()

    monkeypatch.setitem(run_jobs.KINDS, JobKind.SURVEY_SEND, count_to_five)
    assert run_jobs.perform_run(start_survey()) == "done"

    assert seen == [(done, 5) for done in range(6)]
    assert (the_run().done, the_run().total, the_run().state) == (5, 5, JobState.DONE)


def test_a_refusal_is_the_runs_message_and_keeps_nothing(admin_client):
    page = admin_client.get("/admin/payouts/zip?month=2026-10", follow_redirects=True)

    assert run_result(page) == "No payout statements for October 2026: run the month's payouts first."
    assert the_run().state == JobState.FAILED and the_run().active_key is None
    assert run_link(page, "job-run-file") is None


def test_an_unexpected_error_says_the_run_failed_and_the_traceback_goes_to_the_log(admin_client, monkeypatch, caplog):
    october_clients(2)

    def broken(run, progress, finish):
        make_client(full_name="Written Then Rolled Back")
        db.session.flush()
        raise RuntimeError("the database said something no user should read")

    monkeypatch.setitem(run_jobs.KINDS, JobKind.SURVEY_SEND, broken)
    caplog.set_level(logging.ERROR)

    page = admin_client.post(SEND, data={"month": OCTOBER}, follow_redirects=True)

    assert run_result(page) == (
        "The run failed before it finished, and nothing of it was kept. Start it again; "
        "if it fails again, see the application log."
    )
    assert "no user should read" not in body(page) and "Traceback" not in body(page)
    assert "no user should read" in caplog.text
    assert db.session.query(Client).count() == 2  # the run's write was rolled back
    assert the_run().state == JobState.FAILED


def test_one_run_of_a_kind_and_month_at_a_time(runner_app):
    make_admin(email="boss@example.com")
    october_clients(1)
    staff = runner_app.test_client()
    login(staff, "boss@example.com")

    first = staff.post(SEND, data={"month": OCTOBER})
    second = staff.post(SEND, data={"month": OCTOBER})

    assert first.location == second.location  # the second start shows the run under way
    waiting = staff.get(first.location)
    assert "Waiting to start." in text_of(body(waiting)) and run_result(waiting) is None
    assert db.session.query(JobRun).count() == 1
    september = staff.post(SEND, data={"month": "2026-09"})
    assert september.location != first.location  # another month is another run


def test_the_embedded_runner_performs_a_queued_run_within_seconds(runner_app):
    october_clients(3)
    run_id = start_survey()
    assert the_run().state == JobState.QUEUED  # no runner in this process: it waits
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(runner_app,), kwargs={"every": 3600, "stop": stop, "poll": 0.2})
    thread.start()
    try:
        for _ in range(100):
            if the_run().state == JobState.DONE:
                break
            stop.wait(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)

    run = db.session.get(JobRun, run_id)
    assert (run.state, run.done, run.total) == (JobState.DONE, 3, 3)
    # The runner's first tick may have sent October's survey itself (the periodic one): each client once.
    assert run.result["invited"] + run.result["already_invited"] == 3
    assert db.session.query(OutboundMessage).count() == 3


def test_a_run_left_by_a_dead_process_is_failed_and_frees_its_month(runner_app, clock):
    first = start_survey()
    db.session.execute(
        JobRun.__table__.update().values(state=JobState.RUNNING, alive_at=clock.now() - dt.timedelta(minutes=16))
    )
    db.session.commit()

    again = start_survey()

    assert again != first
    failed = db.session.get(JobRun, first)
    assert failed.state == JobState.FAILED and failed.failure is None


def test_a_real_rq_worker_performs_the_run(app, database_url, redis_url, smtp_sink):
    october_clients(4)
    queued = rq_app_for(database_url, redis_url, smtp_sink.port)
    with queued.app_context():
        run_id = start_survey()
        assert db.session.get(JobRun, run_id).state == JobState.QUEUED
        work(queued)
        db.session.remove()

    run = db.session.get(JobRun, run_id)
    assert (run.state, run.done, run.total) == (JobState.DONE, 4, 4)
    assert len(smtp_sink.messages) == 4


def test_only_staff_see_runs_and_a_wrong_id_is_a_404(app, admin_client):
    october_clients(1)
    admin_client.post(SEND, data={"month": OCTOBER})
    run_id = the_run().id

    for path in ("/admin/jobs/99999", "/admin/jobs/99999999999/state", f"/admin/jobs/{run_id}/file"):
        assert admin_client.get(path).status_code == 404, path
    assert app.test_client().get(f"/admin/jobs/{run_id}").status_code == 302  # to the sign-in
    therapist = sign_in_therapist(app.test_client(), make_therapist(full_name="Rosa Mendoza"))
    for path in (f"/admin/jobs/{run_id}", f"/admin/jobs/{run_id}/state", "/admin/jobs/"):
        assert therapist.get(path).status_code == 403, path


def test_a_refusal_is_worded_in_the_starters_language(runner_app):
    run = runs.start(
        db.session,
        kind=JobKind.PAYOUT_ZIP,
        key="payout-zip:2026-10",
        params={"month": OCTOBER, "language": "es"},
        user_id=None,
        language="es",
    )
    run_id = run.id
    db.session.commit()

    assert run_jobs.perform_run(run_id) == "refused"

    assert db.session.get(JobRun, run_id).failure.startswith("No hay")


def test_a_run_that_cannot_reach_redis_fails_at_once_and_frees_its_month(app, database_url):
    unreachable = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0")
    with unreachable.app_context():
        run_id = start_survey()
        db.session.remove()

    run = db.session.get(JobRun, run_id)
    assert (run.state, run.active_key, run.failure) == (JobState.FAILED, None, None)


def test_a_runs_file_is_dropped_a_week_after_it_ended(admin_client, clock):
    admin_client.get("/admin/payouts/zip?month=2026-10")  # refused (no statements): given a file here
    run = the_run()
    run.state, run.file_name, run.file_mimetype, run.file_content = JobState.DONE, "a.zip", "application/zip", b"PK"
    db.session.commit()
    run_id = run.id

    assert run_jobs.tidy_runs() == "0 stale runs failed, 0 old files dropped"
    assert admin_client.get(f"/admin/jobs/{run_id}/file").status_code == 200
    clock.set(clock.now() + dt.timedelta(days=8))
    assert run_jobs.tidy_runs() == "0 stale runs failed, 1 old files dropped"
    db.session.expire_all()

    assert admin_client.get(f"/admin/jobs/{run_id}/file").status_code == 404
    page = admin_client.get(f"/admin/jobs/{run_id}")
    assert run_link(page, "job-run-file") is None and run_result(page)


def test_a_pdf_writer_failure_says_what_a_download_says(runner_app, monkeypatch, caplog):
    def writer_fails(run, progress, finish):
        raise PdfError("wkhtmltopdf failed (exit code 1): something only the log should hold")

    monkeypatch.setitem(run_jobs.KINDS, JobKind.SURVEY_SEND, writer_fails)
    caplog.set_level(logging.ERROR)

    assert run_jobs.perform_run(start_survey()) == "failed"

    assert the_run().failure == (
        "The PDF could not be produced. Try again; if it keeps failing, see the application log."
    )
    assert "only the log should hold" in caplog.text
