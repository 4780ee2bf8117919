"""The whole survey loop with real parts: send a month, read the emails from an SMTP sink,
follow each link, answer, and find the hand-computed NPS and ratings in the stats."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import ClientLink, LinkKind, OutboundMessage, SurveyInvitation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from admin_app.services.surveys import stats as survey_stats
from tests.conftest import login
from tests.factories import attended, make_admin, make_client, make_therapist

OCTOBER = "2026-10"


def test_send_for_a_month_invites_each_client_once_in_their_language(mail_app, smtp_sink):
    ana_t, bruno_t = make_therapist(full_name="Ana Ruiz"), make_therapist(full_name="Bruno Díaz")
    carla = make_client(full_name="Carla", email="carla@example.com", preferred_language="es")
    john = make_client(full_name="John", email="john@example.com", preferred_language="en")
    attended(ana_t, carla, 5)
    attended(bruno_t, carla, 12)
    attended(ana_t, john, 6)
    db.session.commit()

    summary = surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()

    assert summary.invited == 2
    [spanish] = smtp_sink.to("carla@example.com")
    [english] = smtp_sink.to("john@example.com")
    assert spanish["Subject"] == "¿Cómo fueron sus sesiones en octubre de 2026?"
    assert english["Subject"] == "How were your sessions in October 2026?"
    link = re.search(r"http://127\.0\.0\.1:5000/survey/[\w-]+", spanish.get_body(("plain",)).get_content()).group()
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 22  # at least 128 bits
    invitation = surveys.open_invitation(db.session, token)
    assert surveys.therapists_seen(db.session, invitation.client_id, Month.parse(OCTOBER)) == [
        (ana_t.id, "Ana Ruiz"),
        (bruno_t.id, "Bruno Díaz"),
    ]
    assert token not in {row.token_hash for row in db.session.query(SurveyInvitation)}

    again = surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()
    assert (again.invited, again.already_invited) == (0, 2)
    assert len(smtp_sink.messages) == 2


def test_the_outbox_preview_does_not_show_the_survey_link(mail_app, smtp_sink):
    make_admin(email="boss@example.com")
    attended(make_therapist(), make_client(email="carla@example.com", preferred_language="es"), 5)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()
    [email] = smtp_sink.to("carla@example.com")
    path = urlsplit(re.search(r"http://\S+/survey/[\w-]+", email.get_body(("plain",)).get_content()).group()).path
    staff = mail_app.test_client()
    login(staff, "boss@example.com")
    message_id = db.session.scalar(select(OutboundMessage.id))

    preview = staff.get(f"/admin/outbox/details/?id={message_id}").get_data(as_text=True)

    assert "/survey/…" in preview
    assert path not in preview


def test_minor_without_email_is_invited_through_the_guardian(mail_app, smtp_sink):
    therapist = make_therapist()
    mother = make_client(full_name="Rosa Paz", email="rosa@example.com", preferred_language="es")
    child = make_client(full_name="Tito Paz", email=None)
    db.session.add(ClientLink(client=mother, related_client=child, kind=LinkKind.GUARDIAN_OF))
    opted_out = make_client(email="no@example.com", survey_opt_out=True)
    lonely = make_client(email=None)
    for n, client in enumerate((child, opted_out, lonely)):
        attended(therapist, client, 5 + n)
    db.session.commit()

    summary = surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()

    assert (summary.invited, summary.opted_out, summary.no_email) == (1, 1, 1)
    [message] = smtp_sink.messages
    assert message["To"] == "rosa@example.com"
    assert "las sesiones de Tito Paz" in message.get_body(("plain",)).get_content()


def test_nps_and_ratings_from_answers(app):
    therapist = make_therapist(full_name="Ana Ruiz")
    clients = [make_client() for _ in range(4)]
    for n, client in enumerate(clients):
        attended(therapist, client, 5 + n)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()
    invitations = db.session.query(SurveyInvitation).order_by(SurveyInvitation.id).all()
    for invitation, (score, stars) in zip(invitations[:3], [(10, 5), (9, 4), (3, 2)], strict=True):
        surveys.submit(db.session, invitation, stars={therapist.id: str(stars)}, nps=str(score), comment=None)
    db.session.commit()

    [line] = survey_stats.nps_by_month(db.session, Month(2026, 10), Month(2026, 10))
    assert (line.invitations, line.responses, line.promoters, line.detractors) == (4, 3, 2, 1)
    assert line.nps == Decimal("33.3")  # 100 x 2/3 - 100 x 1/3
    [rating] = survey_stats.ratings_by_therapist(db.session, Month(2026, 10), Month(2026, 10))
    assert (rating.therapist_name, rating.ratings, rating.average) == ("Ana Ruiz", 3, Decimal("3.67"))
    assert survey_stats.nps_by_month(db.session, Month(2026, 11), Month(2026, 11)) == []


def test_the_whole_loop_from_the_staff_screen_to_the_results(mail_app, smtp_sink):
    """Staff send October's survey; three clients answer through the links in their emails
    (NPS 10, 9 and 3; stars 5, 4 and 2 for Ana Ruiz); the results show NPS 33.3 and 3.67 stars."""
    make_admin(email="boss@example.com")
    ana = make_therapist(full_name="Ana Ruiz")
    answers = {"c0@example.com": ("10", "5"), "c1@example.com": ("9", "4"), "c2@example.com": ("3", "2")}
    for n, address in enumerate([*answers, "silent@example.com"]):
        attended(ana, make_client(email=address, preferred_language="en"), 5 + n)
    db.session.commit()
    staff = mail_app.test_client()
    login(staff, "boss@example.com")

    sent = staff.post("/admin/survey-results/send", data={"month": OCTOBER}, follow_redirects=True)

    assert "Survey for 2026-10: 4 invited" in sent.get_data(as_text=True)
    assert len(smtp_sink.messages) == 4
    for address, (score, stars) in answers.items():
        [email] = smtp_sink.to(address)
        path = urlsplit(re.search(r"http://\S+/survey/[\w-]+", email.get_body(("plain",)).get_content()).group()).path
        visitor = mail_app.test_client()
        form = visitor.get(path)
        assert form.status_code == 200 and "Ana Ruiz" in form.get_data(as_text=True)
        answered = visitor.post(path, data={f"stars-{ana.id}": stars, "nps": score, "comment": "Thanks"})
        assert answered.status_code == 303
        assert visitor.get(path).status_code == 404  # used

    results = staff.get(f"/admin/survey-results/?from={OCTOBER}&to={OCTOBER}").get_data(as_text=True)

    assert "33.3" in results and "3.67 (3)" in results
    [line] = survey_stats.nps_by_month(db.session, Month(2026, 10), Month(2026, 10))
    assert (line.invitations, line.responses, line.nps) == (4, 3, Decimal("33.3"))
    [rating] = survey_stats.ratings_by_therapist(db.session, Month(2026, 10), Month(2026, 10))
    assert (rating.ratings, rating.average) == (3, Decimal("3.67"))
