"""How long the report figures take on a large practice, against the bare SQL of the same aggregates.

Loads the demo practice (default 200 therapists x 120 months) into a PostgreSQL schema of its own,
once, then times each figure several times in the same run and prints the fastest run's time (the
whole measurement is taken `--series` times, minutes apart, and each side keeps its fastest). The "bare SQL"
column is hand-written SQL for the same result, run through the same connection, so the ratio is
what the ORM, the Python around it (and for pages, the template) add to the database's own work.
Every figure is also checked against its bare SQL: a benchmark of a wrong answer is worth nothing.

    .venv/bin/python bench/run.py [--database-url URL] [--schema bench]
                                  [--therapists 200 --months 120] [--repeat 5] [--series 2]
                                  [--skip-load]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from screen_sql import HOME_STAFF_SQL, HOME_TASKS_SQL  # bench/screen_sql.py, next to this file
from stopwatch import best, elapsed_ms  # bench/stopwatch.py, next to this file

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_ADMIN = ("bench-admin@example.com", "bench-admin-password")
BENCH_THERAPIST_PASSWORD = "bench-therapist-password"

# The monthly table (services.stats.month_totals): sessions per therapist, then gross and
# commission (integer cents, half-up per participant line) per therapist and currency.
MONTH_SESSIONS_SQL = """
SELECT t.id, t.full_name, t.email, count(DISTINCT a.id)
FROM participant p
JOIN appointment a ON a.id = p.appointment_id
JOIN therapist t ON t.id = a.therapist_id
WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end
GROUP BY t.id, t.full_name, t.email
ORDER BY t.full_name, t.id
"""
# The compensation terms in force (services.people.compensation): each therapist's terms from their
# start (the first ones open to the past) until the next ones start.
TERMS_SQL = """
WITH terms AS (
  SELECT therapist_id, compensation_model, commission_percent, service_fee,
         CASE WHEN row_number() OVER w = 1 THEN NULL ELSE starts_at END AS starts_at,
         lead(starts_at) OVER w AS ends_at
  FROM compensation_terms
  WINDOW w AS (PARTITION BY therapist_id ORDER BY starts_at)
)
"""
TERMS_JOIN = """
LEFT JOIN terms k ON k.therapist_id = a.therapist_id
  AND (k.starts_at IS NULL OR k.starts_at <= a.starts_at) AND (k.ends_at IS NULL OR a.starts_at < k.ends_at)
"""
EARNED = """CASE WHEN k.compensation_model = 'commission'
            THEN (round(p.fee * 100)::int * round(k.commission_percent * 100)::int + 5000) / 10000
            ELSE round(p.fee * 100)::int - round(coalesce(k.service_fee, 0) * 100)::int END"""
MONTH_AMOUNTS_SQL = f"""{TERMS_SQL}
SELECT a.therapist_id, p.currency, sum(p.fee), sum({EARNED})
FROM participant p
JOIN appointment a ON a.id = p.appointment_id
{TERMS_JOIN}
WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end
GROUP BY a.therapist_id, p.currency
"""
# The year (services.stats.year_figures), as one would write it for PostgreSQL alone: the local
# month by date_trunc in the clinic's zone (the app buckets with a CASE on UTC bounds instead,
# which SQLite can run too).
# The year's attended participants read once (a CTE used twice, which PostgreSQL materializes): a row
# per month of its counts (currency NULL), and a row per month and currency of its gross.
YEAR_ATTENDED_SQL = """
WITH y AS (
  SELECT date_trunc('month', a.starts_at AT TIME ZONE :zone) AS month, a.id, a.modality, p.client_id, p.currency, p.fee
  FROM participant p JOIN appointment a ON a.id = p.appointment_id
  WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end
)
SELECT month, NULL AS currency, count(DISTINCT id), count(DISTINCT client_id),
       count(DISTINCT client_id) FILTER (WHERE modality = 'virtual'),
       count(DISTINCT client_id) FILTER (WHERE modality = 'on_site'), NULL AS gross
FROM y GROUP BY 1
UNION ALL
SELECT month, currency, NULL, NULL, NULL, NULL, sum(fee) FROM y GROUP BY 1, 2
"""
# A new client's first ever attended session (DESIGN.md): `client.first_attended_at`, which the
# database keeps (migration 0022), read by its index.
FIRSTS_SQL = """
SELECT id AS client_id, first_attended_at AS first_at
FROM client WHERE first_attended_at >= :start AND first_attended_at < :end
"""
# The same worked out from the participants, to check the kept column against the history (untimed):
# the period's attended clients, each kept when a lookup (participant by client, appointment by id)
# finds nothing attended before the period. LATERAL ... LIMIT 1 keeps that a per-client probe that
# stops at the first hit: NOT EXISTS lets the planner hash every earlier attended participant.
FIRSTS_FROM_HISTORY_SQL = """
SELECT seen.client_id, seen.first_at
FROM (SELECT p.client_id, min(a.starts_at) AS first_at
      FROM participant p JOIN appointment a ON a.id = p.appointment_id
      WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end
      GROUP BY p.client_id) AS seen
LEFT JOIN LATERAL (SELECT 1 AS found
                   FROM participant e JOIN appointment ea ON ea.id = e.appointment_id
                   WHERE e.client_id = seen.client_id AND e.attendance = 'attended' AND ea.starts_at < :start
                   LIMIT 1) AS earlier ON true
WHERE earlier.found IS NULL
"""
YEAR_NEW_SQL = """
SELECT date_trunc('month', first_at AT TIME ZONE :zone), count(*)
FROM ({firsts}) AS firsts
GROUP BY 1 ORDER BY 1
"""
# The new clients of a period (services.reports.summaries.new_clients): each with their first
# session's therapist (the first by name where two sessions start at that same instant).
NEW_CLIENTS_SQL = """
SELECT DISTINCT ON (firsts.first_at, c.full_name, c.id) c.full_name, firsts.first_at, t.full_name
FROM ({firsts}) AS firsts
JOIN client c ON c.id = firsts.client_id
JOIN participant p ON p.client_id = firsts.client_id AND p.attendance = 'attended'
JOIN appointment a ON a.id = p.appointment_id AND a.starts_at = firsts.first_at
JOIN therapist t ON t.id = a.therapist_id
ORDER BY firsts.first_at, c.full_name, c.id, t.full_name
"""
YEAR_NPS_SQL = """
SELECT i.month, count(i.id), count(r.id),
       coalesce(sum(CASE WHEN r.nps_score >= 9 THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN r.nps_score <= 6 THEN 1 ELSE 0 END), 0)
FROM survey_invitation i LEFT JOIN survey_response r ON r.invitation_id = i.id
WHERE i.month >= :first_month AND i.month <= :last_month
GROUP BY i.month
"""
# One therapist's month, line by line (services.stats.session_lines, the PDF's rows).
SESSION_LINES_SQL = f"""{TERMS_SQL}
SELECT a.id, a.starts_at, c.full_name, a.kind, a.modality, p.fee, p.currency, {EARNED}
FROM participant p
JOIN appointment a ON a.id = p.appointment_id
{TERMS_JOIN}
JOIN client c ON c.id = p.client_id
WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end AND a.therapist_id = :therapist
ORDER BY a.starts_at, a.id, c.full_name
"""
# The authorizations list (services.billing.authorizations.authorization_rows, what the Authorizations
# screen shows): each authorization with its client and payer, and its participants counted once,
# grouped before the join (missed sessions count as used where the payer says so; billed: held by a
# line of an issued invoice, a column of the screen).
AUTHORIZATIONS_SQL = """
WITH counted AS (
  SELECT p.authorization_id,
         count(*) FILTER (WHERE p.attendance = 'expected') AS scheduled,
         count(*) FILTER (WHERE p.attendance = 'attended') AS attended,
         count(*) FILTER (WHERE p.attendance IN ('late_cancelled', 'no_show')) AS missed,
         count(b.participant_id) AS billed
  FROM participant p
  LEFT JOIN (SELECT l.participant_id FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
             WHERE l.holds AND i.status = 'issued') b ON b.participant_id = p.id
  WHERE p.authorization_id IS NOT NULL
  GROUP BY p.authorization_id
)
SELECT a.id, py.name, c.full_name, c.client_number, c.national_id, a.reference, a.approved_sessions,
       a.valid_from, a.valid_until, a.extension_requested_at, a.closed_at,
       coalesce(k.scheduled, 0) AS scheduled,
       coalesce(k.attended, 0) + CASE WHEN py.counts_missed_sessions THEN coalesce(k.missed, 0) ELSE 0 END AS used,
       coalesce(k.billed, 0) AS billed
FROM payer_authorization a
JOIN payer py ON py.id = a.payer_id
JOIN client c ON c.id = a.client_id
LEFT JOIN counted k ON k.authorization_id = a.id
ORDER BY c.full_name, c.id, a.valid_until, a.id
"""

# The therapists tab (services.people.caseload.caseloads) in one statement: every care assignment with
# its client's active payment sources, the current authorization (the linking rule's pick for today
# among the default payer's, else the latest open one) with its counts, the low / extension-requested
# flags of all the client's authorizations, a self-paying client's unpaid sessions (charges billed to the client
# still open: the bench runs with MISSED_SESSION_FEE_PERCENT 0, so the attended ones), and the last and
# next appointment with that therapist.
CASELOAD_SQL = """
WITH counted AS (
  SELECT p.authorization_id,
         count(*) FILTER (WHERE p.attendance = 'expected') AS scheduled,
         count(*) FILTER (WHERE p.attendance = 'attended') AS attended,
         count(*) FILTER (WHERE p.attendance IN ('late_cancelled', 'no_show')) AS missed,
         count(b.participant_id) AS billed
  FROM participant p
  LEFT JOIN (SELECT l.participant_id FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id
             WHERE l.holds AND i.status = 'issued') b ON b.participant_id = p.id
  WHERE p.authorization_id IS NOT NULL{and_participants}
  GROUP BY p.authorization_id
), sources AS (
  SELECT ps.client_id, string_agg(py.name, ', ' ORDER BY ps.id) AS payers,
         bool_or(ps.payer_id IS NULL) AS self_pay_source,
         (array_agg(ps.payer_id ORDER BY ps.id) FILTER (WHERE py.active))[1] AS default_payer_id
  FROM payment_source ps LEFT JOIN payer py ON py.id = ps.payer_id
  WHERE ps.active{and_sources}
  GROUP BY ps.client_id
), auth AS (
  SELECT a.id, a.client_id, a.payer_id, a.approved_sessions AS approved, a.valid_from, a.valid_until,
         coalesce(k.scheduled, 0) AS scheduled,
         coalesce(k.attended, 0) + CASE WHEN py.counts_missed_sessions THEN coalesce(k.missed, 0) ELSE 0 END AS used,
         coalesce(k.billed, 0) AS billed, a.closed_at IS NULL AS open, a.extension_requested_at IS NOT NULL AS extension
  FROM payer_authorization a JOIN payer py ON py.id = a.payer_id LEFT JOIN counted k ON k.authorization_id = a.id
  WHERE true{and_authorizations}
), flagged AS (
  SELECT client_id,
         bool_or(open AND :today <= valid_until AND NOT extension AND used < approved
                 AND (approved - used - scheduled <= :low OR valid_until - :today <= :days)) AS low,
         bool_or(open AND :today <= valid_until AND extension) AS extension
  FROM auth GROUP BY client_id
), current AS (
  SELECT DISTINCT ON (a.client_id) a.*
  FROM auth a LEFT JOIN sources s ON s.client_id = a.client_id
  CROSS JOIN LATERAL (SELECT coalesce(a.payer_id = s.default_payer_id
                                      AND :today BETWEEN a.valid_from AND a.valid_until, false) AS covers) c
  WHERE a.open
  ORDER BY a.client_id, (c.covers AND a.approved - a.used - a.scheduled > 0) DESC, c.covers DESC,
           CASE WHEN c.covers THEN a.valid_until END, CASE WHEN c.covers THEN a.id END, a.valid_until DESC, a.id DESC
), unpaid AS (
  SELECT p.client_id, count(*) AS sessions
  FROM participant p
  LEFT JOIN invoice_line l ON l.participant_id = p.id AND l.holds
  LEFT JOIN invoice i ON i.id = l.invoice_id
  LEFT JOIN (SELECT participant_id, sum(round(amount * 100)) FILTER (WHERE kind IN ('paid', 'written_off')) AS settled
             FROM allocation GROUP BY participant_id) al ON al.participant_id = p.id
  WHERE p.attendance = 'attended' AND p.billed_to = 'client'{and_participants}
    AND CASE WHEN i.status = 'issued' THEN round(l.amount * 100) + round(l.tax * 100) ELSE round(p.fee * 100) END
        - coalesce(al.settled, 0) > 0
  GROUP BY p.client_id
), seen AS (
  SELECT a.therapist_id, p.client_id,
         max(a.starts_at) FILTER (WHERE a.starts_at < :now AND a.status <> 'cancelled'
                                  AND p.attendance <> 'cancelled') AS last,
         min(a.starts_at) FILTER (WHERE a.starts_at >= :now AND a.status <> 'cancelled'
                                  AND p.attendance = 'expected') AS next
  FROM participant p JOIN appointment a ON a.id = p.appointment_id
  WHERE true{and_participants}
  GROUP BY a.therapist_id, p.client_id
)
SELECT t.id AS therapist_id, t.full_name, t.active, ca.kind, ca.active AS assignment_active, ca.deactivated_on,
       c.id AS client_id, c.full_name AS client, c.client_number, c.active AS client_active, s.payers,
       coalesce(s.self_pay_source, false) OR s.payers IS NULL AS self_pay,
       cur.id AS authorization_id, cur.approved, cur.used, cur.billed,
       cur.approved - cur.used - cur.scheduled AS remaining, cur.valid_until,
       CASE WHEN coalesce(s.self_pay_source, false) OR s.payers IS NULL THEN coalesce(u.sessions, 0) ELSE 0 END
         AS unpaid, w.last, w.next,
       CASE WHEN f.low OR ((coalesce(s.self_pay_source, false) OR s.payers IS NULL) AND coalesce(u.sessions, 0) > 1)
            THEN 'red' WHEN f.extension THEN 'pink' ELSE 'none' END AS colour
