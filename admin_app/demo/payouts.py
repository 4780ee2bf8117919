"""The demo practice's payout statements, made as its staff would make them: through the payout
services (`payout_run`, `statements.approve`, `statements.mark_paid`), after the invoices and payments
(demo/invoices.py, demo/payments.py), so every line comes from the ledger as of each month's cut-off.

Payouts begin `PAYOUT_MONTHS` months before the demo's today's month (the practice's first run: the
charges before it were paid out from its spreadsheets, and the runs stay fast). Each month but the
last is run, approved and sent on `PAYOUT_DAY` of the next month; all but the newest of them are also
paid (a transfer a few days later). The last month is run and left as drafts: what staff review
next. The sessions held are those of payers that had not paid by a cut-off: most recent months are
invoiced but unpaid (Lima's insurer pays 45 days after an invoice; Vancouver's ICBC has not paid
its last month invoiced, and its last two months are not even invoiced), and self-paying clients pay
late.

Lima does not track payments in reality (it would set `PAYOUTS_WAIT_FOR_PAYMENT=false`), but its demo
records its payments (demo/payments.py), so it keeps the default and its statements come from them:
the demo shows held sessions, the part of the feature no spreadsheet does.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from admin_app.demo.practices import DemoPractice
from admin_app.models import PayoutLine, PayoutStatement, PayoutStatus, User
from admin_app.services.payouts import statements
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform import clinic_time
from admin_app.services.platform.months import Month

PAYOUT_MONTHS = 4  # months with statements: the last one in draft
PAID_AFTER_DAYS = 3  # the transfer, this many days after the statements were sent


def first_payout_day(today: dt.date) -> dt.date:
    """The first day of the demo's first payout month: what was settled before it was paid out from
    the spreadsheets (demo/payments.py settles self-paying clients' older sessions the day before)."""
    today = min(today, clinic_time.today())
    return Month.containing(today).previous().shift(1 - PAYOUT_MONTHS).first_day


def load_payouts(session: Session, practice: DemoPractice, *, today: dt.date) -> dict[str, int]:
    """Run, approve, send and pay the demo's payout statements (see the module); the caller commits.
    Returns the counts of statements by status and of their lines."""
    today = min(today, clinic_time.today())  # never a statement sent after today
    last = Month.containing(today).previous()
    months = Month.containing(first_payout_day(today)).until(last)
    admin_id = session.scalar(select(User.id).where(User.email == practice.admin_email))
    for index, month in enumerate(months):
        payout_run(session, month, user_id=admin_id)
        if month == last:
            break
        ids = list(
            session.scalars(
                select(PayoutStatement.id).where(
                    PayoutStatement.month == str(month), PayoutStatement.status == PayoutStatus.DRAFT
                )
            )
        )
        statements.approve(session, ids, user_id=admin_id)
        sent_on = min(month.last_day + dt.timedelta(days=current_app.config["PAYOUT_DAY"]), today)
        sent_at = clinic_time.day_start(sent_on) + dt.timedelta(hours=10)
        # Sent without an email: sending goes through the outbox (services/payouts/emails.py), and the
        # demo's past must not queue real emails to its therapists, so the status is set as sending
        # would leave it (its email text is then the generated one, as for a statement sent unedited),
        # approved and sent on the payout day rather than at the moment of the load.
        session.execute(
            update(PayoutStatement)
            .where(PayoutStatement.id.in_(ids))
            .values(status=PayoutStatus.SENT, approved_at=sent_at, sent_at=sent_at)
        )
        if index < len(months) - 2:  # all but the newest sent month are paid
            paid_on = min(sent_on + dt.timedelta(days=PAID_AFTER_DAYS), today)
            for statement_id in ids:
                statements.mark_paid(session, statement_id, paid_on=paid_on, reference=f"TRF-{month}-{statement_id}")
    return payout_counts(session)


def payout_counts(session: Session) -> dict[str, int]:
    """How many statements stand in each status, and how many paid and held lines they hold."""
    counts = {
        f"payout statements {status}": number
        for status, number in session.execute(
            select(PayoutStatement.status, func.count()).group_by(PayoutStatement.status)
        )
    }
    lines = dict(session.execute(select(PayoutLine.held, func.count()).group_by(PayoutLine.held)).all())
    return {**dict(sorted(counts.items())), "payout lines": lines.get(False, 0), "held lines": lines.get(True, 0)}
