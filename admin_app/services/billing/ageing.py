"""Ageing: what each payer and each self-paying client owes on issued invoices, by age, per currency.

The age of an open amount is the days from its invoice's date to the day the report is read on:
0–30, 31–60, 61–90, 90+ (DESIGN.md, "Invoices"). The amounts are the ledger's (`ledger`): on a
payer's invoice the payer owes its open part, and the client owes what was moved to them and is
unpaid (aged from the same invoice); on a client's invoice the client owes the open amount.
Charges not yet invoiced have no age and are not here (the billing search shows them). Read on an
earlier day, only the invoices dated by then and the payments and write-offs applied by then count
(an invoice voided since is no longer here: a void frees its charges).

The screen shows the rows a page at a time (`ageing_page`), with the totals of them all: a network's
thousands of self-paying clients made one page of megabytes that took seconds to draw. The PDF and
the workbook have every row.

One statement: the ledger's positions of the charges on issued invoices, summed per debtor,
currency and bucket in SQL. Bucket bounds are dates worked out in Python, so the SQL compares
dates only (no date arithmetic that SQLite and PostgreSQL spell differently).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from admin_app.models import Client, Payer
from admin_app.services.billing.ledger import issued_positions_query
from admin_app.services.platform.money import from_cents

BUCKETS = ("0-30", "31-60", "61-90", "90+")
BUCKET_LABELS = {
    "0-30": _l("0–30 days"),
    "31-60": _l("31–60 days"),
    "61-90": _l("61–90 days"),
    "90+": _l("over 90 days"),
}


@dataclasses.dataclass(frozen=True)
class AgeingRow:
    """What one payer or client owes in one currency, per bucket."""

    debtor: str  # "payer" or "client"
    debtor_id: int
    name: str  # a client's with their client number: two clients may share a name
    currency: str
    buckets: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), Decimal("0.00"))


@dataclasses.dataclass(frozen=True)
class AgeingPage:
    """One page of the rows, and the count and totals of them all."""

    rows: list[AgeingRow]
    count: int
    totals: dict[str, dict[str, Decimal]]
    page: int  # from 0
    pages: int


PAGE_SIZE = 100


def ageing_page(session: Session, as_of: dt.date, page: int, *, per_page: int | None = None) -> AgeingPage:
    """The rows of page `page` (the last one when there are fewer pages), in `ageing_rows`' order,
    `per_page` (default PAGE_SIZE) to a page."""
    per_page = per_page or PAGE_SIZE
    rows = ageing_rows(session, as_of)
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(page, 0), pages - 1)
    return AgeingPage(
        rows=rows[page * per_page : (page + 1) * per_page],
        count=len(rows),
        totals=ageing_totals(rows),
        page=page,
        pages=pages,
    )


def ageing_rows(session: Session, as_of: dt.date) -> list[AgeingRow]:
    """Payers first, then clients, each by name, then currency; only what is owed (> 0)."""
    rows: dict[tuple[str, int, str], AgeingRow] = {}
    for row in session.execute(_ageing_query(as_of)):
        key = (row.debtor, row.debtor_id, row.currency)
        if key not in rows:
            rows[key] = AgeingRow(
                row.debtor, row.debtor_id, row.name, row.currency, dict.fromkeys(BUCKETS, Decimal("0.00"))
            )
        rows[key].buckets[row.bucket] = from_cents(row.owed_cents)
    return sorted(rows.values(), key=lambda item: (item.debtor != "payer", item.name.casefold(), item.currency))


def ageing_totals(rows: list[AgeingRow]) -> dict[str, dict[str, Decimal]]:
    """Per currency, the sum of each bucket and the total (sums of the rows' rounded figures)."""
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        currency = totals.setdefault(row.currency, dict.fromkeys((*BUCKETS, "total"), Decimal("0.00")))
        for bucket, amount in row.buckets.items():
            currency[bucket] += amount
        currency["total"] += row.total
    return dict(sorted(totals.items()))


def _ageing_query(as_of: dt.date) -> Select:
    """The open cents of the charges on issued invoices dated by `as_of` (`ledger.issued_positions_query`),
    with their bucket, read once (a CTE) for the payers' and the clients' sums."""
    positions = issued_positions_query(as_of).subquery("position")
    bucket = case(
        (positions.c.invoice_date >= as_of - dt.timedelta(days=30), literal("0-30")),
        (positions.c.invoice_date >= as_of - dt.timedelta(days=60), literal("31-60")),
        (positions.c.invoice_date >= as_of - dt.timedelta(days=90), literal("61-90")),
        else_=literal("90+"),
    ).label("bucket")
    on_issued = select(positions, bucket).cte("aged")
    payers = (
        select(
            literal("payer").label("debtor"),
            Payer.id.label("debtor_id"),
            Payer.name.label("name"),
            on_issued.c.currency,
            on_issued.c.bucket,
            func.sum(on_issued.c.payer_open_cents).label("owed_cents"),
        )
        .join(Payer, Payer.id == on_issued.c.payer_id)
        .group_by(Payer.id, Payer.name, on_issued.c.currency, on_issued.c.bucket)
        .having(func.sum(on_issued.c.payer_open_cents) > 0)
    )
    clients = (
        select(
            literal("client").label("debtor"),
            Client.id.label("debtor_id"),
            (Client.full_name + " (" + Client.client_number + ")").label("name"),
            on_issued.c.currency,
            on_issued.c.bucket,
            func.sum(on_issued.c.client_open_cents).label("owed_cents"),
        )
        .join(Client, Client.id == on_issued.c.client_id)
        .group_by(Client.id, Client.full_name, Client.client_number, on_issued.c.currency, on_issued.c.bucket)
        .having(func.sum(on_issued.c.client_open_cents) > 0)
    )
    return union_all(payers, clients)