FROM therapist t
LEFT JOIN care_assignment ca ON ca.therapist_id = t.id
LEFT JOIN client c ON c.id = ca.client_id
LEFT JOIN sources s ON s.client_id = c.id
LEFT JOIN current cur ON cur.client_id = c.id
LEFT JOIN flagged f ON f.client_id = c.id
LEFT JOIN unpaid u ON u.client_id = c.id
LEFT JOIN seen w ON w.therapist_id = t.id AND w.client_id = c.id
WHERE true{and_therapists}
ORDER BY t.full_name, t.id, c.full_name, c.id
"""

# CASELOAD_SQL for every therapist, or narrowed to some (`:ids`, a page of them): each part reads only their clients.
PAGE_CLIENTS = "(SELECT client_id FROM care_assignment WHERE therapist_id = ANY(:ids))"
CASELOAD_EVERY = {"and_participants": "", "and_sources": "", "and_authorizations": "", "and_therapists": ""}
CASELOAD_PAGE = {
    "and_participants": f" AND p.client_id IN {PAGE_CLIENTS}",
    "and_sources": f" AND ps.client_id IN {PAGE_CLIENTS}",
    "and_authorizations": f" AND a.client_id IN {PAGE_CLIENTS}",
    "and_therapists": " AND t.id = ANY(:ids)",
}

# The portal's My clients (its first page): one therapist's clients in care now, by name, the page's
# count, and CASELOAD_SQL narrowed to that therapist and those clients.
PORTAL_PAGE_SQL = """
SELECT c.id FROM client c
WHERE c.id IN (SELECT client_id FROM care_assignment WHERE therapist_id = :therapist AND active)
ORDER BY c.full_name, c.id LIMIT :size
"""
PORTAL_COUNT_SQL = "SELECT count(*) FROM care_assignment WHERE therapist_id = :therapist AND active"
CASELOAD_CLIENTS = {
    "and_participants": " AND p.client_id = ANY(:clients)",
    "and_sources": " AND ps.client_id = ANY(:clients)",
    "and_authorizations": " AND a.client_id = ANY(:clients)",
    "and_therapists": " AND t.id = :therapist AND c.id = ANY(:clients)",
}
# The therapist with the most clients in care now (an active therapist, active assignments).
BUSIEST_CARE_SQL = """
SELECT t.id, t.email FROM care_assignment ca JOIN therapist t ON t.id = ca.therapist_id
WHERE ca.active AND t.active GROUP BY t.id, t.email ORDER BY count(*) DESC, t.id LIMIT 1
"""
# The portal is timed for a therapist with this many clients in care (issue 18): the busiest one is
# given indirect care of the oldest other clients (each with their ten years of history) for the
# time of the portal's figures, and the assignments are removed after.
PORTAL_CARE_CLIENTS = 300
GROW_CARE_SQL = """
INSERT INTO care_assignment (client_id, therapist_id, kind, active)
SELECT c.id, :therapist, 'indirect', true FROM client c
WHERE NOT EXISTS (SELECT 1 FROM care_assignment ca WHERE ca.client_id = c.id AND ca.therapist_id = :therapist)
ORDER BY c.id
LIMIT :missing
RETURNING id
"""

# The invoice run (services.billing.invoice_run) as bare SQL: the attended participants up to the
# end of the month that no invoice line holds (the bench runs with MISSED_SESSION_FEE_PERCENT 0, so
# these are the charges), one draft per bill-to and currency (the payer alone where it invoices per
# period), dated the day after `period_end`, then a line per charge, each an INSERT ... SELECT.
# `period_end` is the run's last day, or each charge's local month end for the history loaded
# before timing (`invoice_history`). The charges go to a temporary table, analysed, and the lines
# join it to the drafts by hash: the drafts were made in the same transaction and have no statistics
# yet, so the planner would otherwise loop over both (seconds at full size).
CHARGES_SQL = """
CREATE TEMPORARY TABLE bench_charges ON COMMIT DROP AS
SELECT p.id AS participant_id, p.client_id, a.therapist_id, a.kind, p.fee, p.currency,
       (a.starts_at AT TIME ZONE :zone)::date AS day,
       round(extract(epoch FROM a.ends_at - a.starts_at) / 60) AS minutes,
       CASE WHEN p.billed_to = 'payer' THEN p.payer_id END AS payer_id,
       CASE WHEN p.billed_to = 'payer' THEN p.authorization_id END AS authorization_id,
       CASE WHEN py.invoice_grouping = 'per_period' THEN NULL ELSE p.client_id END AS group_client_id,
       coalesce(py.tax_rate, 0) AS tax_rate,
       {period_end} AS period_end
FROM participant p
JOIN appointment a ON a.id = p.appointment_id
LEFT JOIN payer py ON py.id = p.payer_id AND p.billed_to = 'payer'
WHERE p.attendance = 'attended' AND a.starts_at < :end
  AND NOT EXISTS (SELECT 1 FROM invoice_line l WHERE l.participant_id = p.id AND l.holds)
"""
RUN_ROW_SQL = "INSERT INTO invoice_run (through, self_pay, created_at) VALUES (:through, false, now()) RETURNING id"
DRAFTS_SQL = """
INSERT INTO invoice (kind, status, payer_id, client_id, currency, invoice_date, period_start, period_end, run_id,
                     created_at)
SELECT 'invoice', 'draft', payer_id, group_client_id, currency, period_end + 1, min(day), period_end, :run_id, now()
FROM bench_charges
GROUP BY payer_id, group_client_id, currency, period_end
"""
LINES_SQL = """
INSERT INTO invoice_line (invoice_id, participant_id, holds, date_of_service, therapist_id, client_id, authorization_id,
                          description, charge_amount, amount, tax_rate, tax)
SELECT i.id, c.participant_id, true, c.day, c.therapist_id, c.client_id, c.authorization_id,
       initcap(c.kind) || ' therapy session, ' || c.minutes || ' min', c.fee, c.fee, c.tax_rate,
       round(c.fee * c.tax_rate / 100, 2)
FROM bench_charges c
JOIN invoice i ON i.run_id = :run_id AND coalesce(i.payer_id, 0) = coalesce(c.payer_id, 0)
  AND coalesce(i.client_id, 0) = coalesce(c.group_client_id, 0) AND i.currency = c.currency
  AND i.period_end = c.period_end
"""
MONTH_END = "(date_trunc('month', a.starts_at AT TIME ZONE :zone) + interval '1 month' - interval '1 day')::date"
# Issuing (services.billing.issuing.issue) as bare SQL: every draft numbered in its series (the
# payer's prefix or the practice's), the counters moved by as many, in one statement.
ISSUE_SQL = """
WITH numbered AS (
  SELECT i.id, coalesce('invoice:' || py.invoice_prefix, 'invoice') AS series,
         coalesce(py.invoice_prefix, :prefix) AS prefix,
         row_number() OVER (PARTITION BY py.invoice_prefix ORDER BY i.id) AS n,
         count(*) OVER (PARTITION BY py.invoice_prefix) AS taken
  FROM invoice i LEFT JOIN payer py ON py.id = i.payer_id
  WHERE i.status = 'draft'
), counters AS (
  INSERT INTO number_counter (series, last_value)
  SELECT series, count(*) FROM numbered GROUP BY series
  ON CONFLICT (series) DO UPDATE SET last_value = number_counter.last_value + excluded.last_value
  RETURNING series, last_value
)
UPDATE invoice i
SET status = 'issued', series = n.series, number = n.prefix || lpad((k.last_value - n.taken + n.n)::text, 6, '0'),
    issued_at = now()
FROM numbered n JOIN counters k ON k.series = n.series
WHERE i.id = n.id
"""
# The audit events of a write (DESIGN.md: every change is audited), one per record as the service
# records them: who, when, what, the fields changed and a SHA-256 of them. The service chains each
# hash to the one before, which no set statement does well (a recursive CTE over 3,000 rows took
# 8 s); here each row's hash covers the same fields without the one before: the same rows and bytes.
AUDIT_SQL = """
INSERT INTO audit_event (occurred_at, actor_user_id, actor, action, entity, entity_id, changed_fields, chain_hash)
SELECT now(), NULL, 'bench', e.action, e.entity, r.id, e.fields,
       encode(sha256(convert_to(json_build_array(now(), 'bench', e.action, e.entity, r.id, e.fields, NULL)::text,
                                'UTF8')), 'hex')
FROM ({ids}) r CROSS JOIN (SELECT CAST(:action AS varchar) AS action, CAST(:entity AS varchar) AS entity,
                                  CAST(:fields AS json) AS fields) e
