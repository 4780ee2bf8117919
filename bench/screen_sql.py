"""Hand-written bare SQL for screens that are no list view (bench/screens.py has no generic SQL for
them): what an expert would write for the figures the screen shows, PostgreSQL only, each checked
against the product's figures when the bench builds it, so a screen is judged against the same
numbers it prints.

`BARE` maps a screen's URL to a function `(session) -> (bare, note)`: `bare()` runs the SQL, `note`
says what was checked ("MISMATCH ..." when the figures differ, which fails the run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

# What each payer and self-paying client owes on issued invoices, by age (services/billing/ageing.py):
# the open cents of each charge held by an issued invoice dated by `as_of` (its line's amount and tax
# less the allocations applied by then), summed per debtor, currency and bucket.
AGEING_SQL = """
WITH allocated AS (
  SELECT a.participant_id,
         sum(CASE WHEN a.kind = 'paid' THEN round(a.amount * 100) ELSE 0 END) AS paid,
         sum(CASE WHEN a.kind = 'paid' AND p.payer_id IS NOT NULL THEN round(a.amount * 100) ELSE 0 END)
           AS paid_by_payer,
         sum(CASE WHEN a.kind = 'written_off' THEN round(a.amount * 100) ELSE 0 END) AS written_off,
         sum(CASE WHEN a.kind = 'moved_to_client' THEN round(a.amount * 100) ELSE 0 END) AS moved
  FROM allocation a LEFT JOIN payment p ON p.id = a.payment_id
  WHERE a.applied_on <= :as_of
  GROUP BY a.participant_id
), position AS MATERIALIZED (
  SELECT i.payer_id, pa.client_id, pa.currency,
         CASE WHEN i.invoice_date >= :d30 THEN '0-30' WHEN i.invoice_date >= :d60 THEN '31-60'
              WHEN i.invoice_date >= :d90 THEN '61-90' ELSE '90+' END AS bucket,
         round(l.amount * 100) + round(l.tax * 100) - coalesce(al.paid, 0) - coalesce(al.written_off, 0) AS open,
         CASE WHEN pa.attendance = 'attended' AND pa.billed_to = 'payer'
              THEN round(l.amount * 100) + round(l.tax * 100) - coalesce(al.paid_by_payer, 0)
                   - coalesce(al.written_off, 0) - coalesce(al.moved, 0)
              ELSE 0 END AS payer_open
  FROM invoice i
  JOIN invoice_line l ON l.invoice_id = i.id AND l.holds
  JOIN participant pa ON pa.id = l.participant_id
  LEFT JOIN allocated al ON al.participant_id = l.participant_id
  WHERE i.status = 'issued' AND i.invoice_date <= :as_of
)
SELECT 'payer' AS debtor, y.id, y.name, po.currency, po.bucket, sum(po.payer_open) AS owed
FROM position po JOIN payer y ON y.id = po.payer_id
GROUP BY y.id, y.name, po.currency, po.bucket HAVING sum(po.payer_open) > 0
UNION ALL
SELECT 'client', c.id, c.full_name || ' (' || c.client_number || ')', po.currency, po.bucket,
       sum(po.open - po.payer_open)
FROM position po JOIN client c ON c.id = po.client_id
GROUP BY c.id, c.full_name, c.client_number, po.currency, po.bucket HAVING sum(po.open - po.payer_open) > 0
"""


def ageing(session) -> tuple[Callable[[], object], str]:
    """The ageing screen as of today: AGEING_SQL, checked cell by cell against `ageing_rows`."""
    from decimal import Decimal

    from admin_app.services.billing.ageing import ageing_rows
    from admin_app.services.platform import clinic_time

    as_of = clinic_time.today()
    params = {"as_of": as_of, **{f"d{days}": as_of - dt.timedelta(days=days) for days in (30, 60, 90)}}

    def bare():
        return session.execute(sa.text(AGEING_SQL), params).all()

    cells = {(row.debtor, row.id, row.name, row.currency, row.bucket): Decimal(row.owed) / 100 for row in bare()}
    shown = {
        (row.debtor, row.debtor_id, row.name, row.currency, bucket): amount
        for row in ageing_rows(session, as_of)
        for bucket, amount in row.buckets.items()
        if amount
    }
    session.rollback()
    differ = sum(1 for key in cells.keys() | shown.keys() if cells.get(key) != shown.get(key))
    return bare, f"MISMATCH: {differ} of {len(shown)} cells differ" if differ else f"{len(cells)} cells checked"


# The survey results as they open (services/surveys/results.py): the last 12 ended months' NPS (the
# invitations of each month, its responses, promoters 9-10 and detractors 0-6) and every therapist's
# average stars per month, then the therapists to filter by.
SURVEY_NPS_SQL = """
SELECT i.month, count(*), count(r.id), count(*) FILTER (WHERE r.nps_score >= 9),
       count(*) FILTER (WHERE r.nps_score <= 6)
