"""Issuing from several processes at once (DESIGN.md: gap-free even under concurrent issuing).

Twenty drafts; twenty processes, each with its own app, engine and transaction, issue one draft each
at the same moment (and every other one also tries a draft another process is issuing). The twenty
invoices carry exactly INV-000001 to INV-000020, each draft one number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import Invoice, InvoiceStatus
from admin_app.services.billing import issuing
from admin_app.services.billing.invoice_run import commit_run
from admin_app.services.platform.errors import RuleViolation
from tests.conftest import REAL_TIME, make_app
from tests.factories import book, make_client, make_therapist

TAKERS = 20
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="several machines issue on PostgreSQL (TEST_DATABASE_URL)")


@postgres_only
@pytest.mark.parametrize("clock", [REAL_TIME], indirect=True)
def test_twenty_processes_issuing_at_once_get_twenty_consecutive_numbers(app, clock):
    therapist = make_therapist()
    yesterday = dt.datetime.combine(clock.today(app.config["CLINIC_TIMEZONE"]), dt.time(9)) - dt.timedelta(days=1)
    for number in range(TAKERS):
        client = make_client(therapist, full_name=f"Client {number}")
        book(therapist, [client], yesterday - dt.timedelta(hours=number), fee="100.00", currency="PEN")
    db.session.commit()
    commit_run(db.session, through=yesterday.date())
    ids = db.session.scalars(select(Invoice.id).order_by(Invoice.id)).all()
    assert len(ids) == TAKERS
    url = db.engine.url.render_as_string(hide_password=False)

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with context.Manager() as manager, context.Pool(TAKERS) as pool:
        start = manager.Barrier(TAKERS, timeout=60)
        jobs = [(url, start, ids[index], ids[(index + 1) % TAKERS] if index % 2 else None) for index in range(TAKERS)]
        outcomes = pool.starmap(_issue, jobs, chunksize=1)

    db.session.expire_all()
    issued = db.session.execute(select(Invoice.id, Invoice.number, Invoice.status).order_by(Invoice.number)).all()
    assert [number for _id, number, _status in issued] == [f"INV-{value:06d}" for value in range(1, TAKERS + 1)]
    assert {status for _id, _number, status in issued} == {InvoiceStatus.ISSUED}
    assert sorted(number for number in outcomes if number) == [number for _id, number, _status in issued]


def _issue(url: str, start, invoice_id: int, contested_id: int | None) -> str | None:
    """In a process of its own: wait for the others, then issue the draft (first trying, where
    `contested_id` is given, a draft that another process issues; refused or rolled back, it gives
    no number away)."""
    app = make_app(url)
    with app.app_context():
        start.wait()
        if contested_id is not None:
            with contextlib.suppress(RuleViolation):
                issuing.issue(db.session, [contested_id])
            db.session.rollback()
        (invoice,) = issuing.issue(db.session, [invoice_id])
        number = invoice.number
        db.session.commit()
        db.session.remove()
        return number