ORDER BY r.id
"""
RUN_AUDITS = (
    ("invoice_run", "SELECT CAST(:run_id AS integer) AS id"),
    ("invoice", "SELECT id FROM invoice WHERE run_id = :run_id"),
    ("invoice_line", "SELECT l.id FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id WHERE i.run_id = :run_id"),
)
ISSUE_AUDIT = "SELECT id FROM invoice WHERE run_id = (SELECT max(id) FROM invoice_run)"
PAYOUT_AUDITS = (
    ("payout_run", "SELECT id FROM payout_run WHERE month = :month"),
    ("payout_statement", "SELECT id FROM payout_statement WHERE month = :month"),
)  # a statement's lines are part of it: the service records the statements


def bare_audit(session, action: str, entity: str, ids_sql: str, params: dict, fields: tuple[str, ...] = ()) -> None:
    """Record `action` on each `entity` whose id `ids_sql` selects, as AUDIT_SQL."""
    session.execute(
        sa.text(AUDIT_SQL.format(ids=ids_sql)),
        {**params, "action": action, "entity": entity, "fields": json.dumps(list(fields))},
    )


# What a run made, to check the service against the bare SQL: per invoice, its bill-to, lines and total.
ISSUED_NUMBERS_SQL = "SELECT number FROM invoice WHERE run_id = (SELECT max(id) FROM invoice_run) ORDER BY number"
RUN_FINGERPRINT_SQL = """
SELECT i.payer_id, i.client_id, i.currency, i.invoice_date, i.status, count(l.id), sum(l.amount), sum(l.tax)
FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id
WHERE i.run_id = (SELECT max(id) FROM invoice_run)
GROUP BY i.id, i.payer_id, i.client_id, i.currency, i.invoice_date, i.status
ORDER BY i.payer_id NULLS FIRST, i.client_id NULLS FIRST, i.currency
"""


# The admin home (views.tasks.home): the open tasks not snoozed and the staff the assign lists offer
# (HOME_TASKS_SQL, HOME_STAFF_SQL: bench/screen_sql.py, which the tasks page shares), the day's counts,
# and the open Bad Fit entries with their client and therapist.
HOME_COUNTS_SQL = """
SELECT (SELECT count(*) FROM appointment WHERE starts_at >= :start AND starts_at < :end AND status <> 'cancelled'),
       (SELECT count(*) FROM outbound_message WHERE status IN ('queued', 'held', 'failed')),
       (SELECT count(*) FROM invoice WHERE status = 'draft'),
       (SELECT count(*) FROM payout_statement WHERE status = 'draft'),
       (SELECT count(*) FROM bad_fit_entry WHERE state = 'open')
"""
HOME_BAD_FIT_SQL = """
SELECT e.id, c.full_name, th.full_name, e.reason, e.on
FROM bad_fit_entry e JOIN client c ON c.id = e.client_id JOIN therapist th ON th.id = e.therapist_id
WHERE e.state = 'open'
ORDER BY e.on DESC, e.id DESC
LIMIT 20
"""

# The portal home (services.scheduling.portal_day) of one therapist: their clients in care now, the
# window's appointments (today on, and the past week's not cancelled with someone still expected) a
# row per participant, their clients' authorizations that are low, expiring or exhausted (counts
# grouped before the join, narrowed to those clients' running authorizations: neither closed,
# expired nor waiting for an extension, the only ones that can be), the messages about them that failed for good,
# and their open requests.
PORTAL_CARE_SQL = "SELECT client_id FROM care_assignment WHERE therapist_id = :therapist AND active"
PORTAL_APPOINTMENTS_SQL = """
SELECT a.id, a.starts_at, a.ends_at, a.kind, a.modality, a.status, a.video_link, r.name, s.name,
       p.id, p.attendance, c.id, c.full_name
FROM appointment a
LEFT JOIN room r ON r.id = a.room_id
LEFT JOIN site s ON s.id = r.site_id
LEFT JOIN participant p ON p.appointment_id = a.id
LEFT JOIN client c ON c.id = p.client_id
WHERE a.therapist_id = :therapist AND a.starts_at >= :since AND a.starts_at < :until
  AND (a.starts_at >= :today_start
       OR (a.status <> 'cancelled'
           AND EXISTS (SELECT 1 FROM participant w WHERE w.appointment_id = a.id AND w.attendance = 'expected')))
ORDER BY a.starts_at, a.id, p.id
"""
PORTAL_ALERTS_SQL = """
WITH mine AS (
  SELECT client_id FROM care_assignment WHERE therapist_id = :therapist AND active
), running AS (
  SELECT id FROM payer_authorization
  WHERE client_id IN (SELECT client_id FROM mine)
    AND closed_at IS NULL AND valid_until >= :today AND extension_requested_at IS NULL
), counted AS (
  SELECT p.authorization_id,
         count(*) FILTER (WHERE p.attendance = 'expected') AS scheduled,
         count(*) FILTER (WHERE p.attendance = 'attended') AS attended,
         count(*) FILTER (WHERE p.attendance IN ('late_cancelled', 'no_show')) AS missed
  FROM participant p
  WHERE p.authorization_id IN (SELECT id FROM running)
  GROUP BY p.authorization_id
), figures AS (
  SELECT a.id, c.full_name, c.id AS client_id, py.name AS payer, a.reference, a.approved_sessions, a.valid_until,
         a.extension_requested_at, a.closed_at, coalesce(k.scheduled, 0) AS scheduled,
         coalesce(k.attended, 0) + CASE WHEN py.counts_missed_sessions THEN coalesce(k.missed, 0) ELSE 0 END AS used
  FROM payer_authorization a
  JOIN payer py ON py.id = a.payer_id
  JOIN client c ON c.id = a.client_id
  LEFT JOIN counted k ON k.authorization_id = a.id
  WHERE a.id IN (SELECT id FROM running)
)
SELECT * FROM figures
WHERE (used >= approved_sessions OR approved_sessions - used - scheduled <= :low OR valid_until - :today <= :days)
ORDER BY full_name, client_id, valid_until, id
"""
PORTAL_FAILED_SQL = """
SELECT m.id, m.client_id, c.full_name, m.channel, m.template, m.created_at
FROM outbound_message m JOIN client c ON c.id = m.client_id
WHERE m.status = 'failed' AND m.created_at >= :since
  AND m.client_id IN (SELECT client_id FROM care_assignment WHERE therapist_id = :therapist AND active)
ORDER BY m.created_at DESC, m.id DESC
LIMIT 20
"""
PORTAL_REQUESTS_SQL = """
SELECT r.id, r.client_id, c.full_name, r.action, r.reason, r.created_at
FROM client_request r JOIN client c ON c.id = r.client_id
WHERE r.therapist_id = :therapist AND r.status = 'open'
ORDER BY r.created_at, r.id
"""


# Room use (services.rooms.room_use) needs reservations, which the demo practice has none of: each
# therapist reserves their most used room on their two busiest local weekdays of the year, from the
# earliest local start to the latest local end of their appointments there that weekday; where two
# want the same room on the same weekday, the busier one has it (reservations of a room never overlap).
BENCH_RESERVATIONS_SQL = """
WITH onsite AS (
  SELECT a.therapist_id, a.room_id, extract(isodow FROM a.starts_at AT TIME ZONE :zone)::int AS weekday,
         count(*) AS sessions, min((a.starts_at AT TIME ZONE :zone)::time) AS starts_time,
         max((a.ends_at AT TIME ZONE :zone)::time) AS ends_time
  FROM appointment a
  WHERE a.modality = 'on_site' AND a.room_id IS NOT NULL AND a.starts_at >= :start AND a.starts_at < :end
  GROUP BY 1, 2, 3
), favourite AS (
  SELECT DISTINCT ON (therapist_id) therapist_id, room_id
  FROM (SELECT therapist_id, room_id, sum(sessions) AS sessions FROM onsite GROUP BY 1, 2) per_room
  ORDER BY therapist_id, sessions DESC, room_id
), ranked AS (
  SELECT o.*, row_number() OVER (PARTITION BY o.therapist_id ORDER BY o.sessions DESC, o.weekday) AS rank
  FROM onsite o JOIN favourite f USING (therapist_id, room_id)
  WHERE o.ends_time > o.starts_time
), claimed AS (
  SELECT DISTINCT ON (room_id, weekday) * FROM ranked WHERE rank <= 2
  ORDER BY room_id, weekday, sessions DESC, therapist_id
)
INSERT INTO room_reservation (room_id, therapist_id, weekday, starts_time, ends_time, valid_from, notes, created_at)
SELECT room_id, therapist_id, weekday, starts_time, ends_time, :valid_from, 'bench', now() FROM claimed
RETURNING id
"""
# The same figure written for PostgreSQL alone: the days by generate_series, a reservation's local
# times made instants by AT TIME ZONE, months by date_trunc, the overlap by a plain join.
ROOM_USE_SQL = """
WITH occurrence AS (
  SELECT r.room_id, r.therapist_id,
         CASE WHEN g.day <= CAST(:last AS timestamp) THEN to_char(g.day, 'YYYY-MM') END AS month,
         extract(epoch FROM r.ends_time - r.starts_time) AS reserved,
         (g.day + r.starts_time) AT TIME ZONE :zone AS starts, (g.day + r.ends_time) AT TIME ZONE :zone AS ends
  FROM room_reservation r
  JOIN generate_series(CAST(:first AS timestamp), CAST(:last AS timestamp) + interval '1 day', interval '1 day')
       AS g(day)
    ON extract(isodow FROM g.day) = r.weekday AND g.day >= r.valid_from
   AND (r.valid_until IS NULL OR g.day <= r.valid_until)
), appointment_outcome AS (
  SELECT a.id, a.therapist_id, a.room_id, a.starts_at, a.ends_at,
         CASE WHEN a.starts_at >= :start AND a.starts_at < :end
              THEN to_char(a.starts_at AT TIME ZONE :zone, 'YYYY-MM') END AS month,
         CASE WHEN bool_or(p.attendance = 'attended') THEN 'used'
              WHEN bool_or(p.attendance IN ('no_show', 'late_cancelled')) THEN 'no_show'
              WHEN a.status = 'cancelled' THEN 'cancelled' ELSE 'expected' END AS outcome
  FROM appointment a LEFT JOIN participant p ON p.appointment_id = a.id
  WHERE a.modality = 'on_site' AND a.room_id IS NOT NULL
    AND a.ends_at > :start AND a.starts_at > :start - interval '1 day' AND a.starts_at < :padded_end
  GROUP BY a.id
), overlap AS (
  SELECT o.room_id, o.therapist_id, o.month, ap.month AS start_month, ap.outcome,
         extract(epoch FROM least(o.ends, ap.ends_at) - greatest(o.starts, ap.starts_at)) AS seconds
  FROM occurrence o
  JOIN appointment_outcome ap ON ap.therapist_id = o.therapist_id AND ap.room_id = o.room_id
   AND ap.starts_at < o.ends AND ap.ends_at > o.starts
)
SELECT month, room_id, therapist_id, 'reserved', sum(reserved) FROM occurrence WHERE month IS NOT NULL GROUP BY 1, 2, 3
UNION ALL
SELECT month, room_id, therapist_id, outcome, sum(seconds) FROM overlap WHERE month IS NOT NULL GROUP BY 1, 2, 3, 4
UNION ALL
SELECT month, room_id, therapist_id, 'onsite_used', sum(extract(epoch FROM ends_at - starts_at))
FROM appointment_outcome WHERE month IS NOT NULL AND outcome = 'used' GROUP BY 1, 2, 3
UNION ALL
SELECT start_month, room_id, therapist_id, 'inside_used', sum(seconds)
FROM overlap WHERE start_month IS NOT NULL AND outcome = 'used' GROUP BY 1, 2, 3
"""


FIGURE_LIMIT = 1.3  # a figure or report: at most 1.3 x its bare SQL


@dataclasses.dataclass
class Result:
    """One line of the table. Its ratio is best / (empty + bare), or `ratio` when given (an
    export's memory); the line is over when the ratio exceeds `limit` (None: not judged)."""

    name: str
    best_ms: float | None = None
    bare_ms: float | None = None
    note: str = ""
    empty_ms: float | None = None
    limit: float | None = FIGURE_LIMIT
    ratio: float | None = None

    def measured_ratio(self) -> float | None:
        if self.ratio is not None:
            return self.ratio
        if self.best_ms is None or not self.bare_ms and not self.empty_ms:
            return None
        return self.best_ms / ((self.empty_ms or 0) + (self.bare_ms or 0))

    def over(self) -> bool:
        ratio = self.measured_ratio()
        return self.limit is not None and ratio is not None and ratio > self.limit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--schema", default="bench", help="PostgreSQL schema to create and use (default: bench)")
    parser.add_argument("--therapists", type=int, default=200)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="the demo's today, YYYY-MM-DD")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure, after one warm-up")
    parser.add_argument(
        "--series", type=int, default=2, help="whole measurements one after the other; each line takes its fastest"
    )
    parser.add_argument("--skip-load", action="store_true", help="never load; use what the schema holds")
    parser.add_argument("--load-only", action="store_true", help="load (and analyse), then stop: no figures")
    return parser.parse_args(argv)