FROM survey_invitation i LEFT JOIN survey_response r ON r.invitation_id = i.id
WHERE i.month BETWEEN :first AND :last
GROUP BY i.month ORDER BY i.month
"""
SURVEY_STARS_SQL = """
SELECT s.month, s.therapist_id, t.full_name, s.ratings, s.average
FROM (SELECT month, therapist_id, count(*) AS ratings, avg(stars::numeric(6, 3)) AS average
      FROM survey_rating WHERE month BETWEEN :first AND :last GROUP BY month, therapist_id) s
JOIN therapist t ON t.id = s.therapist_id
ORDER BY s.month, t.full_name
"""


def survey_results(session) -> tuple[Callable[[], object], str]:
    """The survey results as they open: SURVEY_*_SQL, checked month by month (invitations, responses,
    promoters, detractors) and therapist by therapist (ratings and average stars per month)
    against `nps_table` and `ratings_table`."""
    from decimal import ROUND_HALF_UP, Decimal

    from admin_app.services.platform import clinic_time
    from admin_app.services.surveys import results

    period = results.default_range(clinic_time.today())
    params = {"first": str(period.first), "last": str(period.last)}
    choices = sa.text("SELECT id, full_name FROM therapist ORDER BY full_name")

    def bare():
        nps = session.execute(sa.text(SURVEY_NPS_SQL), params).all()
        stars = session.execute(sa.text(SURVEY_STARS_SQL), params).all()
        return nps, stars, session.execute(choices).all()

    nps, stars, _choices = bare()
    shown_nps = {
        (line.month, line.invitations, line.responses, line.promoters, line.detractors)
        for line in results.nps_table(session, period)
        if line.invitations
    }
    shown_stars = {
        (line.month, row.therapist_id, row.therapist_name, line.ratings, line.average)
        for row in results.ratings_table(session, period)
        for line in row.by_month.values()
    }
    session.rollback()
    written_nps = {tuple(row) for row in nps}
    written_stars = {
        (month, therapist_id, name, ratings, Decimal(average).quantize(Decimal("0.01"), ROUND_HALF_UP))
        for month, therapist_id, name, ratings, average in stars
    }
    differ = len(shown_nps ^ written_nps) + len(shown_stars ^ written_stars)
    if differ:
        return bare, f"MISMATCH: {differ} months or therapists' months differ"
    return bare, f"{len(written_nps)} months and {len(written_stars)} therapists' months checked"


# The appointment search for billing as it opens (services/billing/charge_search.py): last month's
# charges (the bench runs with MISSED_SESSION_FEE_PERCENT 0: the attended participants), their count
# and total per currency, and the first page of 50 by start with where each stands (the invoice line
# holding it, its allocations read for those 50 only); then the therapists and payers to filter by.
CHARGES_TOTALS_SQL = """
SELECT p.currency, count(*),
       sum(CASE WHEN i.status = 'issued' THEN round(l.amount * 100) + round(l.tax * 100) ELSE round(p.fee * 100) END)
