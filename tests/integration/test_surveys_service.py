"""The survey rules through the service, the CLI and the periodic schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from admin_app.config import ConfigError, load_settings
from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import Attendance, Notification, OutboundMessage, SurveyInvitation, SurveyResponse
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from tests.factories import attended, make_admin, make_appointment, make_client, make_therapist


def attended_in(year: int, month: int, therapist=None, **client_fields):
    """A new client (with `client_fields`) who attended `therapist` (a new one unless given) on the 4th of the month."""
    therapist = therapist or make_therapist()
    client = make_client(**client_fields)
    attended(therapist, client, 4, month=month, year=year)
    return therapist, client


def invite_one(month: str = "2026-10"):
    year, number = map(int, month.split("-"))
    therapist, client = attended_in(year, number)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(month))
    db.session.commit()
    return therapist, db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.client_id == client.id))


def token_of(invitation):
    return surveys.LINK.token(invitation)


def test_only_attended_sessions_of_the_month_count(app):
    therapist, _ = attended_in(2026, 10)
    no_show = make_client()
    make_appointment(therapist, no_show, dt.datetime(2026, 10, 9, 15, tzinfo=dt.UTC), attendance=Attendance.NO_SHOW)
    # 31 October 20:00 in Lima is already 1 November in UTC: it belongs to October.
    late = make_client()
    make_appointment(therapist, late, dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC), attendance=Attendance.ATTENDED)
    db.session.commit()

    summary = surveys.send_for_month(db.session, Month(2026, 10))

    assert summary.invited == 2
    invited = set(db.session.scalars(select(SurveyInvitation.client_id)))
    assert late.id in invited and no_show.id not in invited


def test_expired_used_and_unknown_links_open_nothing(app):
    therapist, invitation = invite_one()
    token = token_of(invitation)
    assert surveys.open_invitation(db.session, token) is invitation
    assert surveys.open_invitation(db.session, token[:-2] + "xx") is None
    assert surveys.open_invitation(db.session, "") is None
    assert surveys.open_invitation(db.session, "x" * 500) is None

    later = invitation.expires_at + dt.timedelta(seconds=1)
    assert surveys.open_invitation(db.session, token, now=later) is None

    surveys.submit(db.session, invitation, stars={therapist.id: "5"}, nps="10", comment="Gracias")
    db.session.commit()
    assert surveys.open_invitation(db.session, token) is None


def test_an_invitation_state_reads_the_same_in_python_and_in_sql(app):
    therapist, invitation = invite_one()
    created, expires = invitation.created_at, invitation.expires_at

    def both(now):
        in_sql = db.session.scalar(select(surveys.state_sql(now)).where(SurveyInvitation.id == invitation.id))
        return surveys.invitation_state(invitation, now).value, in_sql

    assert both(created) == ("sent", "sent")
    surveys.mark_opened(invitation, created)
    db.session.flush()
    assert both(created) == ("opened", "opened")
    assert both(expires) == ("expired", "expired")  # the expiry instant itself is past
    surveys.submit(db.session, invitation, stars={therapist.id: "5"}, nps="9", comment=None, now=created)
    db.session.flush()
    db.session.refresh(invitation)
    assert both(expires) == ("answered", "answered")  # an answer is kept after the link expires


def test_a_second_submit_stores_nothing(app):
    therapist, invitation = invite_one()

    first = surveys.submit(db.session, invitation, stars={therapist.id: "4"}, nps="8", comment=None)
    second = surveys.submit(db.session, invitation, stars={therapist.id: "1"}, nps="0", comment="again")
    db.session.commit()

    assert first is not None and second is None
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1
    assert db.session.scalar(select(SurveyResponse.nps_score)) == 8


@pytest.mark.parametrize(
    ("stars", "nps", "field"),
    [("5", None, "nps"), ("5", "11", "nps"), ("5", "ten", "nps"), ("0", "9", "stars"), (None, "9", "stars")],
)
def test_bad_answers_name_the_field_and_store_nothing(app, stars, nps, field):
    therapist, invitation = invite_one()

    with pytest.raises(RuleViolation) as refused:
        surveys.submit(db.session, invitation, stars={therapist.id: stars}, nps=nps, comment=None)

    assert refused.value.field.startswith(field)
    db.session.rollback()
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
    assert db.session.get(SurveyInvitation, invitation.id).answered_at is None


def test_a_detractor_answer_notifies_the_admins(app):
    admin = make_admin()
    therapist, invitation = invite_one()

    response = surveys.submit(db.session, invitation, stars={therapist.id: "2"}, nps="6", comment="Muy tarde")
    db.session.commit()

    [notice] = db.session.scalars(select(Notification)).all()
    assert (notice.user_id, notice.kind, notice.params) == (admin.id, "detractor_answer", {"response_id": response.id})


def test_the_cli_sends_a_month_and_refuses_a_bad_one(app, runner):
    attended_in(2026, 10, email="cli@example.com")
    db.session.commit()

    result = runner.invoke(args=["surveys", "send", "--month", "2026-10"])
    again = runner.invoke(args=["surveys", "send", "--month", "2026-10"])
    bad = runner.invoke(args=["surveys", "send", "--month", "October"])

    assert result.exit_code == 0, result.output
    assert "Survey 2026-10: 1 invited" in result.output
    assert "0 invited, 1 already invited" in again.output
    assert bad.exit_code != 0 and "expected a month as YYYY-MM" in bad.output
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == 1


# A 1st before Lima's midnight (still the 30th there), mid-month, and a 1st after it.
DAYS = ["2026-12-01T03:00Z", "2026-10-15T15:00Z", "2026-12-01T05:30Z"]


@pytest.mark.parametrize("now", DAYS)
def test_the_periodic_run_invites_for_the_previous_month_once(app, monkeypatch, clock, now):
    clock.set(now)
    year, month = clock.last_month()  # the clinic's, as the job reads it, not the UTC calendar's
    attended_in(year, month)
    db.session.commit()
    monkeypatch.setitem(app.config, "SURVEY_DAY", 1)

    first = schedule.tick()["monthly-survey"]
    second = schedule.tick()["monthly-survey"]

    assert first.endswith(": 1 invited") and second == "not due"
    assert db.session.scalar(select(func.count(SurveyInvitation.id))) == 1


def test_the_periodic_run_waits_for_survey_day(app, monkeypatch):
    attended_in(2026, 10)
    db.session.commit()
    now = dt.datetime(2026, 11, 3, 15, tzinfo=dt.UTC)
    monkeypatch.setitem(app.config, "SURVEY_DAY", 5)

    assert surveys.send_due_survey(db.session, now=now) is None
    assert surveys.send_due_survey(db.session, now=now + dt.timedelta(days=2)).month == "2026-10"


@pytest.mark.parametrize("value", ["0", "29", "first"])
def test_survey_day_must_be_a_day_every_month_has(tmp_path, value):
    with pytest.raises(ConfigError) as error:
        load_settings({"SURVEY_DAY": value}, instance_path=tmp_path)
    assert error.value.variable == "SURVEY_DAY"


@pytest.mark.parametrize("now", DAYS)
def test_a_month_that_has_not_ended_is_refused(app, clock, now):
    clock.set(now)
    this_month = clock.today().strftime("%Y-%m")

    with pytest.raises(RuleViolation) as refused:
        surveys.send_for_month(db.session, Month.parse(this_month))

    assert refused.value.field == "month"
    assert "has not ended yet" in str(refused.value)
