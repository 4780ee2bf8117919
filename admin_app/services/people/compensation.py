"""A therapist's compensation as a dated history: which terms earn a session, and how terms change.

A session is earned by the terms in force on its date of service (the clinic date of its start).
Terms run from their `effective_from` until the next terms start; a therapist's first terms also
cover anything before them (a history imported later, a session entered after the fact), so every
session of a therapist with terms is earned by exactly one of them.

The therapist's own compensation columns stay, as the mirror of the newest terms: the screens,
the list filter and the spreadsheet import read and write them there, and `keep_terms` turns a
change of them into terms. Figures never read the mirror: they join `terms_in_force`.

A change may start from a day of the current month up to today, and not before the newest terms:
a month already closed (its totals and statements handed out) never changes, and the mirror is
always the terms in force today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from admin_app.models import Appointment, CompensationModel, CompensationTerms, Therapist
from admin_app.models.base import utcnow
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.money import cents_sql, percent_cents_sql

TERMS_FIELDS = ("compensation_model", "commission_percent", "service_fee")


def start_terms(session: Session, therapists: Iterable[Therapist], *, since: dt.date | None = None) -> None:
    """Give each of `therapists` that has no terms yet their first terms, copied from their columns
    and effective from `since` (default: today, clinic time), and flush. Every path that creates a
    therapist calls this: the screen, the spreadsheet import, the demo. (Call it before the new
    therapists are flushed: a pending therapist's terms are known to be none without a query.)"""
    day = since or clinic_time.today()
    for therapist in therapists:
        if not therapist.compensation_terms:
            therapist.compensation_terms.append(_terms_of(therapist, day))
    session.flush()


def keep_terms(session: Session, therapist: Therapist, *, effective_from: dt.date | None) -> CompensationTerms | None:
    """After the therapist's compensation columns were edited: make them terms from `effective_from`.

    Nothing happens when they still equal the newest terms; a therapist without terms gets their
    first ones. Terms of the same day as the newest are corrected in place. Returns the terms
    written, if any; raises RuleViolation (naming `effective_from`) for a date out of bounds.
    """
    if not therapist.compensation_terms:
        start_terms(session, [therapist])
        return therapist.compensation_terms[0]
    newest = therapist.compensation_terms[-1]
    if all(_same(getattr(newest, name), getattr(therapist, name)) for name in TERMS_FIELDS):
        return None
    if effective_from is None:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("effective_from")), field="effective_from"
        )
    earliest, latest = change_window(newest)
    if not earliest <= effective_from <= latest:
        raise RuleViolation(
            _l(
                "%(field)s: a date from %(earliest)s to %(latest)s: new terms never change an earlier month "
                "or the days of the current terms, and start no later than today",
                field=field_label("effective_from"),
                earliest=earliest.isoformat(),
                latest=latest.isoformat(),
            ),
            field="effective_from",
        )
    if effective_from == newest.effective_from:
        for name in TERMS_FIELDS:
            setattr(newest, name, getattr(therapist, name))
        newest.recorded_at = utcnow()
        terms = newest
    else:
        terms = _terms_of(therapist, effective_from)
        therapist.compensation_terms.append(terms)
    return terms


def change_window(newest: CompensationTerms) -> tuple[dt.date, dt.date]:
    """The first and last day new terms may start: from the first day of the current month (not
    before the newest terms) to today, clinic time."""
    today = clinic_time.today()
    return max(today.replace(day=1), newest.effective_from), today


def history(session: Session, therapist_id: int) -> list[CompensationTerms]:
    """The therapist's terms, newest first."""
    return list(
        session.scalars(
            select(CompensationTerms)
            .where(CompensationTerms.therapist_id == therapist_id)
            .order_by(CompensationTerms.effective_from.desc())
        )
    )


def terms_during(
    session: Session, therapist_ids: Iterable[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[CompensationTerms]]:
    """The terms in force at some moment of the UTC range [start, end), oldest first, per therapist
    (one query): what a month's statement explains its commissions by."""
    ids = list(therapist_ids)
    periods = terms_in_force()
    found: dict[int, list[CompensationTerms]] = {therapist_id: [] for therapist_id in ids}
    if not ids:
        return found
    for terms in session.scalars(
        select(CompensationTerms)
        .join(periods, periods.c.id == CompensationTerms.id)
        .where(
            CompensationTerms.therapist_id.in_(ids),
            or_(periods.c.starts_at.is_(None), periods.c.starts_at < end),
            or_(periods.c.ends_at.is_(None), periods.c.ends_at > start),
        )
        .order_by(CompensationTerms.therapist_id, CompensationTerms.effective_from)
    ):
        found[terms.therapist_id].append(terms)
    return found


def terms_in_force() -> Subquery:
    """Every therapist's terms with the UTC span they are in force: [starts_at, ends_at), where a
    first terms' start and a newest terms' end are NULL (open)."""
    window = {"partition_by": CompensationTerms.therapist_id, "order_by": CompensationTerms.starts_at}
    return select(
        CompensationTerms.id,
        CompensationTerms.therapist_id,
        CompensationTerms.compensation_model,
        CompensationTerms.commission_percent,
        CompensationTerms.service_fee,
        case((func.row_number().over(**window) == 1, None), else_=CompensationTerms.starts_at).label("starts_at"),
        func.lead(CompensationTerms.starts_at).over(**window).label("ends_at"),
    ).subquery("terms")


def in_force_for(terms: Subquery, therapist_id=Appointment.therapist_id, starts_at=Appointment.starts_at):
    """The join condition of `terms_in_force()` with a session line: by default the appointment it
    belongs to; or a query's own therapist and start columns (a charge's)."""
    return and_(
        terms.c.therapist_id == therapist_id,
        or_(terms.c.starts_at.is_(None), terms.c.starts_at <= starts_at),
        or_(terms.c.ends_at.is_(None), starts_at < terms.c.ends_at),
    )


def earning_cents(fee, terms: Subquery) -> ColumnElement[int]:
    """What the therapist earns on `fee` under `terms`, in whole cents, rounded half-up on the line:
    fee x commission % / 100, or fee less the service fee (never below 0). The rounding is done in
    integer cents, because SQLite's ROUND works on binary floats (4.545 would become 4.54)."""
    return earning_of_cents(cents_sql(fee), terms)


def earning_of_cents(fee_cents, terms: Subquery) -> ColumnElement[int]:
    """`earning_cents` of an amount already in whole cents (a figure the ledger worked out)."""
    on_commission = percent_cents_sql(fee_cents, cents_sql(terms.c.commission_percent))
    on_service_fee = fee_cents - cents_sql(func.coalesce(terms.c.service_fee, 0))
    return case(
        (terms.c.compensation_model == CompensationModel.COMMISSION, on_commission),
        (on_service_fee < 0, 0),
        else_=on_service_fee,
    )


def _terms_of(therapist: Therapist, day: dt.date) -> CompensationTerms:
    commission = therapist.compensation_model == CompensationModel.COMMISSION
    return CompensationTerms(
        effective_from=day,
        starts_at=clinic_time.day_start(day),
        compensation_model=therapist.compensation_model,
        commission_percent=therapist.commission_percent if commission else None,
        service_fee=None if commission else therapist.service_fee,
    )


def _same(stored, value) -> bool:
    if isinstance(stored, Decimal) and isinstance(value, Decimal):
        return stored.compare(value) == 0
    return stored == value