FROM appointment a
JOIN participant p ON p.appointment_id = a.id AND p.attendance = 'attended'
LEFT JOIN invoice_line l ON l.participant_id = p.id AND l.holds
LEFT JOIN invoice i ON i.id = l.invoice_id
WHERE a.starts_at >= :start AND a.starts_at < :end
GROUP BY p.currency ORDER BY p.currency
"""
CHARGES_PAGE_SQL = """
WITH page AS (
  SELECT p.id, p.client_id, p.currency, p.billed_to, p.fee, p.payer_id, a.starts_at, a.therapist_id
  FROM appointment a JOIN participant p ON p.appointment_id = a.id AND p.attendance = 'attended'
  WHERE a.starts_at >= :start AND a.starts_at < :end
  ORDER BY a.starts_at, p.id LIMIT :size
), position AS (
  SELECT pg.*, i.id AS invoice_id, i.number, i.status,
         CASE WHEN i.status = 'issued' THEN round(l.amount * 100) + round(l.tax * 100)
              ELSE round(pg.fee * 100) END AS billed,
         coalesce(al.paid, 0) AS paid, coalesce(al.written_off, 0) AS written_off, al.last_applied_on
  FROM page pg
  LEFT JOIN invoice_line l ON l.participant_id = pg.id AND l.holds
  LEFT JOIN invoice i ON i.id = l.invoice_id
  LEFT JOIN LATERAL (
    SELECT sum(round(amount * 100)) FILTER (WHERE kind = 'paid') AS paid,
           sum(round(amount * 100)) FILTER (WHERE kind = 'written_off') AS written_off,
           max(applied_on) FILTER (WHERE kind <> 'moved_to_client') AS last_applied_on
    FROM allocation WHERE participant_id = pg.id) al ON true
)
SELECT po.id, po.starts_at, c.full_name AS client, t.full_name AS therapist, po.billed_to,
       CASE WHEN po.billed_to = 'payer' THEN y.name END AS payer, po.billed, po.currency, po.number,
       CASE WHEN po.billed - po.paid - po.written_off <= 0 AND po.paid + po.written_off > 0
            THEN CASE WHEN po.written_off > 0 THEN 'written_off' ELSE 'paid' END
            WHEN po.paid > 0 THEN 'partly_paid' WHEN po.status = 'draft' THEN 'draft'
            WHEN po.status = 'issued' THEN 'invoiced' ELSE 'uninvoiced' END AS state,
       CASE WHEN po.billed - po.paid - po.written_off <= 0 AND po.paid + po.written_off > 0
            THEN po.last_applied_on END AS paid_on