def schema_url(base_url: str, schema: str) -> str:
    """The URL with the psycopg driver and search_path set to `schema`, which is created if missing; a
    SQLite URL as it is (the file is the schema)."""
    if sa.make_url(base_url).get_backend_name() == "sqlite":
        return base_url
    url = sa.make_url(base_url).set(drivername="postgresql+psycopg")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def empty_url(base_url: str, schema: str) -> str:
    """The empty practice's database (bench/screens.py): the schema `<schema>_empty` (PostgreSQL), or
    the file `<name>_empty.<suffix>` beside the bench's (SQLite)."""
    url = sa.make_url(base_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        return url.set(database=str(path.with_stem(f"{path.stem}_empty"))).render_as_string(hide_password=False)
    return schema_url(base_url, f"{schema}_empty")


def is_postgresql(url: str) -> bool:
    return sa.make_url(url).get_backend_name() == "postgresql"


def make_bench_app(url: str):
    # Settings come from the environment first: give them the bench database and a key, so
    # nothing is read from (or written to) instance/.
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    from admin_app import create_app

    # The bench signs in a dozen times a run (each page's figure, every screen, on two practices):
    # past the sign-in limits a page would be skipped as "login failed".
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "MAIL_SUPPRESS_SEND": True,
            "SIGN_IN_LIMIT_PER_ADDRESS": "10000 per hour",
            "SIGN_IN_LIMIT_PER_ACCOUNT": "10000 per hour",
        }
    )


def prepare(app, args: argparse.Namespace) -> None:
    from flask import g
    from flask_migrate import upgrade

    from admin_app import demo
    from admin_app.extensions import db
    from admin_app.models import Appointment, User
    from admin_app.services.accounts import logins

    upgrade(directory=str(ROOT / "migrations"))
    g.audit_actor = "bench"
    if db.session.scalar(sa.select(sa.func.count(Appointment.id))):
        print("Data already loaded: skipping the load.")
    elif args.skip_load:
        print("--skip-load given and the schema is empty: the figures will be of nothing.")
    else:
        print(f"Loading the demo practice: {args.therapists} therapists x {args.months} months ...", flush=True)
        started = time.perf_counter()
        # Uninvoiced: the invoice run is timed on them (the months before the timed one are invoiced first).
        # Clients come and go, and years of reminders, surveys and audit trail are there (demo.activity).
        summary = demo.load_demo_practice(
            db.session,
            practice=demo.LIMA_TURNOVER,
            therapists=args.therapists,
            months=args.months,
            today=args.today,
            invoices=False,
            activity=True,
        )
        db.session.commit()
        print(f"  {summary.outcome} in {time.perf_counter() - started:.1f} s")
        # The months before the timed one invoiced and paid, so that every run finds them, the first included.
        today = bench_today(args)
        history = invoice_history if is_postgresql(args.database_url) else service_history
        history(db.session, timed_month(today), today)
        started = time.perf_counter()
        vacuum_analyze(db.engine)
        print(f"  VACUUM (ANALYZE) in {time.perf_counter() - started:.1f} s; rows per table:")
        for table, rows in row_counts(db.engine).items():
            print(f"    {table:32} {rows:>10,}")
    if not db.session.scalar(sa.select(User.id).where(User.email == BENCH_ADMIN[0])):
        logins.create_admin(db.session, email=BENCH_ADMIN[0], password=BENCH_ADMIN[1], locale="en")
        db.session.commit()


def bench_today(args: argparse.Namespace) -> dt.date:
    """The day the figures are read on: `--today`, else the clinic's date now."""
    from admin_app.services.platform.clinic_time import clinic_zone

    return args.today or dt.datetime.now(clinic_zone()).date()


def timed_month(today: dt.date):
    """The month whose figures and invoice run are timed: the one before `today`'s."""
    from admin_app.services.platform.months import Month

    return Month.containing(today).previous()


