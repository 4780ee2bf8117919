"""The embedded default's periodic work: `flask jobs runner` (what `make run` starts beside gunicorn)
does what `flask jobs tick` does, every interval, with no cron and no Redis; gunicorn starts exactly
one runner however many workers it has, and stops it when it stops.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Attendance, MessageStatus, OutboundMessage
from admin_app.services.platform.clinic_time import to_local
from tests.conftest import REAL_TIME, free_port
from tests.factories import make_appointment, make_client, make_therapist
from tests.phi import keep_output, kept_file

ROOT = Path(__file__).resolve().parents[2]
SERVED_PORT = 5207  # what `make run` would serve on; nothing listens there in this test


def runner_env(database_url: str, **settings: str) -> dict[str, str]:
    """The app's settings from scratch, as `make run` gives them: no PUBLIC_BASE_URL, no Redis."""
    kept = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **kept,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "runner-secret",
        "CLINIC_TIMEZONE": "America/Lima",
        "DEFAULT_LOCALE": "en",
        "HOST": "127.0.0.1",
        "PORT": str(SERVED_PORT),
        "PYTHONUNBUFFERED": "1",
        **settings,
    }


def wait_for(condition, seconds: float = 60, step: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(step)
    return condition()


def due_reminder_and_last_months_survey(now: dt.datetime):
    """A session in 20 hours (its reminder is due) and one attended last month (its survey is due)."""
    therapist = make_therapist(full_name="Lucía Paredes")
    ana = make_client(full_name="Ana Torres", email="ana@example.com", preferred_language="en")
    bea = make_client(full_name="Bea Rojas", email="bea@example.com", preferred_language="en")
    start = (now + dt.timedelta(hours=20)).replace(minute=0, second=0, microsecond=0)
    make_appointment(therapist, ana, start, attendance=Attendance.EXPECTED)
    first_of_month = to_local(now).replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    make_appointment(therapist, bea, (first_of_month - dt.timedelta(days=10)).astimezone(dt.UTC))
    db.session.commit()


@pytest.mark.parametrize("clock", [REAL_TIME], indirect=True)  # the runner is another process, on the real clock
def test_the_runner_sends_due_reminders_and_the_survey_with_links_to_the_served_address(
    clock, app, database_url, smtp_sink
):
    due_reminder_and_last_months_survey(clock.now())
    env = runner_env(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_sink.port))

    runner = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "admin_app", "jobs", "runner", "--every", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        arrived = wait_for(lambda: smtp_sink.to("ana@example.com") and smtp_sink.to("bea@example.com"))
        time.sleep(2.5)  # two more ticks: nothing is sent twice
    finally:
        runner.send_signal(signal.SIGTERM)
        output, _ = runner.communicate(timeout=30)
        keep_output("flask-jobs-runner", output)

    assert arrived, output
    assert runner.returncode == 0, output
    [reminder] = smtp_sink.to("ana@example.com")
    [survey] = smtp_sink.to("bea@example.com")
    assert reminder["Subject"].startswith("Reminder")
    assert f"http://127.0.0.1:{SERVED_PORT}/survey/" in survey.get_body(("plain",)).get_content()
    db.session.expire_all()
    assert [row.status for row in db.session.scalars(select(OutboundMessage))] == [MessageStatus.SENT] * 2
    assert "appointment-reminders: 1" in output and "monthly-survey" in output


def child_processes(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid` (Linux /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append((int(entry.name), cmdline))
    return children


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_gunicorn_runs_exactly_one_runner_beside_its_workers_and_stops_it(app, database_url, tmp_path):
    port = free_port()
    env = runner_env(database_url, PORT=str(port), WEB_CONCURRENCY="3", RUN_PERIODIC_WORK="true")
    log_path = kept_file("gunicorn-periodic-runner", tmp_path / "gunicorn.log")
    log = log_path.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "admin_app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def serving():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as answer:
                    return answer.status == 200
            except OSError:
                return False

        assert wait_for(serving, 60), log_path.read_text()
        children = wait_for(lambda: len(child_processes(server.pid)) == 4 and child_processes(server.pid), 30)
        runners = [pid for pid, cmdline in children if "jobs runner" in cmdline]
    finally:
        server.terminate()
        server.wait(timeout=60)

    assert len(children) == 4, children  # three web workers and one runner
    assert len(runners) == 1, children
    assert wait_for(lambda: not alive(runners[0]), 30), "the runner outlived gunicorn"