FROM position po JOIN client c ON c.id = po.client_id JOIN therapist t ON t.id = po.therapist_id
LEFT JOIN payer y ON y.id = po.payer_id
ORDER BY po.starts_at, po.id
"""
CHARGES_CHOICES_SQL = """
SELECT id, full_name FROM therapist ORDER BY full_name;
SELECT id, name FROM payer ORDER BY name
"""


def charges(session) -> tuple[Callable[[], object], str]:
    """The appointment search for billing as it opens: CHARGES_*_SQL, the page checked row by row
    (charge, client, therapist, payer, amount, invoice, state, paid on) and the totals per currency
    against `search_charges`."""
    from decimal import Decimal

    from admin_app.services.billing.charge_search import ChargeSearch, search_charges
    from admin_app.services.platform import clinic_time
    from admin_app.services.platform.months import Month
    from admin_app.views.billing.charges import PER_PAGE

    month = Month.containing(clinic_time.today()).previous()
    start, end = month.utc_range()
    params = {"start": start, "end": end, "size": PER_PAGE}
    choices = [sa.text(statement) for statement in CHARGES_CHOICES_SQL.split(";")]

    def bare():
        totals = session.execute(sa.text(CHARGES_TOTALS_SQL), params).all()
        rows = session.execute(sa.text(CHARGES_PAGE_SQL), params).all()
        return totals, rows, [session.execute(statement).all() for statement in choices]

    totals, rows, _choices = bare()
    found = search_charges(session, ChargeSearch(since=month.first_day, until=month.last_day), per_page=PER_PAGE)
    session.rollback()
    shown = [
        (charge.participant_id, charge.client_name, charge.therapist_name, charge.payer_name, charge.amount)
        + (charge.invoice_number, charge.state, charge.paid_on)
        for charge in found.charges
    ]
    written = [
        (r.id, r.client, r.therapist, r.payer, Decimal(r.billed) / 100, r.number, r.state, r.paid_on) for r in rows
    ]
    differ = abs(len(shown) - len(written)) + sum(mine != theirs for mine, theirs in zip(shown, written, strict=False))
    same_totals = found.count == sum(count for _c, count, _cents in totals) and found.totals == {
        currency: Decimal(cents) / 100 for currency, _count, cents in totals
    }
    if differ or not same_totals:
        return bare, f"MISMATCH: {differ} of {len(shown)} rows differ" + ("" if same_totals else ", totals differ")
    return bare, f"{len(shown)} rows and {found.count} charges' totals checked"


# The book's month (services/scheduling/agenda.py `month_days`): each local day's first 5 appointments
# with their therapist and room, and the day's count; then those appointments' participants and clients.
BOOK_MONTH_SQL = """
WITH ranked AS (
  SELECT a.*, row_number() OVER (PARTITION BY a.day ORDER BY a.starts_at, a.id) AS place,
         count(*) OVER (PARTITION BY a.day) AS day_count
  FROM (SELECT *, (starts_at AT TIME ZONE :zone)::date AS day FROM appointment
        WHERE starts_at >= :start AND starts_at < :end) a
)
SELECT r.*, t.full_name AS therapist, room.name AS room
FROM ranked r JOIN therapist t ON t.id = r.therapist_id LEFT JOIN room ON room.id = r.room_id
WHERE r.place <= :shown
ORDER BY r.starts_at, r.id
"""
BOOK_PARTICIPANTS_SQL = """
SELECT p.*, c.full_name FROM participant p JOIN client c ON c.id = p.client_id WHERE p.appointment_id = ANY(:ids)
"""


def book_month(session) -> tuple[Callable[[], object], str]:
    """The book's month view of this month: BOOK_MONTH_SQL, checked day by day (the appointments
    shown and the count) against `month_days`."""
    from admin_app.services.platform import clinic_time
    from admin_app.services.scheduling.agenda import MONTH_DAY_SHOWN, AgendaFilter, Span, month_days, period_of

    period = period_of(Span.MONTH, clinic_time.today())
    params = {
        "zone": clinic_time.clinic_zone().key,
        "start": clinic_time.day_start(period.first_day),
        "end": clinic_time.day_start(period.last_day + dt.timedelta(days=1)),
        "shown": MONTH_DAY_SHOWN,
    }

    def bare():
        rows = session.execute(sa.text(BOOK_MONTH_SQL), params).all()
        session.execute(sa.text(BOOK_PARTICIPANTS_SQL), {"ids": [row.id for row in rows]}).all()
        return rows

    days: dict[dt.date, tuple[list[int], int]] = {}
    for row in bare():
        days.setdefault(row.day, ([], row.day_count))[0].append(row.id)
    shown = {
        day: ([appointment.id for appointment in month_day.appointments], month_day.count)
        for day, month_day in month_days(session, period=period, filters=AgendaFilter()).items()
    }
    session.rollback()
    differ = sum(1 for day in days.keys() | shown.keys() if days.get(day) != shown.get(day))
    return bare, f"MISMATCH: {differ} of {len(shown)} days differ" if differ else f"{len(days)} days checked"


# The open tasks not snoozed, oldest first (services/tasks/work.py `task_rows`), with client, therapist,
# assignee and, for a reservation's task, its room, site and hours; and the active staff the assign
# lists offer. The admin home shows the first HOME_LIMIT (bench/run.py), the tasks page a PAGE_SIZE.
HOME_TASKS_SQL = """
SELECT t.id, t.kind, t.subject, t.params, t.title, t.client_id, c.full_name, c.client_number, th.full_name,
       t.assigned_to_id, u.email, t.opened_on, t.snoozed_until, t.status, t.note,
       s.name, r.name, rr.weekday, rr.starts_time, rr.ends_time
FROM admin_task t
LEFT JOIN client c ON c.id = t.client_id
LEFT JOIN therapist th ON th.id = t.therapist_id
LEFT JOIN app_user u ON u.id = t.assigned_to_id
LEFT JOIN room_reservation rr ON t.kind = 'reservation_low_use' AND CAST(rr.id AS varchar) = t.subject
LEFT JOIN room r ON r.id = rr.room_id
LEFT JOIN site s ON s.id = r.site_id
WHERE t.status = 'open' AND (t.snoozed_until IS NULL OR t.snoozed_until <= :today)
ORDER BY t.opened_at, t.id
LIMIT :limit
"""
HOME_STAFF_SQL = """
SELECT u.id, u.email FROM app_user u
WHERE u.active AND EXISTS (SELECT 1 FROM roles_users ur JOIN app_role ro ON ro.id = ur.role_id
                           WHERE ur.user_id = u.id AND ro.name = 'admin')