def vacuum_analyze(engine) -> None:
    """After a bulk load: fresh planner statistics and visibility map (PostgreSQL), statistics (SQLite).
    VACUUM runs outside a transaction."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM (ANALYZE)" if connection.dialect.name == "postgresql" else "ANALYZE"))


def row_counts(engine) -> dict[str, int]:
    """Rows per table of the schema loaded, largest first."""
    from admin_app.models import Base

    with engine.connect() as connection:
        counts = {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def timed(func: Callable[[], object], repeat: int, session) -> tuple[float, object]:
    """The best milliseconds of `repeat` runs after one warm-up, each in a transaction of its own,
    and what the last returned."""
    return timed_together([func], repeat, session)[0]


def timed_together(funcs: list[Callable[[], object]], repeat: int, session) -> list[tuple[float, object]]:
    """`timed` for each function (a figure and its bare SQL), the functions taking turns run by run,
    so that a machine slowing down or speeding up weighs on each alike: timed one after the other, a
    figure and its bare SQL came out 40 % apart in one run and 3 % in the next on this shared machine."""
    results: list[object] = []
    for func in funcs:
        results.append(func())
        session.rollback()
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeat):
        for index, func in enumerate(funcs):
            ms, results[index] = elapsed_ms(func)
            times[index].append(ms)
            session.rollback()
    return [(best(side), result) for side, result in zip(times, results, strict=True)]


def run(app, args: argparse.Namespace) -> list[Result]:
    from admin_app.extensions import db
    from admin_app.services.platform.clinic_time import clinic_zone
    from admin_app.services.reports import figures as stats

    session = db.session
    zone = clinic_zone()
    today = bench_today(args)
    month = timed_month(today)
    start, end = month.utc_range()
    counts = {
        table: session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
        for table in ("therapist", "client", "appointment", "participant")
    }
    print(f"Rows: {counts}; month {month}, year {today.year}, zone {zone.key}, best of {args.repeat} a series")
    results: list[Result] = []

    def bare(sql: str, **params):
        return lambda: session.execute(sa.text(sql), params).all()

    def month_sql():
        return bare(MONTH_SESSIONS_SQL, start=start, end=end)(), bare(MONTH_AMOUNTS_SQL, start=start, end=end)()

    from admin_app.services.reports import summaries as reports

    (ms, totals), (report_ms, _), (bare_ms, (sessions_rows, amount_rows)) = timed_together(
        [lambda: stats.month_totals(session, month), lambda: reports.monthly_report(session, month), month_sql],
        args.repeat,
        session,
    )
    results.append(Result("stats.month_totals", ms, bare_ms, check_month(totals, sessions_rows, amount_rows)))
    results.append(Result("reports.monthly_report (JSON dict)", report_ms, bare_ms))

    y_start, y_end = stats.month_bounds(today.year)[0], stats.month_bounds(today.year)[12]

    def year_sql():
        window = {"zone": zone.key, "start": y_start, "end": y_end}
        attended = bare(YEAR_ATTENDED_SQL, **window)()
        return (
            [(month, *counts) for month, currency, *counts, _gross in attended if currency is None],
            [(month, currency, gross) for month, currency, *_counts, gross in attended if currency is not None],
            bare(YEAR_NEW_SQL.format(firsts=FIRSTS_SQL), **window)(),
            bare(YEAR_NPS_SQL, first_month=f"{today.year}-01", last_month=f"{today.year}-12")(),
        )

    (ms, months), (year_bare_ms, year_rows) = timed_together(
        [lambda: stats.year_figures(session, today.year), year_sql], args.repeat, session
    )
    window = {"zone": zone.key, "start": y_start, "end": y_end}
    from_history = bare(YEAR_NEW_SQL.format(firsts=FIRSTS_FROM_HISTORY_SQL), **window)()
    kept = "" if from_history == year_rows[2] else " MISMATCH (first_attended_at against the history)"
    results.append(Result("stats.year_figures", ms, year_bare_ms, check_year(months, *year_rows) + kept))
    new_clients = new_clients_result(session, args, month)
    results.append(new_clients)

    busiest = max(totals.therapists, key=lambda line: line.sessions, default=None)
    if busiest is None:
        results.append(Result("stats.session_lines", note="skipped: no session last month"))
    else:
        lines_bare = bare(SESSION_LINES_SQL, start=start, end=end, therapist=busiest.therapist_id)
        (ms, lines), (lines_bare_ms, rows) = timed_together(
            [lambda: stats.session_lines(session, month, busiest.therapist_id), lines_bare], args.repeat, session
        )
        note = f"{len(lines)} lines" + ("" if len(lines) == len(rows) else " MISMATCH")
        results.append(Result("stats.session_lines (busiest therapist)", ms, lines_bare_ms, note))
        results.append(pdf_result(app, session, args, month, busiest.therapist_id))

    results.append(authorizations_result(session, args, today))
    results.extend(room_use_results(app, session, args, today))
    results.extend(caseload_results(app, session, args, today))
    with portal_caseload(session, PORTAL_CARE_CLIENTS):
        results.append(portal_clients_result(app, session, args, today))
        results.append(portal_home_result(app, session, args))
    results.extend(invoicing_results(app, session, args, month, today))
    results.extend(payout_results(app, session, args, month))
    from payout_pdfs import payout_pdf_figure  # bench/payout_pdfs.py, next to this file

    results.append(Result(*payout_pdf_figure(app, session, args, month)))
    home_bare_ms, home_note = home_figures(session, args, today)
    days = f"from={month.first_day}&to={month.last_day}"
    pages = [
        ("GET /admin/reports/monthly/", f"/admin/reports/monthly/?month={month}", bare_ms, ""),
        ("GET /admin/statistics/", f"/admin/statistics/?year={today.year}", year_bare_ms, ""),
        ("GET /admin/reports/new-clients/", f"/admin/reports/new-clients/?{days}", new_clients.bare_ms, ""),
        ("GET /admin/reports/new-clients/csv", f"/admin/reports/new-clients/csv?{days}", new_clients.bare_ms, ""),
        ("GET /admin/ (the home: tasks, Bad Fit, summary)", "/admin/", home_bare_ms, home_note),
    ]
    results.extend(page_results(app, args, pages))
    return results


def home_figures(session, args, today: dt.date) -> tuple[float | None, str]:
    """The admin home's bare SQL (its best ms) and a note: what it holds, checked against the
    services the page reads (services.tasks.home and .work)."""
    try:
        home = importlib.import_module("admin_app.services.tasks.home")
        work = importlib.import_module("admin_app.services.tasks.work")
        shown = importlib.import_module("admin_app.views.tasks.home").HOME_LIMIT
    except (ImportError, AttributeError):
        return None, "skipped: no services.tasks.home"
    from admin_app.services.platform.clinic_time import day_start

    # The tasks and Bad Fit entries a running practice has: the periodic scan's, kept (it is idempotent).
    scan = importlib.import_module("admin_app.services.tasks.scan")
    scanned_at = time.perf_counter()
    scanned = scan.scan(session, today=today)
    session.commit()
    scan_ms = (time.perf_counter() - scanned_at) * 1000
    start, end = day_start(today), day_start(today + dt.timedelta(days=1))

    def bare():
        return (
            session.execute(sa.text(HOME_TASKS_SQL), {"today": today, "limit": shown + 1}).all(),
            session.execute(sa.text(HOME_STAFF_SQL)).all(),
            session.execute(sa.text(HOME_COUNTS_SQL), {"start": start, "end": end}).one(),
            session.execute(sa.text(HOME_BAD_FIT_SQL)).all(),
        )

    bare_ms, (tasks, staff, counts, bad_fit) = timed(bare, args.repeat, session)
    summary = home.home_summary(session, today=today)
    rows = work.task_rows(session, today=today, limit=shown + 1)
    same = (
        [row.id for row in rows] == [row[0] for row in tasks]
        and [(row.site_name, row.room_name, row.reservation_starts) for row in rows]
        == [(row[15], row[16], row[18]) for row in tasks]
        and work.staff_choices(session) == [tuple(row) for row in staff]
        and (
            summary.appointments_today,
            summary.unsent_messages,
            summary.invoice_drafts,
            summary.payouts_waiting,
            summary.bad_fit_open,
        )
        == tuple(counts)
        and [row.id for row in summary.bad_fit] == [row[0] for row in bad_fit]
    )
    session.rollback()
    note = (
        f"{min(len(tasks), shown)} open tasks shown, {len(staff)} staff, {counts[4]} open Bad Fit entries,"
        f" {counts[0]} appointments today;"
        f" the scan before it: {scan_ms:.0f} ms, {scanned.opened} opened"
    )
    return bare_ms, note + ("" if same else " MISMATCH")


def authorizations_result(session, args, today: dt.date) -> Result:
    name = "billing.authorization_rows (every authorization)"
    try:
        authorizations = importlib.import_module("admin_app.services.billing.authorizations")
    except ImportError:
        return Result(name, note="skipped: no services.billing.authorizations")
    (ms, rows), (bare_ms, bare_rows) = timed_together(
        [
            lambda: authorizations.authorization_rows(session, today=today),
            lambda: session.execute(sa.text(AUTHORIZATIONS_SQL)).all(),
        ],
        args.repeat,
        session,
    )
    same = [(row.id, row.counts.scheduled, row.counts.used, row.counts.billed) for row in rows] == [
        (row.id, row.scheduled, row.used, row.billed) for row in bare_rows
    ]
    statuses = Counter(row.status.value for row in rows)
    note = f"{len(rows)} authorizations ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})"
    return Result(name, ms, bare_ms, note + ("" if same else " MISMATCH"))


def caseload_results(app, session, args, today: dt.date) -> list[Result]:
    """The therapists tab: `people.caseloads` for every therapist, and its first page as a signed-in
    admin, each against `CASELOAD_SQL`; the service's rows are checked against it (client, current
    authorization and counts, unpaid sessions, last and next appointment, colour)."""
    names = ("people.caseloads (every therapist)", "GET /admin/caseloads/ (first page)")
    try:
        caseload = importlib.import_module("admin_app.services.people.caseload")
        caseload_view = importlib.import_module("admin_app.views.people.caseload")
    except ImportError:
        return [Result(name, note="skipped: no services.people.caseload") for name in names]
    now = dt.datetime.now(dt.UTC)
    params = {
        "today": today,
        "now": now,
        "low": app.config["AUTHORIZATION_LOW_SESSIONS"],
        "days": app.config["AUTHORIZATION_EXPIRY_DAYS"],
    }
    every_sql = sa.text(CASELOAD_SQL.format(**CASELOAD_EVERY))
    (ms, found), (bare_ms, rows) = timed_together(
        [lambda: caseload.caseloads(session, today=today, now=now), lambda: session.execute(every_sql, params).all()],
        args.repeat,
        session,
    )

    def figures(line):
        current = line.authorization
        counts = (
            (current.id, current.approved, current.counts.used, current.counts.billed, current.remaining)
            if current
            else (None,) * 5
        )
        return (line.client_id, *counts, line.unpaid_sessions, line.colour.value)

    shown = [
        (each.therapist_id, *figures(line), line.last_appointment, line.next_appointment)
        for each in found
        for line in each.clients
    ]
    bare = [
        (
            row.therapist_id,
            row.client_id,
            row.authorization_id,
            row.approved,
            row.used,
            row.billed,
            row.remaining,
            row.unpaid,
            row.colour,
            row.last,
            row.next,
        )
        for row in rows
        if row.client_id is not None
    ]
    colours = Counter(line.colour.value for each in found for line in each.clients)
    note = (
        f"{len(found)} therapists, {len(shown)} clients ({', '.join(f'{n} {c}' for c, n in sorted(colours.items()))})"
    )
    results = [Result(names[0], ms, bare_ms, note + ("" if shown == bare else " MISMATCH"))]
    # An app context of its own: the bench's holds `g` (and Flask-Login's user) of earlier pages.
    with app.app_context():
        client = app.test_client()
        login = client.post("/login", data={"email": BENCH_ADMIN[0], "password": BENCH_ADMIN[1]})
        if login.status_code != 302:
            return [*results, Result(names[1], note=f"skipped: login answered {login.status_code}")]
        first = client.get("/admin/caseloads/")
        if first.status_code != 200:
            return [*results, Result(names[1], note=f"skipped: {first.status_code}")]
        times = []
        for _ in range(args.repeat):
            ms, response = elapsed_ms(lambda: client.get("/admin/caseloads/"))
            assert response.status_code == 200
            times.append(ms)
    page_ids = [each.therapist_id for each in found][: caseload_view.PER_PAGE]  # the first page: by name
    page_sql = sa.text(CASELOAD_SQL.format(**CASELOAD_PAGE))
    page_bare_ms, page_rows = timed(
        lambda: session.execute(page_sql, {**params, "ids": page_ids}).all(), args.repeat, session
    )
    page_note = f"{len(first.data) // 1024} KiB, {len(page_ids)} therapists, {len(page_rows)} rows"
    results.append(Result(names[1], best(times), page_bare_ms, page_note))
    return results


@contextlib.contextmanager
def bench_reservations(session, zone, months):
    """Reservations for the room use figure (BENCH_RESERVATIONS_SQL), committed while the block runs,
    deleted after; yields how many."""
    start, end = months[0].utc_range(zone)[0], months[-1].utc_range(zone)[1]
    params = {"zone": zone.key, "start": start, "end": end, "valid_from": months[0].first_day}
    added = list(session.execute(sa.text(BENCH_RESERVATIONS_SQL), params).scalars())
    session.execute(sa.text("ANALYZE room_reservation"))
    session.commit()
    try:
        yield len(added)
    finally:
        if added:
            session.execute(sa.text("DELETE FROM room_reservation WHERE id = ANY(:ids)"), {"ids": added})
            session.commit()


def room_use_results(app, session, args, today: dt.date) -> list[Result]:
    """`services.rooms.room_use` for the last 12 months (with the bench's reservations) against
    ROOM_USE_SQL, checked per month, room and therapist (reserved, booked, used, no-show,
    cancelled and unreserved hours); then the Room use screen of those months and its CSV and
    workbook against the same SQL (the screen also lists the reservations under the threshold over
    the last 8 weeks, a figure the bare SQL does not have)."""
    from admin_app.services.platform.clinic_time import clinic_zone

    name = "rooms.room_use (12 months)"
    try:
        room_use = importlib.import_module("admin_app.services.rooms.room_use")
    except ImportError:
        return [Result(name, note="skipped: no services.rooms.room_use")]
    zone = clinic_zone()
    last = timed_month(today)
    months = last.shift(-11).until(last)
    start, end = months[0].utc_range(zone)[0], months[-1].utc_range(zone)[1]
    params = {
        "zone": zone.key,
        "first": months[0].first_day,
        "last": months[-1].last_day,
        "start": start,
        "end": end,
        "padded_end": end + dt.timedelta(days=2),
    }
    with bench_reservations(session, zone, months) as count:
        (ms, use), (bare_ms, rows) = timed_together(
            [
                lambda: room_use.room_use(session, months[0], months[-1]),
                lambda: session.execute(sa.text(ROOM_USE_SQL), params).all(),
            ],
            args.repeat,
            session,
        )
        client = admin_client(app)
        # The screen and its two files, which hold the same figures.
        period = f"?from={months[0]}&to={months[-1]}"
        screens = [f"/admin/reports/room-use/{name}" for name in ("", "room-use.csv", "room-use.xlsx")]
        pages = [
            Result(f"GET {url} (12 months)", note=client)
            if isinstance(client, str)
            else page_result(client, args, f"GET {url} (12 months)", url + period, bare_ms, "")
            for url in screens
        ]
    seconds: dict[tuple, Counter] = defaultdict(Counter)
    for month, room_id, therapist_id, measure, value in rows:
        seconds[(month, room_id, therapist_id)][measure] += int(round(value or 0))

    def hours(value: int) -> Decimal:
        return (Decimal(value) / 3600).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")

    bare = {
        key: tuple(
            hours(value)
            for value in (
                tally["reserved"],
                tally["used"] + tally["no_show"] + tally["expected"],
                tally["used"],
                tally["no_show"],
                tally["cancelled"],
                tally["onsite_used"] - tally["inside_used"],
            )
        )
        for key, tally in seconds.items()
    }
    shown = {
        (str(month), line.room_id, line.therapist_id): (
            line.figures.reserved_hours,
            line.figures.booked_hours,
            line.figures.used_hours,
            line.figures.no_show_hours,
            line.figures.cancelled_hours,
            line.figures.unreserved_hours,
        )
        for month, table in use.months.items()
        for line in table.room_therapists
    }
    total = use.total.rooms
    reserved = sum(line.figures.reserved_hours for line in total)
    used = sum(line.figures.used_hours for line in total)
    note = f"{count} reservations, {reserved} h reserved, {used} h used"
    return [Result(name, ms, bare_ms, note + ("" if shown == bare else " MISMATCH")), *pages]


@contextlib.contextmanager
def portal_caseload(session, size: int):
    """The busiest therapist cares for `size` clients while the block runs (see PORTAL_CARE_CLIENTS)."""
    busiest = session.execute(sa.text(BUSIEST_CARE_SQL)).first()
    added: list[int] = []
    if busiest is not None:
        in_care = session.execute(
            sa.text("SELECT count(*) FROM care_assignment WHERE therapist_id = :t AND active"), {"t": busiest.id}
        ).scalar_one()
        params = {"therapist": busiest.id, "missing": max(size - in_care, 0)}
        added = list(session.execute(sa.text(GROW_CARE_SQL), params).scalars())
        session.execute(sa.text("ANALYZE care_assignment"))
        session.commit()
    try:
        yield
    finally:
        if added:
            session.execute(sa.text("DELETE FROM care_assignment WHERE id = ANY(:ids)"), {"ids": added})
            session.commit()


def portal_therapist(session):
    """The therapist with the most clients in care now, with a login whose password is the bench's
    (made once, or reset): whom the portal's figures sign in as."""
    from flask_security import hash_password

    from admin_app.models import Therapist
    from admin_app.services.accounts import logins

    busiest = session.execute(sa.text(BUSIEST_CARE_SQL)).first()
    if busiest is None:
        return None
    therapist = session.get(Therapist, busiest.id)
    if therapist.user is None:
        logins.therapist_login(session, therapist, password=BENCH_THERAPIST_PASSWORD, locale="en")
    else:
        therapist.user.password = hash_password(BENCH_THERAPIST_PASSWORD)
    session.commit()
    return therapist


def portal_client(app, email: str):
    """A test client signed in as `email` with the bench's therapist password; None when refused."""
    client = app.test_client()
    login = client.post("/login", data={"email": email, "password": BENCH_THERAPIST_PASSWORD})
    return client if login.status_code == 302 else None


def portal_clients_result(app, session, args, today: dt.date) -> Result:
    """The portal's My clients, first page, as the therapist with the most clients in care now (given
    a login with the bench's password), against its bare SQL: the page's clients, their count and
    their caseload lines (CASELOAD_SQL narrowed to them). The note gives the page's statement count
    (constant however many clients: services.people.caseload.therapist_clients) and checks the rows
    and colours against the SQL."""
    name = "GET /portal/clients/ (first page, busiest therapist)"
    try:
        importlib.import_module("admin_app.views.people.portal").MyClientsView.rows_loaded  # noqa: B018
    except (ImportError, AttributeError):
        return Result(name, note="skipped: no caseload lines in the portal's My clients")
    from admin_app.extensions import db

    therapist = portal_therapist(session)
    if therapist is None:
        return Result(name, note="skipped: no therapist has a client")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    # An app context of its own: the bench's holds `g` (and Flask-Login's user) of the admin's pages.
    with app.app_context():
        client = portal_client(app, therapist.email)
        if client is None:
            return Result(name, note="skipped: login failed")
        first = client.get("/portal/clients/")
        if first.status_code != 200:
            return Result(name, note=f"skipped: {first.status_code}")
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            times = []
            for _ in range(args.repeat):
                ms, response = elapsed_ms(lambda: client.get("/portal/clients/"))
                assert response.status_code == 200
                times.append(ms)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
    per_page = len(statements) // args.repeat
    params = {
        "today": today,
        "now": dt.datetime.now(dt.UTC),
        "low": app.config["AUTHORIZATION_LOW_SESSIONS"],
        "days": app.config["AUTHORIZATION_EXPIRY_DAYS"],
        "therapist": therapist.id,
        "size": importlib.import_module("admin_app.views.people.portal").MyClientsView.page_size,
    }
    lines_sql = sa.text(CASELOAD_SQL.format(**CASELOAD_CLIENTS))

    def bare():
        clients = [row.id for row in session.execute(sa.text(PORTAL_PAGE_SQL), params)]
        total = session.execute(sa.text(PORTAL_COUNT_SQL), params).scalar_one()
        return total, session.execute(lines_sql, {**params, "clients": clients}).all()

    bare_ms, (total, rows) = timed(bare, args.repeat, session)
    page = first.get_data(as_text=True)
    shown_ids = {int(found) for found in re.findall(r"/portal/clients/details/\?id=(\d+)", page)}
    colours = Counter(row.colour for row in rows)
    same = (
        shown_ids == {row.client_id for row in rows}
        and page.count('class="table-danger"') == colours["red"]
        and page.count('class="caseload-pink"') == colours["pink"]
    )
    note = (
        f"{len(first.data) // 1024} KiB, {len(rows)} of {total} clients "
        f"({', '.join(f'{n} {c}' for c, n in sorted(colours.items()))}), {per_page} statements"
    )
    return Result(name, best(times), bare_ms, note + ("" if same else " MISMATCH"))


def bare_run(session, month, period_end: str) -> int:
    """The invoice run as bare SQL for the charges before the end of `month`; returns its run id."""
    from admin_app.services.platform.clinic_time import clinic_zone

    params = {"zone": clinic_zone().key, "end": month.next().utc_range()[0], "through": month.last_day}
    run_id = session.execute(sa.text(RUN_ROW_SQL), params).scalar_one()
    statements = (
        CHARGES_SQL.format(period_end=period_end),
        "ANALYZE bench_charges",
        DRAFTS_SQL,
        "SET LOCAL enable_nestloop = off",
        LINES_SQL,
        "RESET enable_nestloop",
    )
    for statement in statements:
        session.execute(sa.text(statement), {**params, "run_id": run_id})
    return run_id


# The history's invoices are paid as a practice's are: in full, PAID_AFTER_DAYS after their date, by
# their payer or their client (a card payment, with a receipt number), but one in UNPAID_EVERY, left
# open for good. So the ageing holds what a practice's does: last month's invoices and a tail of old
# debts, not every invoice of three years. A payment is written with its allocations, one per line.
PAID_AFTER_DAYS = 30
UNPAID_EVERY = 40
HISTORY_PAID_SQL = """
WITH paid AS (
  SELECT i.id AS invoice_id, i.payer_id, i.client_id, i.currency, i.invoice_date + :after AS received_on,
         sum(l.amount + l.tax) AS amount
  FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id AND l.holds AND l.amount + l.tax > 0
  WHERE i.series = 'bench:history' AND i.invoice_date + :after <= :today AND i.id % :unpaid_every <> 0
  GROUP BY i.id
), payment_row AS (
  INSERT INTO payment (payer_id, client_id, received_on, amount, currency, method, reference, created_at)
  SELECT payer_id, CASE WHEN payer_id IS NULL THEN client_id END, received_on, amount, currency,
         CASE WHEN payer_id IS NULL THEN 'card' ELSE 'transfer' END, 'bench:' || invoice_id, now()
  FROM paid
  RETURNING id, substr(reference, 7)::int AS invoice_id, received_on, client_id
), receipt AS (
  UPDATE payment SET receipt_number = 'BH' || lpad(payment.id::text, 9, '0')
  FROM payment_row WHERE payment.id = payment_row.id AND payment_row.client_id IS NOT NULL
)
INSERT INTO allocation (participant_id, payment_id, kind, amount, currency, applied_on, created_at)
SELECT l.participant_id, p.id, 'paid', l.amount + l.tax, i.currency, p.received_on, now()
FROM payment_row p JOIN invoice i ON i.id = p.invoice_id
JOIN invoice_line l ON l.invoice_id = i.id AND l.holds AND l.amount + l.tax > 0
"""


def invoice_history(session, month, today: dt.date) -> None:
    """Invoice every month before `month`, so the run timed finds one month of charges, as a practice
    that invoices monthly would: the bare run grouped by local month, issued in a series of its own
    ("bench:history"), and paid (HISTORY_PAID_SQL), committed. Part of the load (analysed with it)."""
    started = time.perf_counter()
    run_id = bare_run(session, month.previous(), MONTH_END)
    issued = session.execute(
        sa.text(
            "UPDATE invoice SET status = 'issued', series = 'bench:history', number = 'H' || lpad(id::text, 9, '0'),"
            " issued_at = now() WHERE run_id = :run_id"
        ),
        {"run_id": run_id},
    ).rowcount
    if issued:
        paid = session.execute(
            sa.text(HISTORY_PAID_SQL), {"after": PAID_AFTER_DAYS, "today": today, "unpaid_every": UNPAID_EVERY}
        ).rowcount
        print(
            f"  Invoiced the months before {month}: {issued} invoices, {paid} of their lines paid,"
            f" in {time.perf_counter() - started:.1f} s"
        )
    session.commit()


# HISTORY_PAID_SQL for SQLite, which has no data-modifying WITH: the same payments, then their
# receipt numbers and allocations, found again by their reference.
SQLITE_PAID_SQL = (
    """
INSERT INTO payment (payer_id, client_id, received_on, amount, currency, method, reference, created_at)
SELECT i.payer_id, CASE WHEN i.payer_id IS NULL THEN i.client_id END, date(i.invoice_date, :after),
       round(sum(l.amount + l.tax), 2), i.currency, CASE WHEN i.payer_id IS NULL THEN 'card' ELSE 'transfer' END,
       'bench:' || i.id, :now
FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id AND l.holds AND l.amount + l.tax > 0
WHERE i.status = 'issued' AND date(i.invoice_date, :after) <= :today AND i.id % :unpaid_every <> 0
GROUP BY i.id
""",
    """
UPDATE payment SET receipt_number = 'BH' || substr('000000000' || id, -9)
WHERE reference LIKE 'bench:%' AND client_id IS NOT NULL
""",
    """
INSERT INTO allocation (participant_id, payment_id, kind, amount, currency, applied_on, created_at)
SELECT l.participant_id, p.id, 'paid', l.amount + l.tax, i.currency, p.received_on, :now
FROM payment p JOIN invoice i ON i.id = CAST(substr(p.reference, 7) AS INTEGER)
JOIN invoice_line l ON l.invoice_id = i.id AND l.holds AND l.amount + l.tax > 0
WHERE p.reference LIKE 'bench:%'
""",
)


def service_history(session, month, today: dt.date) -> None:
    """`invoice_history` on SQLite, where the bare run's SQL (PostgreSQL's) cannot run: each month
    before `month` invoiced by the product's own invoice run (dated the day after the month) and
    issued, then paid as HISTORY_PAID_SQL pays (SQLITE_PAID_SQL)."""
    from admin_app.models import Appointment
    from admin_app.services.billing import invoice_run, issuing
    from admin_app.services.platform import clinic_time
    from admin_app.services.platform.months import Month

    started = time.perf_counter()
    first = session.scalar(sa.select(sa.func.min(Appointment.starts_at)))
    if first is None:
        return
    issued = 0
    for each in Month.containing(clinic_time.to_local(first).date()).until(month.previous()):
        invoice_run.invoice_run(session, each.last_day, invoice_date=each.last_day + dt.timedelta(days=1))
        issued += len(issuing.issue(session, issuing.all_drafts(session)))
        session.commit()
    params = {
        "after": f"+{PAID_AFTER_DAYS} days",
        "today": today.isoformat(),
        "unpaid_every": UNPAID_EVERY,
        "now": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),  # as SQLite's DateTime columns hold it
    }
    paid = [session.execute(sa.text(statement), params).rowcount for statement in SQLITE_PAID_SQL][-1]
    session.commit()
    print(
        f"  Invoiced the months before {month}: {issued} invoices, {paid} of their lines paid,"
        f" in {time.perf_counter() - started:.1f} s"
    )


