"""Invoice runs from several machines at once (DESIGN.md, "Invoices": two runs never invoice a charge
twice). Each run gathers its charges in a temporary table of its own connection; the partial unique
index on holding lines lets one run take a charge, and the other is refused whole, with a message."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import func, select

from admin_app.extensions import db
from admin_app.models import Invoice, InvoiceLine, InvoiceRun
from admin_app.services.billing.invoice_run import commit_run
from admin_app.services.platform.errors import RuleViolation
from tests.at_once import at_once
from tests.factories import book, make_client, make_therapist

RUNS = 3
ON_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


@pytest.mark.skipif(not ON_POSTGRES, reason="several machines run invoices at once on PostgreSQL (TEST_DATABASE_URL)")
@pytest.mark.parametrize("clock", ["2026-11-05T15:00Z"], indirect=True)
def test_runs_at_once_invoice_each_session_once(app):
    """Twelve clients, a 100.00 session each in October. Three runs through October start at once,
    each in its own app and transaction: each session ends on exactly one line, of one run's drafts;
    a run that met another is refused with the message to run it again and leaves nothing."""
    therapist = make_therapist()
    for number in range(12):
        client = make_client(therapist, full_name=f"Client {number:02d}")
        book(therapist, [client], dt.datetime(2026, 10, 1 + number, 10, 0), fee="100.00")
    db.session.commit()
    outcomes = at_once([lambda: commit_run(db.session, through=dt.date(2026, 10, 31))] * RUNS)
    refused = [outcome for outcome in outcomes if isinstance(outcome, RuleViolation)]
    made = [outcome for outcome in outcomes if not isinstance(outcome, BaseException) and outcome.run is not None]
    assert len(outcomes) == RUNS and all(
        not isinstance(outcome, BaseException) or isinstance(outcome, RuleViolation) for outcome in outcomes
    ), outcomes
    assert all("Another invoice run took some of these sessions" in str(error) for error in refused)
    assert [outcome.lines for outcome in made] == [12]
    db.session.expire_all()
    per_charge = db.session.execute(
        select(InvoiceLine.participant_id, func.count()).where(InvoiceLine.holds).group_by(InvoiceLine.participant_id)
    ).all()
    assert len(per_charge) == 12 and {count for _charge, count in per_charge} == {1}
    assert db.session.scalar(select(func.count()).select_from(InvoiceRun)) == 1
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 12