ORDER BY u.email
"""


# The tasks page's count of them (its pager).
TASKS_COUNT_SQL = """
SELECT count(*) FROM admin_task t
WHERE t.status = 'open' AND (t.snoozed_until IS NULL OR t.snoozed_until <= :today)
"""


def tasks(session) -> tuple[Callable[[], object], str]:
    """The tasks page with its default filter (open, not snoozed): its first page of tasks, their
    count and the staff, checked task by task against `task_rows`."""
    from admin_app.services.platform import clinic_time
    from admin_app.services.tasks import work
    from admin_app.views.tasks.tasks import PAGE_SIZE

    params = {"today": clinic_time.today(), "limit": PAGE_SIZE}

    def bare():
        return (
            session.execute(sa.text(HOME_TASKS_SQL), params).all(),
            session.execute(sa.text(TASKS_COUNT_SQL), params).scalar(),
            session.execute(sa.text(HOME_STAFF_SQL)).all(),
        )

    rows, count, staff = bare()
    shown = work.task_rows(session, today=params["today"], limit=PAGE_SIZE)
    same = (
        [row.id for row in shown] == [row.id for row in rows]
        and work.task_count(session, today=params["today"]) == count
        and work.staff_choices(session) == [tuple(row) for row in staff]
    )
    session.rollback()
    return bare, f"{len(rows)} of {count} tasks checked" if same else "MISMATCH: the tasks, count or staff differ"


# The book's week and day (services/scheduling/agenda.py `agenda`): every appointment of the period
# with its therapist and room, then their participants and clients (BOOK_PARTICIPANTS_SQL); the
# active therapists' count and the sites. A practice too wide for everyone in one list opens on its
# first site, a page of therapists (`listed_page`): BOOK_WEEK_ROWS_SQL, the first page of those
# listed (booked at the site in the period, or at home there) and their number, then the period of
# those on the page.
BOOK_WEEK_SQL = """
SELECT a.*, (a.starts_at AT TIME ZONE :zone)::date AS day, t.full_name AS therapist, room.name AS room
FROM appointment a JOIN therapist t ON t.id = a.therapist_id LEFT JOIN room ON room.id = a.room_id
WHERE a.starts_at >= :start AND a.starts_at < :end {site} {page}
ORDER BY a.starts_at, a.id
"""
BOOK_WEEK_SITE = "AND (room.site_id = :site OR a.room_id IS NULL AND t.site_id = :site)"
BOOK_WEEK_PAGE = "AND a.therapist_id = ANY(:therapists)"
BOOK_WEEK_ROWS_SQL = """
WITH booked AS (
  SELECT DISTINCT a.therapist_id FROM appointment a
  JOIN therapist t ON t.id = a.therapist_id LEFT JOIN room ON room.id = a.room_id
  WHERE a.starts_at >= :start AND a.starts_at < :end {site}
)
SELECT t.id, t.full_name, count(*) OVER () AS listed FROM therapist t
WHERE t.id IN (SELECT therapist_id FROM booked) OR t.active {home}
ORDER BY t.full_name, t.id
LIMIT :limit
"""
BOOK_WEEK_CHOICES_SQL = """
SELECT (SELECT count(*) FROM therapist WHERE active) AS active, array(SELECT name FROM site ORDER BY name) AS sites
"""
BOOK_DAY_COLUMNS_SQL = """
SELECT t.*, t.id = ANY(:ids) AS shown FROM therapist t WHERE t.active OR t.id = ANY(:ids) ORDER BY t.full_name, t.id
"""


def book_period(span: str) -> Callable[..., tuple[Callable[[], object], str]]:
    """The book's week or day as it opens (`span`): of every therapist, or of the first site, a page of
    therapists (a row each in the week, a column each in the day), when the practice is too wide
    (`wide_practice`). Checked therapist by therapist and day by day against `listed_page` and
    `agenda`; the day also reads its columns' therapists and those it offers to add
    (BOOK_DAY_COLUMNS_SQL)."""

    def book(session) -> tuple[Callable[[], object], str]:
        from admin_app.services.platform import clinic_time
        from admin_app.services.rooms.choices import site_filter_choices
        from admin_app.services.scheduling.agenda import (
            DAY_COLUMNS_A_PAGE,
            THERAPISTS_A_PAGE,
            AgendaFilter,
            Span,
            agenda,
            listed_page,
            period_of,
            wide_practice,
        )

        period = period_of(Span(span), clinic_time.today())
        sites = site_filter_choices(session)
        rows = bool(wide_practice(session))
        filters = AgendaFilter(site_id=sites[0][0]) if sites and rows else AgendaFilter()
        site = BOOK_WEEK_SITE if filters.site_id else ""
        shown_sql = sa.text(BOOK_WEEK_SQL.format(site=site, page=BOOK_WEEK_PAGE if rows else ""))
        home = "AND t.site_id = :site" if filters.site_id else ""
        listed_sql = sa.text(BOOK_WEEK_ROWS_SQL.format(site=site, home=home))
        params = {
            "zone": clinic_time.clinic_zone().key,
            "start": clinic_time.day_start(period.first_day),
            "end": clinic_time.day_start(period.last_day + dt.timedelta(days=1)),
            "limit": DAY_COLUMNS_A_PAGE if span == Span.DAY else THERAPISTS_A_PAGE,
            **({"site": filters.site_id} if filters.site_id else {}),
        }

        def bare():
            session.execute(sa.text(BOOK_WEEK_CHOICES_SQL)).one()
            therapists = session.execute(listed_sql, params).all() if rows else []
            ids = [row.id for row in therapists]
            appointments = session.execute(shown_sql, {**params, "therapists": ids}).all()
            session.execute(sa.text(BOOK_PARTICIPANTS_SQL), {"ids": [row.id for row in appointments]}).all()
            if span == Span.DAY:
                session.execute(sa.text(BOOK_DAY_COLUMNS_SQL), {"ids": ids}).all()
            return therapists, appointments

        therapists, appointments = bare()
        days: dict[tuple[int | None, dt.date], list[int]] = {}
        for row in appointments:
            days.setdefault((row.therapist_id if rows else None, row.day), []).append(row.id)
        page = listed_page(session, period=period, filters=filters, offset=0, limit=params["limit"])
        listed = [id_ for id_, _name in page] if rows else None
        shown: dict[tuple[int | None, dt.date], list[int]] = {}
        for day, entries in agenda(session, period=period, filters=filters, therapist_ids=listed).items():
            for entry in entries:
                shown.setdefault((entry.therapist_id if rows else None, day), []).append(entry.id)
        session.rollback()
        order = listed is None or listed == [row.id for row in therapists]
        differ = sum(1 for key in days.keys() | shown.keys() if days.get(key) != shown.get(key))
        if differ or not order:
            therapists_differ = "" if order else ", the therapists differ"
            return bare, f"MISMATCH: {differ} of {len(shown)} days differ{therapists_differ}"
        checked = f"{len(appointments)} appointments checked"
        return bare, checked + (
            f" for a page of {len(therapists)} of {therapists[0].listed} therapists" if therapists else ""
        )

    return book


# An invoice's page (views/billing/invoices.py `_page`) shows, beside its header, every line with its
# client and therapist, the lines' totals, where the invoice stands (the allocations through the
# lines that hold their charge) and the credit note that voided it: INVOICE_LINES_SQL and
# INVOICE_STANDING_SQL. The busiest invoice holds a payer's month, a thousand lines and more.
INVOICE_LINES_SQL = """
SELECT l.id, l.date_of_service, c.full_name AS client, t.full_name AS therapist, l.description, l.amount,
       l.adjustment_reason, l.tax, l.tax_rate,
       sum(round(l.amount * 100)) OVER () AS amount_cents, sum(round(l.tax * 100)) OVER () AS tax_cents