def timed_writes(sides, check, repeat: int, session) -> list[tuple[float, object]]:
    """For each side, a `(prepare, write)` pair: the best milliseconds of `write` over `repeat` runs
    after one warm-up, each after an untimed `prepare` in the same transaction, then rolled back; and
    `check()` read after its first. The sides take turns, run by run, so that a machine slowing down or
    speeding up during the measurement weighs on the service and on its bare SQL alike."""
    times: list[list[float]] = [[] for _ in sides]
    checked: list[object] = [None for _ in sides]
    for attempt in range(repeat + 1):
        for side, (prepare, write) in enumerate(sides):
            prepare()
            elapsed, _ = elapsed_ms(write)
            if attempt:
                times[side].append(elapsed)
            else:
                checked[side] = check()
            session.rollback()
    return [(best(side), first) for side, first in zip(times, checked, strict=True)]


def invoicing_results(app, session, args, month, today: dt.date) -> list[Result]:
    """The invoice run for `month` (through its last day) and the issuing of all its drafts, each
    against the bare SQL doing the same writes; every run is rolled back."""
    names = ("billing.invoice_run (one month, through its last day)", "billing.issue (all of that run's drafts)")
    try:
        run_module = importlib.import_module("admin_app.services.billing.invoice_run")
        issuing = importlib.import_module("admin_app.services.billing.issuing")
    except ImportError:
        return [Result(name, note="skipped: no services.billing.invoice_run / issuing") for name in names]
    through = month.last_day

    def service_run():
        run_module.invoice_run(session, through, invoice_date=through + dt.timedelta(days=1))

    def bare_month():
        run_id = bare_run(session, month, "CAST(:through AS date)")
        for entity, ids_sql in RUN_AUDITS:
            bare_audit(session, "create", entity, ids_sql, {"run_id": run_id})

    def nothing():
        return None

    def fingerprint():
        return session.execute(sa.text(RUN_FINGERPRINT_SQL)).all()

    def numbers():
        return fingerprint(), session.scalars(sa.text(ISSUED_NUMBERS_SQL)).all()

    (run_ms, made), (bare_run_ms, bare_made) = timed_writes(
        [(nothing, service_run), (nothing, bare_month)], fingerprint, args.repeat, session
    )
    lines = sum(row[5] for row in made)
    note = f"{len(made)} drafts, {lines} lines" + ("" if made == bare_made else " MISMATCH")
    results = [Result(names[0], run_ms, bare_run_ms, note)]

    def service_issue():
        issuing.issue(session, issuing.all_drafts(session))

    def bare_issue():
        session.execute(sa.text(ISSUE_SQL), {"prefix": app.config["INVOICE_PREFIX"]})
        bare_audit(session, "update", "invoice", ISSUE_AUDIT, {}, ("issued_at", "number", "series", "status"))

    (issue_ms, issued), (bare_issue_ms, bare_issued) = timed_writes(
        [(service_run, service_issue), (bare_month, bare_issue)], numbers, args.repeat, session
    )
    note = f"{len(issued[1])} invoices" + ("" if issued == bare_issued else " MISMATCH")
    results.append(Result(names[1], issue_ms, bare_issue_ms, note))
    return results


