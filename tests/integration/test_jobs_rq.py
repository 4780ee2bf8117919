"""Delivery through a real Redis and real RQ workers, with the faults a practice will meet:
the mail server down then up, a permanent refusal, a worker killed mid-batch, Redis flushed,
a cause rolled back. Every recipient must end with exactly one message."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import messages, schedule
from admin_app.jobs.queue import MESSAGES, QUEUES, queue, redis_connection
from admin_app.models import Attendance, MessageStatus, Notification, OutboundMessage
from admin_app.services.messaging import outbox, reminders
from tests.conftest import REAL_TIME, SmtpSink, free_port, make_app
from tests.factories import make_admin, make_appointment, make_client, make_therapist
from tests.phi import kept_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def rq_app_for(database_url: str, redis_url: str, mail_port: int):
    return make_app(
        database_url,
        REDIS_URL=redis_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=mail_port,
        MAIL_SUPPRESS_SEND=False,
        MAIL_TIMEOUT_SECONDS=5,
    )


@pytest.fixture
def rq_app(app, database_url, redis_url, smtp_sink):
    """The app with Redis (jobs go to RQ) and its mail pointed at the SMTP sink."""
    queued = rq_app_for(database_url, redis_url, smtp_sink.port)
    with queued.app_context():
        yield queued
        db.session.remove()


def work(app) -> None:
    """A real RQ worker, in this process, until the queues are empty."""
    SimpleWorker([queue(name, app) for name in QUEUES], connection=redis_connection(app)).work(burst=True)


def book_clients(clock, count: int) -> list[str]:
    """`count` clients with an appointment tomorrow (inside the reminder window)."""
    therapist = make_therapist()
    start = (clock.now() + dt.timedelta(hours=12)).replace(minute=0, second=0, microsecond=0)
    addresses = []
    for n in range(count):
        client = make_client(email=f"client-{n}@example.com", preferred_language="es")
        make_appointment(therapist, client, start + dt.timedelta(hours=n), attendance=Attendance.EXPECTED)
        addresses.append(client.email)
    db.session.commit()
    return addresses


def rows() -> list[OutboundMessage]:
    db.session.expire_all()
    return db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()


def time_passes(minutes: int) -> None:
    """Move the outbox's clock marks into the past, as if `minutes` had gone by."""
    delta = dt.timedelta(minutes=minutes)
    for row in rows():
        for field in ("created_at", "dispatched_at", "next_attempt_at", "claimed_at"):
            if getattr(row, field) is not None:
                setattr(row, field, getattr(row, field) - delta)
    db.session.commit()


def retry_round(app, minutes: int) -> None:
    time_passes(minutes)
    messages.reconcile_outbox()
    work(app)


def each_got_one(sink: SmtpSink, addresses: list[str]) -> None:
    assert sorted(message["To"] for message in sink.messages) == sorted(addresses)


def test_jobs_carry_ids_only_and_a_worker_delivers_them(rq_app, smtp_sink, clock):
    addresses = book_clients(clock, 2)

    schedule.tick()

    jobs = queue(MESSAGES).get_jobs()
    assert [job.func_name for job in jobs] == ["admin_app.jobs.messages.deliver_message"] * 2
    assert all(job.kwargs == {} and [type(arg) for arg in job.args] == [int] for job in jobs)
    stored = b"".join(redis_connection().dump(job.key) or b"" for job in jobs)
    assert not any(address.encode() in stored for address in addresses)
    assert all("@" not in job.description for job in jobs)
    assert smtp_sink.messages == []  # nothing is sent until a worker runs

    work(rq_app)

    each_got_one(smtp_sink, addresses)
    assert {row.status for row in rows()} == {MessageStatus.SENT}


def test_two_ticks_and_two_workers_send_each_reminder_once(rq_app, smtp_sink, clock):
    addresses = book_clients(clock, 3)

    schedule.tick()
    schedule.tick()
    time_passes(15)
    messages.reconcile_outbox()  # a second job for every row: claims keep it to one send
    work(rq_app)
    work(rq_app)

    each_got_one(smtp_sink, addresses)


def test_mail_server_down_then_up_delivers_once_after_retries(app, database_url, redis_url, clock):
    sink = SmtpSink(port=free_port())  # not started yet: connection refused
    queued = rq_app_for(database_url, redis_url, sink.port)
    with queued.app_context():
        [address] = book_clients(clock, 1)
        schedule.tick()
        work(queued)
        [row] = rows()
        assert (row.status, row.attempts) == (MessageStatus.QUEUED, 1)
        assert "ConnectionRefusedError" in row.last_error

        retry_round(queued, 1)
        assert rows()[0].attempts == 2

        sink.start()
        try:
            retry_round(queued, 5)
            retry_round(queued, 15)  # nothing left to retry
        finally:
            sink.stop()
        [row] = rows()
        assert (row.status, row.attempts, row.last_error) == (MessageStatus.SENT, 3, None)
        each_got_one(sink, [address])
        db.session.remove()