FROM invoice_line l JOIN client c ON c.id = l.client_id JOIN therapist t ON t.id = l.therapist_id
WHERE l.invoice_id = :id
ORDER BY l.date_of_service, l.id
"""
INVOICE_STANDING_SQL = """
SELECT coalesce(sum(round(a.amount * 100)) FILTER (
         WHERE a.kind = 'paid' AND (i.payer_id IS NULL OR p.payer_id IS NOT NULL)), 0) AS paid,
       coalesce(sum(round(a.amount * 100)) FILTER (WHERE a.kind = 'written_off'), 0) AS written_off,
       coalesce(sum(round(a.amount * 100)) FILTER (WHERE a.kind = 'moved_to_client'), 0) AS moved,
       (SELECT count(*) FROM invoice_sending s WHERE s.invoice_id = :id) AS sendings,
       (SELECT min(number) FROM invoice WHERE credits_id = :id) AS credit_note
FROM invoice i
LEFT JOIN invoice_line l ON l.invoice_id = i.id AND l.holds AND i.status = 'issued'
LEFT JOIN allocation a ON a.participant_id = l.participant_id
LEFT JOIN payment p ON p.id = a.payment_id
WHERE i.id = :id
"""


def invoice_details(session, invoice_id: int, header: Callable[[], object]) -> tuple[Callable[[], object], str]:
    """The invoice's page: `header` (the generic SQL of its details columns), its lines and where it
    stands, checked line by line and figure by figure against what the page reads."""
    from decimal import Decimal

    from admin_app.models import InvoiceLine
    from admin_app.services.billing import ledger
    from admin_app.services.billing.invoice_figures import invoice_figures

    params = {"id": invoice_id}

    def bare():
        header()
        lines = session.execute(sa.text(INVOICE_LINES_SQL), params).all()
        return lines, session.execute(sa.text(INVOICE_STANDING_SQL), params).one()

    lines, standing = bare()
    shown = session.scalars(
        sa.select(InvoiceLine.id)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.date_of_service, InvoiceLine.id)
    ).all()
    figures = invoice_figures(session, [invoice_id])[invoice_id]
    stands = ledger.invoice_figures(session, [invoice_id])[invoice_id]
    session.rollback()
    cents = (lines[0].amount_cents, lines[0].tax_cents) if lines else (0, 0)
    same = (
        [line.id for line in lines] == list(shown)
        and [Decimal(value) / 100 for value in cents] == [figures.amount, figures.tax]
        and [Decimal(value) / 100 for value in (standing.paid, standing.written_off, standing.moved)]
        == [stands.paid, stands.written_off, stands.moved]
        and standing.sendings == figures.sendings
    )
    checked = f"{len(lines)} lines and the invoice's standing checked"
    return bare, checked if same else "MISMATCH: the lines, their totals or the invoice's standing differ"


# A client's page (views/people/records.py `render`, services/people/summary.py `client_summary`) shows,
# beside the record, its next appointments and its history (the first of each, and how many), its payment
# sources, its authorizations with their counts, its links, its Bad Fit entries and its messages.
CLIENT_APPOINTMENTS_SQL = """
SELECT a.id, a.starts_at, a.ends_at, t.full_name AS therapist, a.kind, a.modality, r.name AS room, s.name AS site,
       a.status, p.attendance, p.fee, p.currency, CASE WHEN p.billed_to = 'payer' THEN py.name END AS payer,
       count(*) OVER () AS total