# The payout run (services.payouts.run.payout_run) for one month as bare SQL: each charge of the month
# (payouts begin with the first month run, here the timed one) with its settled state as of the
# cut-off (the invoice line holding it, the allocations applied by then), the terms in force at its
# start and the earning (on what was collected when settled, else on the amount billed: a held line),
# into a temporary table; then a draft statement per therapist and the lines, each an INSERT ... SELECT.
PAYOUT_CHARGES_SQL = (
    "CREATE TEMPORARY TABLE bench_payout ON COMMIT DROP AS\n"
    + TERMS_SQL
    + """, alloc AS (
  SELECT al.participant_id,
         sum(CASE WHEN al.kind = 'paid' THEN round(al.amount * 100) ELSE 0 END) AS paid,
         sum(CASE WHEN al.kind = 'written_off' THEN round(al.amount * 100) ELSE 0 END) AS written_off,
         max(CASE WHEN al.kind <> 'moved_to_client' THEN al.applied_on END) AS last_applied_on
  FROM allocation al WHERE al.applied_on <= :cut_off GROUP BY al.participant_id
), charge AS (
  SELECT a.therapist_id, p.id AS participant_id, a.starts_at, p.client_id,
         CASE WHEN p.billed_to = 'payer' THEN p.payer_id END AS payer_id, p.currency,
         CASE WHEN i.status = 'issued' THEN round(l.amount * 100) + round(l.tax * 100)
              ELSE round(p.fee * 100) END AS billed,
         coalesce(al.paid, 0) AS paid, coalesce(al.written_off, 0) AS written_off, i.status AS invoice_status
  FROM participant p
  JOIN appointment a ON a.id = p.appointment_id
  LEFT JOIN invoice_line l ON l.participant_id = p.id AND l.holds
  LEFT JOIN invoice i ON i.id = l.invoice_id
  LEFT JOIN alloc al ON al.participant_id = p.id
  WHERE p.attendance = 'attended' AND a.starts_at >= :start AND a.starts_at < :end
    AND NOT EXISTS (SELECT 1 FROM payout_line pl WHERE pl.participant_id = p.id AND NOT pl.held)
), settled AS (
  SELECT c.*, (c.billed - c.paid - c.written_off <= 0 AND c.paid + c.written_off > 0) OR c.billed <= 0 AS ready
  FROM charge c
)
SELECT s.therapist_id, s.participant_id, (s.starts_at AT TIME ZONE :zone)::date AS day, s.client_id, s.payer_id,
       s.currency, s.billed, CASE WHEN NOT s.ready THEN 0 WHEN s.paid > s.billed THEN s.billed ELSE s.paid END
       AS collected, s.ready,
       CASE WHEN s.ready THEN NULL WHEN s.paid > 0 THEN 'partly_paid' WHEN s.invoice_status = 'issued'
            THEN 'invoiced' ELSE 'uninvoiced' END AS held_reason,
       k.compensation_model, k.commission_percent, k.service_fee,
       CASE WHEN k.compensation_model = 'commission'
            THEN floor((e.fee * round(k.commission_percent * 100) + 5000) / 10000)
            ELSE greatest(e.fee - round(coalesce(k.service_fee, 0) * 100), 0) END AS earning
FROM settled s
CROSS JOIN LATERAL (SELECT CASE WHEN s.ready THEN (CASE WHEN s.paid > s.billed THEN s.billed ELSE s.paid END)
                               ELSE s.billed END AS fee) e
LEFT JOIN terms k ON k.therapist_id = s.therapist_id
  AND (k.starts_at IS NULL OR k.starts_at <= s.starts_at) AND (k.ends_at IS NULL OR s.starts_at < k.ends_at)
"""
)
PAYOUT_WRITES_SQL = (
    "INSERT INTO payout_run (month, created_at) VALUES (:month, now())",
    """INSERT INTO payout_statement (therapist_id, month, cut_off, status, created_at, refreshed_at)
SELECT DISTINCT therapist_id, :month, CAST(:cut_off AS date), 'draft', now(), now() FROM bench_payout""",
    """INSERT INTO payout_line (statement_id, participant_id, held, date_of_service, client_id, payer_id, currency,
                         amount, collected, compensation_model, commission_percent, service_fee, earning, held_reason)
SELECT st.id, b.participant_id, NOT b.ready, b.day, b.client_id, b.payer_id, b.currency, b.billed / 100.0,
       b.collected / 100.0, b.compensation_model, b.commission_percent, b.service_fee, b.earning / 100.0, b.held_reason
FROM bench_payout b JOIN payout_statement st ON st.therapist_id = b.therapist_id AND st.month = :month""",
)
# What a payout run wrote, to check the service against the bare SQL: per therapist, paid and held lines.
PAYOUT_FINGERPRINT_SQL = """
SELECT st.therapist_id, l.held, l.held_reason, l.currency, count(*), sum(l.amount), sum(l.collected), sum(l.earning)
FROM payout_statement st JOIN payout_line l ON l.statement_id = st.id
WHERE st.month = :month
GROUP BY st.therapist_id, l.held, l.held_reason, l.currency
ORDER BY st.therapist_id, l.held, l.held_reason, l.currency
"""
# Before each timed payout run (untimed, rolled back with it): the month invoiced and issued (the bare
# invoice run), then its charges paid by one transfer per currency, applied by the cut-off for two in
# three of them, five days after it (held) for the rest but a third never paid, half paid on every
# seventh (held, partly paid): a month of a practice whose payers pay at different speeds.
PAYOUT_PAYMENTS_SQL = (
    "UPDATE invoice SET status = 'issued', series = 'bench:payouts', number = 'P' || lpad(id::text, 9, '0'),"
    " issued_at = now() WHERE run_id = :run_id",
    """INSERT INTO payment (payer_id, received_on, amount, currency, method, created_at)
SELECT (SELECT min(id) FROM payer), CAST(:cut_off AS date), 1000000000, l.currency, 'transfer', now()
FROM (SELECT DISTINCT currency FROM participant) l""",
    """INSERT INTO allocation (participant_id, payment_id, kind, amount, currency, applied_on, created_at)
SELECT l.participant_id, pm.id, 'paid',
       CASE WHEN l.participant_id % 7 = 0 THEN round(l.amount / 2, 2) ELSE l.amount END, i.currency,
       CASE WHEN l.participant_id % 3 = 2 THEN CAST(:cut_off AS date) + 5 ELSE CAST(:cut_off AS date) - 3 END, now()
FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id AND i.run_id = :run_id
JOIN payment pm ON pm.currency = i.currency AND pm.received_on = CAST(:cut_off AS date) AND pm.amount = 1000000000
WHERE l.participant_id % 3 <> 0 AND l.amount > 0""",
)


def payout_results(app, session, args, month) -> list[Result]:
    """The payout run for `month` against the bare SQL computing and writing the same lines; every run
    is rolled back. Before each (untimed), the month is invoiced, issued and partly paid (bare SQL)."""
    name = "payouts.payout_run (one month, as of its last day)"
    try:
        payouts = importlib.import_module("admin_app.services.payouts.run")
    except ImportError:
        return [Result(name, note="skipped: no services.payouts.run")]
    from admin_app.services.platform.clinic_time import clinic_zone

    start, end = month.utc_range()
    params = {"month": str(month), "cut_off": month.last_day, "start": start, "end": end, "zone": clinic_zone().key}

    def paid_month():
        run_id = bare_run(session, month, "CAST(:through AS date)")
        for statement in PAYOUT_PAYMENTS_SQL:
            session.execute(sa.text(statement), {**params, "run_id": run_id})
        session.execute(sa.text("ANALYZE allocation"))

    def service_run():
        payouts.payout_run(session, month)

    def bare_payout():
        session.execute(sa.text(PAYOUT_CHARGES_SQL), params)
        session.execute(sa.text("ANALYZE bench_payout"))
        for statement in PAYOUT_WRITES_SQL:
            session.execute(sa.text(statement), params)
        for entity, ids_sql in PAYOUT_AUDITS:
            bare_audit(session, "create", entity, ids_sql, params)

    def fingerprint():
        return session.execute(sa.text(PAYOUT_FINGERPRINT_SQL), params).all()

    (run_ms, made), (bare_ms, bare_made) = timed_writes(
        [(paid_month, service_run), (paid_month, bare_payout)], fingerprint, args.repeat, session
    )
    lines = sum(row[4] for row in made if not row[1])
    held = sum(row[4] for row in made if row[1])
    note = f"{len({row[0] for row in made})} statements, {lines} lines, {held} held" + (
        "" if made == bare_made else " MISMATCH"
    )
    return [Result(name, run_ms, bare_ms, note)]


def pdf_result(app, session, args, month, therapist_id: int) -> Result:
    """The therapist's month report PDF (`month_report_pdf`: read, templated, rendered, pages
    numbered, export recorded) against the bare `wkhtmltopdf` command (`documents.pdf.command`, the
    same locked-down options) on the very same HTML, as the payout statement PDFs are: the ratio is
    what reading, templating and the page numbers add to the render."""
    name = "therapist month report PDF (month_report_pdf vs bare wkhtmltopdf)"
    try:
        month_reports = importlib.import_module("admin_app.services.reports.therapist_month")
        render = month_reports.month_report_pdf
    except (ImportError, AttributeError):
        return Result(name, note="skipped: no services.reports.therapist_month.month_report_pdf")
    if shutil.which("wkhtmltopdf") is None:
        return Result(name, note="skipped: wkhtmltopdf is not installed")
    from admin_app.services.platform.documents import pdf

    language = app.config["DEFAULT_LOCALE"]
    html = month_reports.month_report_html(
        month_reports.therapist_month_report(session, month, therapist_id), language=language
    )

    def bare():
        return subprocess.run(pdf.command(html), input=html.encode("utf-8"), capture_output=True, check=True).stdout

    (ms, document), (bare_ms, bare_pdf) = timed_together(
        [lambda: render(session, month, therapist_id, language=language), bare], args.repeat, session
    )
    return Result(name, ms, bare_ms, f"{len(document.content) // 1024} KiB, bare PDF {len(bare_pdf) // 1024} KiB")


def page_results(app, args, pages: list[tuple[str, str, float | None, str]]) -> list[Result]:
    """GET the report screens and the admin home as a signed-in admin, each `(name, url, bare ms, note)`
    against the bare SQL of its figure; a route that is not there is skipped."""
    # An app context of its own: the bench's holds `g` (and Flask-Login's user) of earlier pages.
    with app.app_context():
        client = admin_client(app)
        if isinstance(client, str):
            return [Result(name, note=client) for name, _url, _ms, _note in pages]
        return [page_result(client, args, *page) for page in pages]