def test_a_server_that_stays_down_fails_after_five_tries_in_about_an_hour(app, database_url, redis_url, clock):
    admin = make_admin()
    db.session.commit()
    queued = rq_app_for(database_url, redis_url, free_port())
    with queued.app_context():
        book_clients(clock, 1)
        schedule.tick()
        work(queued)
        for delay in outbox.RETRY_DELAYS:
            retry_round(queued, int(delay.total_seconds() // 60))
        [row] = rows()
        assert (row.status, row.attempts) == (MessageStatus.FAILED, outbox.MAX_ATTEMPTS)
        assert sum(outbox.RETRY_DELAYS, dt.timedelta()) == dt.timedelta(minutes=61)
        [notice] = db.session.scalars(select(Notification)).all()
        assert (notice.user_id, notice.params) == (admin.id, {"message_id": row.id})
        db.session.remove()


def test_a_permanent_refusal_fails_at_once_and_tells_the_admins(rq_app, smtp_sink, clock):
    admin = make_admin()
    addresses = book_clients(clock, 2)
    smtp_sink.refuse[addresses[0]] = "550 5.1.1 Mailbox does not exist"

    schedule.tick()
    work(rq_app)

    refused, delivered = rows()
    assert (refused.status, refused.attempts) == (MessageStatus.FAILED, 1)
    assert refused.last_error.startswith("SMTP 550")
    assert delivered.status == MessageStatus.SENT
    each_got_one(smtp_sink, addresses[1:])
    [notice] = db.session.scalars(select(Notification)).all()
    assert (notice.user_id, notice.params) == (admin.id, {"message_id": refused.id})


class StallingSink(SmtpSink):
    """Accepts `stall_after` messages, then holds the next one's DATA without answering (so
    it is never delivered) and signals `stalled`: the moment to kill the worker."""

    def __init__(self, stall_after: int) -> None:
        super().__init__()
        self.stall_after: int | None = stall_after
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.stall_after is not None and len(self.messages) >= self.stall_after:
            self.stall_after = None
            self.stalled.set()
            await asyncio.sleep(30)
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("clock", [REAL_TIME], indirect=True)  # the worker is another process, on the real clock
def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, database_url, redis_url, clock):
    sink = StallingSink(stall_after=3)
    sink.start()
    queued = rq_app_for(database_url, redis_url, sink.port)
    try:
        with queued.app_context():
            addresses = book_clients(clock, 6)
            schedule.tick()
            worker_log = kept_file("rq-worker")
            worker = subprocess.Popen(
                [sys.executable, "-m", "admin_app.jobs.worker", "--burst"],
                cwd=PROJECT_ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": database_url,
                    "REDIS_URL": redis_url,
                    "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": str(sink.port),
                },
                start_new_session=True,
                stdout=worker_log.open("w") if worker_log else subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            try:
                assert sink.stalled.wait(60), "the worker never reached the fourth message"
            finally:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)
            statuses = [row.status for row in rows()]
            assert statuses.count(MessageStatus.SENT) == 3
            assert statuses.count(MessageStatus.SENDING) == 1  # claimed by the dead worker

            work(queued)  # a new worker takes the jobs still on the queue
            assert [row.status for row in rows()].count(MessageStatus.SENT) == 5
            retry_round(queued, 6)  # the reconciler finds the dead worker's claim

            assert {row.status for row in rows()} == {MessageStatus.SENT}
            each_got_one(sink, addresses)
            db.session.remove()
    finally:
        sink.stop()


def test_jobs_lost_with_a_flushed_redis_are_dispatched_again(rq_app, smtp_sink, clock):
    addresses = book_clients(clock, 2)
    schedule.tick()
    redis_connection().flushdb()

    messages.reconcile_outbox()  # too early to call them lost
    assert queue(MESSAGES).count == 0
    retry_round(rq_app, int(outbox.LOST_AFTER.total_seconds() // 60) + 1)

    each_got_one(smtp_sink, addresses)


def test_a_rolled_back_cause_sends_nothing(rq_app, smtp_sink, clock):
    book_clients(clock, 2)

    assert reminders.queue_due_reminders(db.session) == 2
    db.session.rollback()
    db.session.commit()
    work(rq_app)

    assert rows() == []
    assert queue(MESSAGES).count == 0
    assert smtp_sink.messages == []


def test_the_cron_scheduler_runs_the_periodic_list(rq_app):
    scheduler = schedule.cron_scheduler(redis_connection())

    registered = {(job.name, job.queue_name, job.cron) for job in scheduler.get_jobs()}

    assert registered == {(entry.name, entry.queue, entry.cron) for entry in schedule.PERIODIC}
    assert {"appointment-reminders", "outbox-reconciler"} <= {name for name, _, _ in registered}


def test_the_worker_entry_point_refuses_to_start_without_redis(tmp_path):
    environment = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "admin_app.jobs.worker", "--burst"],
        cwd=PROJECT_ROOT,
        env={**environment, "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "REDIS_URL is not set" in result.stderr
