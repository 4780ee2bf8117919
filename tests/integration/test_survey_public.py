"""The public survey page, as a client meets it: the link from the email, the form in their
language, one answer, and the same plain page for every link that does not work."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import redis
from sqlalchemy import func, select

from admin_app.extensions import db, limiter
from admin_app.models import ClientLink, LinkKind, SurveyInvitation, SurveyResponse
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from tests.conftest import make_app
from tests.factories import attended, make_client, make_therapist
from tests.pages import body, csrf_token, text_of

OCTOBER = "2026-10"
GONE_TEXT = "This survey link does not work"


@pytest.fixture(autouse=True)
def fresh_guess_counts(app):
    """Failed lookups count per IP for an hour, in the database every app on it shares: each test starts from zero."""
    limiter.reset()
    yield
    limiter.reset()


def invited(language: str = "en", therapists: tuple[str, ...] = ("Ana Ruiz",), **client_fields):
    """A client who saw `therapists` in October, invited; returns (invitation, token, therapists)."""
    seen = [make_therapist(full_name=name) for name in therapists]
    client = make_client(preferred_language=language, **client_fields)
    for day, therapist in enumerate(seen, start=5):
        attended(therapist, client, day)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()
    invitation = db.session.scalar(select(SurveyInvitation).where(SurveyInvitation.client_id == client.id))
    return invitation, surveys.LINK.token(invitation), seen


def emailed_path(smtp_sink, address: str) -> str:
    [message] = smtp_sink.to(address)
    link = re.search(r"http://127\.0\.0\.1:5000(/survey/[\w-]+)", message.get_body(("plain",)).get_content())
    return link.group(1)


def answers(therapists, stars: str | None = "5", nps: str | None = "9", comment: str = "", **extra) -> dict:
    form = {f"stars-{therapist.id}": stars for therapist in therapists if stars is not None}
    if nps is not None:
        form["nps"] = nps
    return {**form, "comment": comment, **extra}


def responses() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(SurveyResponse.id)))


def field_block(page: str, field_id: str) -> str:
    """The HTML of the question whose box has this id (a fieldset, or the comment's div)."""
    found = re.search(rf'<(fieldset|div) class="question[^"]*" id="{field_id}".*?</\1>', page, re.S)
    assert found, f"no question {field_id!r} on the page"
    return found.group(0)


def checked_values(page: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" id="[^"]+" value="(\d+)" required checked>', page)


def assert_private(response) -> None:
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in body(response)


# The form


def test_the_emailed_link_opens_the_form_in_the_clients_language(mail_app, smtp_sink):
    visitor = mail_app.test_client()
    ana, bruno = make_therapist(full_name="Ana Ruiz"), make_therapist(full_name="Bruno Díaz")
    carla = make_client(full_name="Carla", email="carla@example.com", preferred_language="es")
    john = make_client(full_name="John", email="john@example.com", preferred_language="en")
    attended(ana, carla, 5)
    attended(bruno, carla, 12)
    attended(ana, john, 6)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()

    spanish = visitor.get(emailed_path(smtp_sink, "carla@example.com"), headers={"Accept-Language": "en"})
    english = visitor.get(emailed_path(smtp_sink, "john@example.com"), headers={"Accept-Language": "es"})

    assert spanish.status_code == 200
    page = body(spanish)
    assert '<html lang="es">' in page  # the invitation's language, not the browser's
    assert "octubre de 2026" in text_of(page)
    assert "Ana Ruiz" in page and "Bruno Díaz" in page
    assert page.index("Ana Ruiz") < page.index("Bruno Díaz")
    assert_private(spanish)

    assert english.status_code == 200
    text = text_of(body(english))
    assert '<html lang="en">' in body(english)
    assert "How were your sessions in October 2026?" in text
    assert "How would you rate your sessions with Ana Ruiz?" in text
    assert "Bruno Díaz" not in text
    assert "How likely are you to recommend us to a friend or family member?" in text
    assert "Not at all likely" in text and "Extremely likely" in text
    assert "1 star out of 5" in text and "4 stars out of 5" in text
    assert 'maxlength="2000"' in body(english)
    assert 'name="csrf_token"' in body(english)


def test_a_minors_survey_says_whose_sessions_it_is_about(app, client):
    therapist = make_therapist(full_name="Ana Ruiz")
    mother = make_client(full_name="Rosa Paz", email="rosa@example.com", preferred_language="en")
    child = make_client(full_name="Tito Paz", email=None)
    db.session.add(ClientLink(client=mother, related_client=child, kind=LinkKind.GUARDIAN_OF))
    attended(therapist, child, 5)
    db.session.commit()
    surveys.send_for_month(db.session, Month.parse(OCTOBER))
    db.session.commit()
    invitation = db.session.scalar(select(SurveyInvitation))

    page = client.get(f"/survey/{surveys.LINK.token(invitation)}")

    assert page.status_code == 200
    assert "How were Tito Paz's sessions in October 2026?" in text_of(body(page))


def test_opening_is_recorded_on_the_first_visit_only(app, client):
    invitation, token, _ = invited()
    assert client.head(f"/survey/{token}").status_code == 200  # a link checker is not a visit
    db.session.expire_all()
    assert invitation.opened_at is None

    client.get(f"/survey/{token}")
    db.session.expire_all()
    first = invitation.opened_at
    assert first is not None

    client.get(f"/survey/{token}")
    db.session.expire_all()
    assert invitation.opened_at == first
    assert invitation.answered_at is None


def test_the_page_loads_nothing_from_another_host(app, client):
    _, token, _ = invited()

    page = body(client.get(f"/survey/{token}"))

    urls = re.findall(r'(?:src|href|action)="([^"]*)"', page)
    assert urls, "the page should at least link its stylesheet"
    assert all(url.startswith(("/", "#", "data:")) and not url.startswith("//") for url in urls), urls
    # The link's token and the CSRF token are random: one may spell "cdn" or "http" by chance.
    text = re.sub(r'value="[^"]*"', "", page.replace(token, "")).lower()
    assert "http" not in text.replace("http-equiv", "")
    assert "cdn" not in text
    assert "<script" not in page
    [stylesheet] = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    css = client.get(stylesheet)
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert not re.search(r"@import|url\(|https?:", css.get_data(as_text=True))


# Answering


def test_an_answer_is_stored_once_then_the_link_is_gone(app, client):
    invitation, token, (ana, bruno) = invited(therapists=("Ana Ruiz", "Bruno Díaz"))
    form = {f"stars-{ana.id}": "5", f"stars-{bruno.id}": "3", "nps": "9", "comment": "  Muy buena atención.  "}

    sent = client.post(f"/survey/{token}", data=form)

    assert sent.status_code == 303
    assert sent.headers["Location"].endswith("/survey/thanks?lang=en")
    assert (sent.headers["Referrer-Policy"], sent.headers["Cache-Control"]) == ("no-referrer", "no-store")
    thanks = client.get(sent.headers["Location"])
    assert thanks.status_code == 200
    assert "Thank you!" in text_of(body(thanks))
    assert_private(thanks)
    assert responses() == 1
    response = db.session.scalar(select(SurveyResponse))
    assert (response.invitation_id, response.month, response.nps_score) == (invitation.id, OCTOBER, 9)
    assert response.comment == "Muy buena atención."
    assert {rating.therapist_id: rating.stars for rating in response.ratings} == {ana.id: 5, bruno.id: 3}
    assert invitation.answered_at is not None

    again = client.post(f"/survey/{token}", data={**form, "nps": "0"})
    assert again.status_code == 404
    assert GONE_TEXT in text_of(body(again))
    assert responses() == 1
    assert db.session.scalar(select(SurveyResponse.nps_score)) == 9
    assert client.get(f"/survey/{token}").status_code == 404


def test_the_thank_you_page_speaks_the_invitations_language(app, client):
    _, token, seen = invited(language="es")

    sent = client.post(f"/survey/{token}", data=answers(seen), headers={"Accept-Language": "en"})

    assert sent.headers["Location"].endswith("/survey/thanks?lang=es")
    assert '<html lang="es">' in body(client.get(sent.headers["Location"], headers={"Accept-Language": "en"}))


def test_a_missing_score_shows_the_form_again_with_the_answers_kept(app, client):
    invitation, token, (ana,) = invited()

    page = client.post(f"/survey/{token}", data=answers([ana], stars="4", nps=None, comment="Good"))

    assert page.status_code == 400
    html = body(page)
    assert "Choose a number from 0 to 10." in text_of(field_block(html, "nps"))
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#nps"' in summary and "Choose a number from 0 to 10." in text_of(summary)
    assert checked_values(html, f"stars-{ana.id}") == ["4"]
    assert ">Good</textarea>" in html
    assert_private(page)
    assert responses() == 0
    db.session.expire_all()
    assert invitation.answered_at is None

    assert client.post(f"/survey/{token}", data=answers([ana], stars="4", nps="7")).status_code == 303
    assert responses() == 1


def test_a_star_value_out_of_range_is_refused(app, client):
    _, token, (ana,) = invited()

    page = client.post(f"/survey/{token}", data=answers([ana], stars="9", nps="10"))

    assert page.status_code == 400
    html = body(page)
    assert "Choose from 1 to 5 stars." in text_of(field_block(html, f"stars-{ana.id}"))
    assert checked_values(html, "nps") == ["10"]
    assert checked_values(html, f"stars-{ana.id}") == []
    assert responses() == 0


def test_a_too_long_comment_is_refused(app, client):
    _, token, seen = invited()

    page = client.post(f"/survey/{token}", data=answers(seen, comment="x" * 2001))

    assert page.status_code == 400
    assert "The comment is too long (at most 2000 characters)." in text_of(field_block(body(page), "comment-field"))
    assert responses() == 0


def test_the_comment_is_stored_as_text_and_shown_escaped(app, client):
    _, token, seen = invited()
    script = "<script>alert(1)</script>"

    again = client.post(f"/survey/{token}", data=answers(seen, nps=None, comment=script))

    assert again.status_code == 400
    html = body(again)
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html

    assert client.post(f"/survey/{token}", data=answers(seen, comment=script)).status_code == 303
    assert db.session.scalar(select(SurveyResponse.comment)) == script


def test_a_survey_with_a_therapist_name_to_escape(app, client):
    _, token, _ = invited(therapists=("<b>Ana</b>",), full_name="Zoe")

    html = body(client.get(f"/survey/{token}"))

    assert "<b>Ana</b>" not in html
    assert "&lt;b&gt;Ana&lt;/b&gt;" in html


# Links that do not work


@pytest.mark.parametrize("clock", ["2026-11-20T15:00Z"], indirect=True)  # October, surveyed, has ended
def test_unknown_expired_and_used_links_answer_the_same_page(app, client, clock):
    expired, expired_token, _ = invited(full_name="Expired")
    expired.expires_at = clock.now() - dt.timedelta(minutes=1)
    used, used_token, used_seen = invited(full_name="Used")
    surveys.submit(db.session, used, stars={used_seen[0].id: "5"}, nps="10", comment=None)
    db.session.commit()
    unknown_token = expired_token[:-4] + ("AAAA" if not expired_token.endswith("AAAA") else "BBBB")
    language = {"Accept-Language": "en"}

    pages = {
        name: client.get(f"/survey/{token}", headers=language)
        for name, token in {
            "unknown": unknown_token,
            "malformed": "x" * 300,
            "expired": expired_token,
            "used": used_token,
        }.items()
    }
    posts = {
        name: client.post(f"/survey/{token}", data={"nps": "5"}, headers=language)
        for name, token in {"unknown": unknown_token, "expired": expired_token, "used": used_token}.items()
    }

    first = pages["unknown"]
    assert first.status_code == 404
    assert GONE_TEXT in text_of(body(first))
    assert_private(first)
    for response in [*pages.values(), *posts.values()]:
        assert response.status_code == first.status_code
        assert body(response) == body(first)
    assert responses() == 1  # only the one answered above
    assert expired.opened_at is None


def test_the_gone_page_speaks_the_browsers_language(app, client):
    page = client.get("/survey/nothing-here", headers={"Accept-Language": "fr-CA,fr;q=0.9"})

    assert page.status_code == 404
    assert '<html lang="fr">' in body(page)


# Guessing


def test_repeated_failed_lookups_from_one_address_are_stopped(app, database_url):
    strict = make_app(database_url, SURVEY_GUESS_LIMIT="3 per hour")
    limiter.reset()
    first, first_token, seen = invited(full_name="First")
    second, second_token, _ = invited(full_name="Second")
    guesser = strict.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    neighbour = strict.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "198.51.100.9"

    for _ in range(5):  # opening and re-showing a valid form never counts
        assert guesser.get(f"/survey/{first_token}").status_code == 200
    assert guesser.post(f"/survey/{first_token}", data={"nps": "5"}).status_code == 400
    for n in range(3):
        assert guesser.get(f"/survey/guess-{n}").status_code == 404

    blocked = guesser.get("/survey/guess-4", headers={"Accept-Language": "en"})
    assert blocked.status_code == 429
    assert "Too many attempts, try again later." in text_of(body(blocked))
    assert_private(blocked)
    # Once blocked, a valid link answers the same: a guesser cannot tell a hit from a miss.
    assert guesser.get(f"/survey/{second_token}").status_code == 429
    assert guesser.post(f"/survey/{first_token}", data=answers(seen)).status_code == 429
    db.session.expire_all()
    assert second.opened_at is None
    assert responses() == 0

    # Another address is not affected, and its real client can still answer.
    assert neighbour.get(f"/survey/{second_token}").status_code == 200
    assert neighbour.get("/survey/guess-5").status_code == 404
    assert neighbour.post(f"/survey/{first_token}", data=answers(seen)).status_code == 303
    assert responses() == 1

    # Other pages are not limited.
    assert guesser.get("/login").status_code == 200


# CSRF


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def test_a_post_without_a_valid_csrf_token_stores_nothing(app, csrf_app):
    limiter.reset()
    _, token, seen = invited()
    visitor = csrf_app.test_client()
    form_page = visitor.get(f"/survey/{token}")

    missing = visitor.post(f"/survey/{token}", data=answers(seen, stars="2", comment="Hola"))
    forged = visitor.post(f"/survey/{token}", data=answers(seen, csrf_token="forged"))

    assert missing.status_code == 400 and forged.status_code == 400
    html = body(missing)
    assert "Your answers were not saved because the page had expired." in text_of(html)
    assert checked_values(html, f"stars-{seen[0].id}") == ["2"]
    assert ">Hola</textarea>" in html
    assert responses() == 0

    sent = visitor.post(f"/survey/{token}", data=answers(seen, csrf_token=csrf_token(form_page)))
    assert sent.status_code == 303
    assert responses() == 1


def test_over_https_the_form_is_accepted_without_a_referrer(app, csrf_app):
    """The page asks browsers to send no referrer, so the HTTPS referrer check must not apply."""
    limiter.reset()
    _, token, seen = invited()
    visitor = csrf_app.test_client()
    form_page = visitor.get(f"/survey/{token}", base_url="https://localhost")

    sent = visitor.post(
        f"/survey/{token}", data=answers(seen, csrf_token=csrf_token(form_page)), base_url="https://localhost"
    )

    assert sent.status_code == 303
    assert responses() == 1


def test_with_redis_the_counts_are_shared_through_it(app, database_url, redis_url):
    """Several web processes must see one count: with REDIS_URL the limiter keeps it in Redis."""
    shared = make_app(database_url, REDIS_URL=redis_url, SURVEY_GUESS_LIMIT="2 per hour")
    store = redis.Redis.from_url(redis_url)
    guesser = shared.test_client()

    assert [guesser.get(f"/survey/guess-{n}").status_code for n in range(3)] == [404, 404, 429]
    assert store.keys("LIMITS*"), "no rate-limit counter in Redis"
    store.close()