def admin_client(app):
    """A test client signed in as the bench's admin, or why not (a note for the skipped lines)."""
    client = app.test_client()
    login = client.post("/login", data={"email": BENCH_ADMIN[0], "password": BENCH_ADMIN[1]})
    return client if login.status_code == 302 else f"skipped: login answered {login.status_code}"


def page_result(client, args, name: str, url: str, baseline: float | None, note: str) -> Result:
    """The best time of `GET url` (after a first, untimed one) and the page's size."""
    first = client.get(url)
    if first.status_code != 200:
        return Result(name, note=f"skipped: {first.status_code}")
    times = []
    for _ in range(args.repeat):
        ms, response = elapsed_ms(lambda: client.get(url))
        times.append(ms)
        assert response.status_code == 200, (url, response.status_code)
    size = f"{len(first.data) // 1024} KiB"
    return Result(name, best(times), baseline, f"{size}; {note}" if note else size)


def portal_home_result(app, session, args) -> Result:
    """`GET /portal/` as the therapist with the most clients in care (a login is given to them once),
    against the bare SQL of what it shows; the note has the page's statement count, and the service's
    rows are checked against the SQL (appointments and participants, alerts, failed messages, requests).
    Read at the real now: the page has no other."""
    name = "GET /portal/ (the portal home of the therapist with the most clients)"
    try:
        portal_day = importlib.import_module("admin_app.services.scheduling.portal_day")
    except ImportError:
        return Result(name, note="skipped: no services.scheduling.portal_day")
    from admin_app.extensions import db
    from admin_app.services.platform import clinic_time

    therapist = portal_therapist(session)
    if therapist is None:
        return Result(name, note="skipped: no care assignment")
    therapist_id = therapist.id
    clients = session.execute(
        sa.text("SELECT count(*) FROM care_assignment WHERE therapist_id = :t AND active"), {"t": therapist_id}
    ).scalar_one()
    statements: list[str] = []

    def count(*_args):
        statements.append(_args[2])

    times = []
    # An app context of its own: the bench's holds `g` (and Flask-Login's user) of the admin's pages.
    with app.app_context():
        client = portal_client(app, therapist.email)
        if client is None:
            return Result(name, note="skipped: the therapist's login failed")
        first = client.get("/portal/")
        if first.status_code != 200:
            return Result(name, note=f"skipped: {first.status_code}")
        for _ in range(args.repeat):
            statements.clear()
            sa.event.listen(db.engine, "before_cursor_execute", count)
            ms, response = elapsed_ms(lambda: client.get("/portal/"))
            times.append(ms)
            sa.event.remove(db.engine, "before_cursor_execute", count)
            assert response.status_code == 200, response.status_code
    now = dt.datetime.now(dt.UTC)
    today = clinic_time.today()
    params = {
        "therapist": therapist_id,
        "since": clinic_time.day_start(today - dt.timedelta(days=portal_day.STILL_EXPECTED_DAYS)),
        "today_start": clinic_time.day_start(today),
        "until": clinic_time.day_start(today + dt.timedelta(days=app.config["PORTAL_DAYS_AHEAD"] + 1)),
        "today": today,
        "low": app.config["AUTHORIZATION_LOW_SESSIONS"],
        "days": app.config["AUTHORIZATION_EXPIRY_DAYS"],
    }
    failed_since = now - dt.timedelta(days=portal_day.FAILED_MESSAGE_DAYS)

    def run(sql: str, **extra):
        return session.execute(sa.text(sql), {**params, **extra}).all()

    def bare():
        return (
            run(PORTAL_CARE_SQL),
            run(PORTAL_APPOINTMENTS_SQL),
            run(PORTAL_ALERTS_SQL),
            run(PORTAL_FAILED_SQL, since=failed_since),
            run(PORTAL_REQUESTS_SQL),
        )

    bare_ms, (_care, rows, alerts, failed, requests) = timed(bare, args.repeat, session)
    home = portal_day.portal_day(session, therapist_id=therapist_id, now=now)
    shown = [*home.still_expected, *(a for day in home.days for a in day.appointments)]
    same = (
        [(a.id, p.participant_id) for a in shown for p in a.attendees]
        == [(row[0], row[9]) for row in rows if row[9] is not None]
        and len(shown) == len({row[0] for row in rows})
        and [row.id for row in home.authorizations] == [row.id for row in alerts]
        and [m.id for m in home.failed_messages] == [row.id for row in failed]
        and [r.id for r in home.open_requests] == [row.id for row in requests]
    )
    session.rollback()
    note = (
        f"{len(first.data) // 1024} KiB, {len(statements)} statements; {clients} clients, {len(shown)} appointments"
        f" ({len(home.still_expected)} still expected), {len(alerts)} alerts, {len(failed)} failed messages,"
        f" {len(requests)} open requests"
    )
    return Result(name, best(times), bare_ms, note + ("" if same else " MISMATCH"))


def check_month(totals, sessions_rows, amount_rows) -> str:
    expected_sessions = {tid: count for tid, _name, _email, count in sessions_rows}
    expected_gross, expected_commission = defaultdict(dict), defaultdict(dict)
    for tid, currency, gross, cents in amount_rows:
        if gross:
            expected_gross[tid][currency] = Decimal(gross).quantize(Decimal("0.01"))
        if cents:
            expected_commission[tid][currency] = Decimal(cents) / 100
    same = {line.therapist_id: line.sessions for line in totals.therapists} == expected_sessions and all(
        line.gross == expected_gross[line.therapist_id] and line.commission == expected_commission[line.therapist_id]
        for line in totals.therapists
    )
    return f"{len(totals.therapists)} therapists, {totals.sessions} sessions" + ("" if same else " MISMATCH")


def new_clients_result(session, args, month) -> Result:
    """`reports.new_clients` of last month against NEW_CLIENTS_SQL, checked client by client."""
    from admin_app.services.platform.clinic_time import to_local
    from admin_app.services.reports import summaries as reports

    start, end = month.utc_range()
    bare = sa.text(NEW_CLIENTS_SQL.format(firsts=FIRSTS_SQL))
    (ms, found), (bare_ms, rows) = timed_together(
        [
            lambda: reports.new_clients(session, month.first_day, month.last_day),
            lambda: session.execute(bare, {"start": start, "end": end}).all(),
        ],
        args.repeat,
        session,
    )
    from_history = sa.text(NEW_CLIENTS_SQL.format(firsts=FIRSTS_FROM_HISTORY_SQL))
    same = [(c.name, c.first_session, c.first_therapist) for c in found] == [
        (name, to_local(first_at).date(), therapist) for name, first_at, therapist in rows
    ] and rows == session.execute(from_history, {"start": start, "end": end}).all()
    note = f"{len(found)} clients" + ("" if same else " MISMATCH")
    return Result("reports.new_clients (last month)", ms, bare_ms, note)


def check_year(months, activity, income, newcomers, _nps) -> str:
    by_month = {row[0].month: row for row in activity}
    new_by_month = {row[0].month: row[1] for row in newcomers}
    gross = defaultdict(dict)
    for month_start, currency, amount in income:
        gross[month_start.month][currency] = Decimal(amount)
    same = all(
        (line.sessions, line.virtual_clients, line.onsite_clients)
        == tuple(by_month.get(n, (0, 0, 0, 0, 0))[i] for i in (1, 3, 4))
        and line.new_clients == new_by_month.get(n, 0)
        and line.recurrent_clients == by_month.get(n, (0, 0, 0))[2] - new_by_month.get(n, 0)
        and line.gross == gross.get(n, {})
        for n, line in enumerate(months, start=1)
    )
    return f"{sum(line.sessions for line in months)} sessions" + ("" if same else " MISMATCH")


def print_table(results: list[Result]) -> None:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    rows = [("figure", "best ms", "empty ms", "bare SQL ms", "ratio", "limit", "", "note")]
    for result in results:
        ratio, limit = result.measured_ratio(), result.limit
        rows.append(
            (
                result.name,
                ms(result.best_ms),
                ms(result.empty_ms),
                ms(result.bare_ms),
                "-" if ratio is None else f"{ratio:.2f}",
                "-" if limit is None or ratio is None else f"{limit:.1f}",
                "OVER" if result.over() else "",
                result.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print(
            "  ".join(
                cell.ljust(width) if i in (0, 6, 7) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = schema_url(args.database_url, args.schema)
    app = make_bench_app(url)
    with app.app_context():
        prepare(app, args)
        if args.load_only:
            return 0
        if not is_postgresql(args.database_url):
            print("SQLite: the figures' bare SQL is PostgreSQL's; only the screens are measured.")
        results = fastest_of([measured(app, args, number) for number in range(1, args.series + 1)])
    print()
    print_table(results)
    over = [result.name for result in results if result.over()]
    if over:
        print(f"\n{len(over)} over their limit: {', '.join(over)}")
    return 1 if over or any("MISMATCH" in result.note for result in results) else 0


def measured(app, args, number: int) -> list[Result]:
    """One series: every figure (PostgreSQL), then every screen. The figures are printed as soon as
    they are measured: a run that stops in its screens (half an hour later at full size) keeps them."""
    results = run(app, args) if is_postgresql(args.database_url) else []
    if results:
        print(f"\nSeries {number}, the figures (the table at the end keeps each line's best of every series):")
        print_table(results)
        sys.stdout.flush()
    results.extend(screen_results(app, args, results))
    return results


def fastest_of(series: list[list[Result]]) -> list[Result]:
    """Each line as in the first series, with each side's fastest time over every series (the
    service's, the bare SQL's and the empty render's apart, as within a series). A slow spell of
    this shared machine lasts minutes: within one series of runs taken seconds apart it weighs on
    a line or not by luck, and five lines near their limit came out over or under from one run to
    the next. Series taken minutes apart each give every line another chance at a quiet moment,
    on both sides of its ratio alike."""
    first, *later = series
    for index, line in enumerate(first):
        same = [other[index] for other in later if len(other) > index and _line(other[index]) == _line(line)]
        for side in ("best_ms", "bare_ms", "empty_ms"):
            times = [value for value in (getattr(one, side) for one in [line, *same]) if value is not None]
            setattr(line, side, min(times) if times else None)
        if "MISMATCH" not in line.note and any("MISMATCH" in one.note for one in same):
            line.note = f"{line.note} MISMATCH (in a later series)".strip()
    return first


def _line(result: Result) -> str:
    """A line's name without its numbers: a deep page's number and anchor move as the audit trail
    grows from one series to the next (every page read is audited)."""
    return re.sub(r"\d+", "#", result.name)


def screen_results(app, args, figures: list[Result]) -> list[Result]:
    """Every staff and portal screen and the biggest lists' exports (bench/screens.py), the portal's
    as the therapist with the most clients. A page timed above against its hand-written SQL (a "GET"
    line) is a screen: it takes the screen's empty render and limit (page <= 2 x (empty + bare)), and
    the screen's own line says it is judged above."""
    import screens  # bench/screens.py, next to this file

    from admin_app.extensions import db

    therapist = portal_therapist(db.session)
    users = {"staff": BENCH_ADMIN, "portal": (therapist.email, BENCH_THERAPIST_PASSWORD)}
    rows = screens.screen_results(
        app, make_bench_app, empty_url(args.database_url, args.schema), db.session, args, users
    )
    pages = {figure.name.split()[1]: figure for figure in figures if figure.name.startswith("GET ")}
    for row in rows:
        page = pages.get(row["name"].split()[1])
        if page is not None and row.get("empty_ms") is not None and page.bare_ms is not None:
            page.empty_ms, page.limit = row["empty_ms"], screens.SCREEN_LIMIT
            row["limit"] = None
            row["note"] += " (judged above, against its own SQL)"
    return [Result(**row) for row in rows]


if __name__ == "__main__":
    sys.exit(main())
