"""The benchmarks' practice (`LIMA_TURNOVER` with `activity=True`): clients come and go as over years of a
real practice, and reminders, monthly surveys and the audit trail are there in realistic volumes."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, select

from admin_app import demo
from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AuditEvent,
    CareAssignment,
    OutboundMessage,
    Participant,
    SurveyInvitation,
    SurveyResponse,
)
from admin_app.services.audit.chain import verify_chain

TODAY = dt.date(2026, 11, 18)
THERAPISTS, MONTHS = 4, 12


def load(app) -> demo.DemoSummary:
    summary = demo.load_demo_practice(
        db.session,
        practice=demo.LIMA_TURNOVER,
        therapists=THERAPISTS,
        months=MONTHS,
        today=TODAY,
        invoices=False,
        activity=True,
    )
    db.session.commit()
    return summary


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_clients_arrive_every_month_and_leave_after_a_course(app):
    summary = load(app)

    assignments = db.session.execute(select(CareAssignment.started_on, CareAssignment.deactivated_on)).all()
    arrivals = Counter((started.year, started.month) for started, _ in assignments if started > summary.first_day)
    assert len(arrivals) == MONTHS  # someone new every month
    assert 2 <= sum(arrivals.values()) / THERAPISTS / MONTHS <= 6  # a few per therapist
    courses = [(ended - started).days / 7 for started, ended in assignments if ended and started > summary.first_day]
    assert courses and 6 <= sorted(courses)[len(courses) // 2] <= 40  # weeks: 6 to 20 sessions, some fortnightly
    # Those still in care are a caseload, not everyone ever seen.
    in_care = sum(1 for _, ended in assignments if ended is None)
    assert in_care < len(assignments) / 2


def test_reminders_surveys_and_the_audit_trail_are_there_and_the_chain_holds(app):
    summary = load(app)

    participants = count(Participant)
    assert participants * 0.8 <= summary.counts["reminders"] <= participants * 1.6  # one or two channels each
    assert count(OutboundMessage) == summary.counts["reminders"] + summary.counts["survey invitations"]
    months = db.session.scalars(select(SurveyInvitation.month).distinct()).all()
    assert len(months) == MONTHS - 1  # every month that has ended
    share = count(SurveyResponse) / count(SurveyInvitation)
    assert 0.2 <= share <= 0.4
    # A booking and its participants created, then marked: about four events per appointment.
    assert 3 <= count(AuditEvent) / count(Appointment) <= 5
    assert verify_chain(db.session).broken_at is None