FROM participant p JOIN appointment a ON a.id = p.appointment_id JOIN therapist t ON t.id = a.therapist_id
LEFT JOIN room r ON r.id = a.room_id LEFT JOIN site s ON s.id = r.site_id LEFT JOIN payer py ON py.id = p.payer_id
WHERE p.client_id = :id AND {when}
ORDER BY {order}
LIMIT :limit
"""
CLIENT_NEXT = {
    "when": "a.starts_at >= :now AND a.status <> 'cancelled' AND p.attendance = 'expected'",
    "order": "a.starts_at, a.id",
}
CLIENT_HISTORY = {"when": "a.starts_at < :now", "order": "a.starts_at DESC, a.id DESC"}
CLIENT_SECTIONS_SQL = (
    """
SELECT ps.payer_id, py.name, ps.member_number, ps.policy_number, ps.active, py.active
FROM payment_source ps LEFT JOIN payer py ON py.id = ps.payer_id
WHERE ps.client_id = :id ORDER BY ps.active DESC, ps.id
""",
    """
SELECT a.id, py.name, a.reference, a.approved_sessions, a.valid_from, a.valid_until, a.extension_requested_at,
       a.closed_at, k.scheduled, k.attended + CASE WHEN py.counts_missed_sessions THEN k.missed ELSE 0 END AS used,
       k.billed
FROM payer_authorization a JOIN payer py ON py.id = a.payer_id
CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE p.attendance = 'expected') AS scheduled,
         count(*) FILTER (WHERE p.attendance = 'attended') AS attended,
         count(*) FILTER (WHERE p.attendance IN ('late_cancelled', 'no_show')) AS missed,
         count(*) FILTER (WHERE EXISTS (SELECT 1 FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
                                        WHERE l.participant_id = p.id AND l.holds AND i.status = 'issued')) AS billed
  FROM participant p WHERE p.authorization_id = a.id
) k
WHERE a.client_id = :id
ORDER BY a.valid_until, a.id
""",
    """
SELECT l.kind, l.client_id = :id AS mine, c.id, c.full_name, c.client_number
FROM client_link l JOIN client c ON c.id = CASE WHEN l.client_id = :id THEN l.related_client_id ELSE l.client_id END
WHERE l.client_id = :id OR l.related_client_id = :id
ORDER BY c.full_name, c.id, l.kind
""",
    """
SELECT b.*, t.full_name, u.email FROM bad_fit_entry b
JOIN therapist t ON t.id = b.therapist_id LEFT JOIN app_user u ON u.id = b.resolved_by_id
WHERE b.client_id = :id
ORDER BY b.state <> 'open', b.on DESC, b.id DESC
""",
    """
SELECT m.id, m.template, m.channel, m.recipient, m.status, m.created_at, m.sent_at, count(*) OVER () AS total
FROM outbound_message m WHERE m.client_id = :id
ORDER BY m.created_at DESC, m.id DESC
LIMIT :shown
""",
)


def client_details(session, client_id: int, header: Callable[[], object]) -> tuple[Callable[[], object], str]:
    """A client's page: `header` (the generic SQL of its details columns) and its summary's sections,
    checked section by section against `client_summary`."""
    from admin_app.models.base import utcnow
    from admin_app.services.people.summary import NEXT_SHOWN, SHOWN, client_summary

    now = utcnow()
    params = {"id": client_id, "now": now, "shown": SHOWN}
    coming = sa.text(CLIENT_APPOINTMENTS_SQL.format(**CLIENT_NEXT))
    past = sa.text(CLIENT_APPOINTMENTS_SQL.format(**CLIENT_HISTORY))
    sections = [sa.text(sql) for sql in CLIENT_SECTIONS_SQL]

    def bare():
        header()
        found = [
            session.execute(coming, {**params, "limit": NEXT_SHOWN}).all(),
            session.execute(past, {**params, "limit": SHOWN}).all(),
        ]
        return found + [session.execute(section, params).all() for section in sections]

    next_rows, history, sources, authorizations, links, bad_fit, messages = bare()
    summary = client_summary(session, client_id, now=now)
    session.rollback()

    def shown(rows) -> tuple[list[int], int]:
        return [row.id for row in rows], rows[0].total if rows else 0

    same = {
        "next appointments": shown(next_rows)
        == ([line.appointment_id for line in summary.next_appointments.rows], summary.next_appointments.total),
        "history": shown(history) == ([line.appointment_id for line in summary.history.rows], summary.history.total),
        "payment sources": len(sources) == len(summary.payment_sources),
        "authorizations": {(row.id, row.scheduled, row.used, row.billed) for row in authorizations}
        == {(row.id, row.counts.scheduled, row.counts.used, row.counts.billed) for row in summary.authorizations},
        "links": [row.id for row in links] == [line.client_id for line in summary.links],
        "Bad Fit": [row.id for row in bad_fit] == [entry.id for entry in summary.bad_fit],
        "messages": shown(messages) == ([line.id for line in summary.messages.rows], summary.messages.total),
    }
    differ = [name for name, ok in same.items() if not ok]
    if differ:
        return bare, f"MISMATCH: {', '.join(differ)} differ"
    return bare, f"{len(history)} of {shown(history)[1]} past appointments and the summary's sections checked"


# Details pages that show rows beyond their details columns, by their details URL: a function
# `(session, record_id, header) -> (bare, note)`, `header` being the generic SQL of the columns.
DETAILS: dict[str, Callable[..., tuple[Callable[[], object], str]]] = {
    "/admin/invoices/details/": invoice_details,
    "/admin/client/details/": client_details,
}


# A URL with a query string is a screen of its own (a view of a rule the bench also reads bare).
# List views that show figures of their own beyond their columns (the portal's My clients: each
# client's caseload line, its colour, authorization, unpaid sessions, last and next appointment),
# which the generic bare SQL of bench/screens.py does not read. run.py judges them against its
# hand-written SQL (PostgreSQL's); on SQLite they are judged, as the other screens without a bare
# SQL there, against their own statements replayed.
LISTS_WITH_FIGURES = ("/portal/clients/",)

BARE: dict[str, Callable[..., tuple[Callable[[], object], str]]] = {
    "/admin/billing/ageing/": ageing,
    # Its files hold the same rows: the SQL is the same, their making (workbook, PDF) is their own.
    "/admin/billing/ageing/ageing.pdf": ageing,
    "/admin/billing/ageing/ageing.xlsx": ageing,
    "/admin/billing/charges/": charges,
    "/admin/book/?view=month": book_month,
    "/admin/book/": book_period("week"),
    "/admin/book/?view=day": book_period("day"),
    "/admin/survey-results/": survey_results,
    "/admin/tasks/": tasks,
}
