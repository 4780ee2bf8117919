"""The survey screens: invitations and responses for the staff, the results page with its send form,
and a therapist's own ratings in the portal.

The practice of these tests (Lima time), answers written as the survey stores them:

- September 2026: Fabio saw Bruno; answered 7 (Bruno 3 stars, "Only about Bruno").
- October 2026: Carla saw Ana and Bruno, answered 10 (Ana 5, Bruno 4); Diego saw Ana, answered 9
  (Ana 4, comment "<b>x</b>"); Elena saw Ana, answered 3 (Ana 2); Hugo saw Ana and did not answer.
  NPS = 100 x 2/3 - 100 x 1/3 = 33.3; Ana's average 11/3 = 3.67 (3 ratings).
- November 2026: Gabriela was invited and did not answer (an NPS of "—", not 0).
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.models import ClientLink, LinkKind, SurveyInvitation
from admin_app.services.platform.months import Month
from admin_app.services.surveys import invitations as surveys
from admin_app.services.surveys import results as survey_results
from tests.conftest import login, make_app
from tests.factories import (
    PASSWORD,
    make_admin,
    make_answer,
    make_appointment,
    make_client,
    make_invitation,
    make_therapist,
    make_therapist_user,
)
from tests.integration.test_lists import filter_arg
from tests.pages import body, csrf_token, detail_fields, flashed, list_rows, row_ids, run_link, run_result, text_of
from tests.queries import counted_queries

INVITATIONS, RESPONSES, RESULTS = "/admin/survey-invitations/", "/admin/survey-responses/", "/admin/survey-results/"
MY_RATINGS = "/portal/ratings/"
PERIOD = "?from=2026-09&to=2026-11"
AFTER_THE_DATA = "2026-12-10T15:00Z"  # a present for the tests whose data is dated: after every date in it
LONG_COMMENT = "Very kind and punctual. " * 8 + "The end."


def utc(month: int, day: int, hour: int = 15, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def practice(app):
    ana, bruno = make_therapist(full_name="Ana Ruiz"), make_therapist(full_name="Bruno Díaz")
    make_therapist_user(ana)
    make_therapist_user(bruno)
    names = ("Carla Quispe", "Diego Flores", "Elena Paz", "Fabio Rojas", "Gabriela Soto", "Hugo Vera")
    carla, diego, elena, fabio, gabriela, hugo = (make_client(full_name=name) for name in names)
    invitations = {
        "fabio": make_invitation(fabio, "2026-09"),
        "carla": make_invitation(carla, "2026-10"),
        "diego": make_invitation(diego, "2026-10"),
        "elena": make_invitation(elena, "2026-10"),
        "hugo": make_invitation(hugo, "2026-10"),
        "gabriela": make_invitation(gabriela, "2026-11"),
    }
    answers = SimpleNamespace(
        fabio=make_answer(invitations["fabio"], 7, {bruno: 3}, "Only about Bruno", utc(10, 2)),
        carla=make_answer(invitations["carla"], 10, {ana: 5, bruno: 4}, LONG_COMMENT, utc(11, 2)),
        diego=make_answer(invitations["diego"], 9, {ana: 4}, "<b>x</b>", utc(11, 3)),
        elena=make_answer(invitations["elena"], 3, {ana: 2}, "Always late", utc(11, 4)),
    )
    db.session.commit()
    return SimpleNamespace(ana=ana, bruno=bruno, invitations=invitations, answers=answers)


def as_therapist(client, therapist):
    assert login(client, therapist.email).status_code == 302
    return client


# --- responses -----------------------------------------------------------------------------------


def test_the_responses_list_shows_score_stars_shortened_comment_and_client(admin_client, practice):
    response = admin_client.get(RESPONSES)

    assert response.status_code == 200
    rows = list_rows(response)
    assert [row["client"] for row in rows] == ["Elena Paz", "Diego Flores", "Carla Quispe", "Fabio Rojas"]
    elena, diego, carla, fabio = rows
    assert (elena["month"], elena["nps_score"], elena["ratings"]) == ("2026-10", "3", "Ana Ruiz: 2★")
    assert elena["submitted_at"] == "2026-11-04 10:00"  # clinic time
    assert carla["ratings"] == "Ana Ruiz: 5★; Bruno Díaz: 4★"
    assert carla["comment"].startswith("Very kind and punctual.") and carla["comment"].endswith("…")
    assert len(carla["comment"]) <= 80
    assert diego["comment"] == "<b>x</b>"  # the text, shown as text
    assert fabio["month"] == "2026-09"
    page = body(response)
    assert "Surveys" in page and "Responses" in page and "Invitations" in page and "Results" in page  # the menu


def test_a_comment_is_escaped_in_the_list_and_on_the_details_page_which_shows_it_whole(admin_client, practice):
    listing = body(admin_client.get(RESPONSES))
    assert "<b>x</b>" not in listing and "&lt;b&gt;x&lt;/b&gt;" in listing

    details = admin_client.get(f"{RESPONSES}details/?id={practice.answers.diego.id}")
    assert details.status_code == 200
    assert "<b>x</b>" not in body(details) and "&lt;b&gt;x&lt;/b&gt;" in body(details)
    fields = detail_fields(details)
    assert fields["Comment"] == "<b>x</b>"
    assert fields["NPS group"] == "Promoter (9–10)"
    assert fields["Client"] == "Diego Flores" and fields["Sent to"] == "Diego Flores"

    whole = detail_fields(admin_client.get(f"{RESPONSES}details/?id={practice.answers.carla.id}"))
    assert whole["Comment"] == LONG_COMMENT.strip()


def test_the_month_therapist_and_nps_group_filters_narrow_the_responses(admin_client, practice):
    page = admin_client.get(RESPONSES)
    answers = practice.answers
    assert '["2026-10", "2026-10"]' in body(page)  # months that have responses are the choices

    month = filter_arg(page, "Month", "equals")
    assert row_ids(admin_client.get(f"{RESPONSES}?{month}=2026-09")) == {answers.fabio.id}
    therapist = filter_arg(page, "Therapist", "equals")
    assert row_ids(admin_client.get(f"{RESPONSES}?{therapist}={practice.bruno.id}")) == {
        answers.fabio.id,
        answers.carla.id,
    }
    assert row_ids(admin_client.get(f"{RESPONSES}?{therapist}={practice.ana.id}&{month}=2026-10")) == {
        answers.carla.id,
        answers.diego.id,
        answers.elena.id,
    }
    group = filter_arg(page, "NPS group", "equals")
    assert row_ids(admin_client.get(f"{RESPONSES}?{group}=promoter")) == {answers.carla.id, answers.diego.id}
    assert row_ids(admin_client.get(f"{RESPONSES}?{group}=passive")) == {answers.fabio.id}
    assert row_ids(admin_client.get(f"{RESPONSES}?{group}=detractor")) == {answers.elena.id}
    # A value that is not one of the choices is ignored, never an error page.
    assert admin_client.get(f"{RESPONSES}?{therapist}=abc&{group}=angry").status_code == 200


def test_the_responses_list_costs_the_same_queries_for_one_row_or_many(admin_client):
    ana, bruno = make_therapist(), make_therapist()
    make_answer(make_invitation(make_client(), "2026-10"), 8, {ana: 4, bruno: 5}, "fine")
    db.session.commit()
    with counted_queries() as one:
        assert admin_client.get(RESPONSES).status_code == 200
    for n in range(9):
        make_answer(make_invitation(make_client(), "2026-10"), n, {ana: 3, bruno: 2} if n % 2 else {ana: 1})
    db.session.commit()
    with counted_queries() as many:
        assert len(list_rows(admin_client.get(RESPONSES))) == 10

    assert len(many) == len(one)


def test_the_csv_export_has_the_whole_comment_and_no_score_is_lost(admin_client, practice):
    response = admin_client.get(f"{RESPONSES}export/csv/")

    assert response.status_code == 200
    text = body(response)
    assert LONG_COMMENT.strip() in text and "Ana Ruiz: 5★; Bruno Díaz: 4★" in text


# --- invitations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("clock", [AFTER_THE_DATA], indirect=True)
def test_the_invitations_list_shows_who_was_invited_and_what_happened(admin_client, app, clock):
    rosa = make_client(full_name="Rosa Paz")
    tito = make_client(full_name="Tito Paz", email=None)
    db.session.add(ClientLink(client=rosa, related_client=tito, kind=LinkKind.GUARDIAN_OF))
    now = clock.now()
    sent = make_invitation(make_client(full_name="Sent Only"), "2026-10", created_at=now)
    opened = make_invitation(tito, "2026-10", recipient=rosa, created_at=now, opened_at=now)
    answered = make_invitation(make_client(full_name="Has Answered"), "2026-10", created_at=now)
    make_answer(answered, 9, {})
    expired = make_invitation(
        make_client(full_name="Too Late"),
        "2026-09",
        created_at=utc(10, 1, 4, 30),  # 30 September, 23:30 in Lima
        expires_at=utc(10, 31),
    )
    db.session.commit()

    response = admin_client.get(INVITATIONS)

    assert response.status_code == 200
    rows = {row["client"]: row for row in list_rows(response)}
    assert {name: row["state"] for name, row in rows.items()} == {
        "Sent Only": "Not opened",
        "Tito Paz": "Opened, not answered",
        "Has Answered": "Answered",
        "Too Late": "Expired",
    }
    assert rows["Tito Paz"]["recipient"] == "Rosa Paz"  # the guardian got it
    assert rows["Too Late"]["created_at"] == "2026-09-30 23:30" and rows["Too Late"]["month"] == "2026-09"
    assert rows["Too Late"]["opened_at"] == "" and rows["Too Late"]["answered_at"] == ""
    page = body(response)
    for invitation in (sent, opened, answered, expired):
        assert invitation.token_hash not in page and invitation.token_nonce not in page
    details = admin_client.get(f"{INVITATIONS}details/?id={opened.id}")
    assert detail_fields(details)["Sent to"] == "Rosa Paz"
    assert opened.token_hash not in body(details) and opened.token_nonce not in body(details)
    assert "/admin/survey-invitations/edit/" not in page and "/admin/survey-invitations/new/" not in page


def test_the_invitation_filters_month_answered_opened_and_state(admin_client, practice, clock):
    invitations = practice.invitations
    now = clock.now()
    hugo, gabriela = invitations["hugo"], invitations["gabriela"]
    hugo.opened_at, hugo.expires_at = utc(11, 1, 20), now + dt.timedelta(days=3)  # opened, still open
    gabriela.expires_at = now - dt.timedelta(minutes=1)  # never answered, expired
    db.session.commit()
    page = admin_client.get(INVITATIONS)
    assert '["2026-11", "2026-11"]' in body(page)  # months that have invitations are the choices

    month = filter_arg(page, "Month", "equals")
    assert row_ids(admin_client.get(f"{INVITATIONS}?{month}=2026-11")) == {gabriela.id}
    answered = filter_arg(page, "Answered", "equals")
    assert row_ids(admin_client.get(f"{INVITATIONS}?{answered}=0")) == {hugo.id, gabriela.id}
    assert len(row_ids(admin_client.get(f"{INVITATIONS}?{answered}=1"))) == 4
    opened = filter_arg(page, "Opened", "equals")
    assert row_ids(admin_client.get(f"{INVITATIONS}?{opened}=1")) == {hugo.id}
    state = filter_arg(page, "State", "equals")
    assert row_ids(admin_client.get(f"{INVITATIONS}?{state}=opened")) == {hugo.id}
    assert row_ids(admin_client.get(f"{INVITATIONS}?{state}=expired")) == {gabriela.id}
    assert row_ids(admin_client.get(f"{INVITATIONS}?{state}=sent")) == set()
    assert len(row_ids(admin_client.get(f"{INVITATIONS}?{state}=answered"))) == 4
    assert admin_client.get(f"{INVITATIONS}?{month}=October").status_code == 200  # ignored, not an error


def test_the_invitations_list_costs_the_same_queries_for_one_row_or_many(admin_client):
    guardian = make_client()
    make_invitation(make_client(), "2026-10", recipient=guardian)
    db.session.commit()
    with counted_queries() as one:
        assert admin_client.get(INVITATIONS).status_code == 200
    for _ in range(9):
        make_invitation(make_client(), "2026-10", recipient=make_client())
    db.session.commit()
    with counted_queries() as many:
        assert len(list_rows(admin_client.get(INVITATIONS))) == 10

    assert len(many) == len(one)


def test_the_invitations_are_searched_by_client_and_sorted_by_client(admin_client, practice):
    found = admin_client.get(f"{INVITATIONS}?search=Diego")
    assert [row["client"] for row in list_rows(found)] == ["Diego Flores"]
    by_name = admin_client.get(f"{INVITATIONS}?sort=1")  # the second sortable column: client
    assert by_name.status_code == 200
    assert [row["client"] for row in list_rows(by_name)][:2] == ["Carla Quispe", "Diego Flores"]


# --- results -------------------------------------------------------------------------------------


def nps_rows(response) -> dict[str, dict[str, str]]:
    table = re.search(r'<table[^>]*id="nps-table">(.*?)</table>', body(response), re.S).group(1)
    rows = {}
    for month, row in re.findall(r'<tr data-month="([^"]+)">(.*?)</tr>', table, re.S):
        rows[month] = {
            name: text_of(value) for name, value in re.findall(r'<td class="col-(\w+)[^"]*">(.*?)</td>', row)
        }
    return rows


def stars_rows(response) -> dict[str, dict[str, str]]:
    found = re.search(r'<table[^>]*id="stars-table">(.*?)</table>', body(response), re.S)
    if found is None:
        return {}
    rows = {}
    for row in re.findall(r"<tr data-therapist=\"\d+\">(.*?)</tr>", found.group(1), re.S):
        name = text_of(re.search(r"<th[^>]*>(.*?)</th>", row, re.S).group(1))
        rows[name] = {month: text_of(value) for month, value in re.findall(r'data-month="([^"]+)">(.*?)</td>', row)}
    return rows


def test_the_results_page_shows_nps_per_month_computed_by_hand(admin_client, practice):
    response = admin_client.get(RESULTS + PERIOD)

    assert response.status_code == 200
    rows = nps_rows(response)
    assert list(rows) == ["2026-09", "2026-10", "2026-11"]
    october = rows["2026-10"]
    assert (october["invitations"], october["responses"], october["rate"]) == ("4", "3", "75.0%")
    assert (october["promoters"], october["passives"], october["detractors"]) == ("2", "0", "1")
    assert october["nps"] == "33.3"  # 100 x 2/3 - 100 x 1/3
    assert rows["2026-09"]["nps"] == "0.0" and rows["2026-09"]["passives"] == "1"  # one passive: zero, a value
    november = rows["2026-11"]
    assert (november["invitations"], november["responses"], november["nps"]) == ("1", "0", "—")  # not 0


def test_a_month_without_invitations_is_listed_with_no_nps(admin_client, practice):
    rows = nps_rows(admin_client.get(f"{RESULTS}?from=2026-08&to=2026-09"))
    assert rows["2026-08"] == {
        "month": "2026-08",
        "invitations": "0",
        "responses": "0",
        "rate": "—",
        "promoters": "0",
        "passives": "0",
        "detractors": "0",
        "nps": "—",
    }


def test_the_results_page_shows_average_stars_per_therapist_and_month(admin_client, practice):
    response = admin_client.get(RESULTS + PERIOD)

    assert stars_rows(response) == {
        "Ana Ruiz": {"2026-09": "—", "2026-10": "3.67 (3)", "2026-11": "—"},
        "Bruno Díaz": {"2026-09": "3.00 (1)", "2026-10": "4.00 (1)", "2026-11": "—"},
    }
    only_bruno = admin_client.get(f"{RESULTS}{PERIOD}&therapist={practice.bruno.id}")
    assert list(stars_rows(only_bruno)) == ["Bruno Díaz"]
    assert nps_rows(only_bruno)["2026-10"]["nps"] == "33.3"  # the practice's NPS, whoever is chosen
    assert "No ratings in this period." in body(admin_client.get(f"{RESULTS}?from=2025-01&to=2025-03"))
    # Each average is worked out once per language: Spanish writes its own, after the English.
    admin_client.post("/language", data={"locale": "es", "next": RESULTS})
    assert stars_rows(admin_client.get(RESULTS + PERIOD))["Ana Ruiz"]["2026-10"] == "3,67 (3)"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2026-13&to=2026-11", "From: expected a month as YYYY-MM, got 2026-13"),
        ("?from=2026-09&to=soon", "To: expected a month as YYYY-MM, got soon"),
        ("?from=2026-11&to=2026-09", "The period starts after it ends (2026-11 to 2026-09)."),
        ("?from=2000-01&to=2026-09", "Choose a period of at most 60 months."),
    ],
)
def test_a_bad_period_is_explained_and_the_default_period_shown(admin_client, practice, clock, query, message):
    response = admin_client.get(RESULTS + query)

    assert response.status_code == 200
    assert flashed(response) == [message]
    default = survey_results.default_range(clock.today())
    assert list(nps_rows(response))[0] == str(default.first) and list(nps_rows(response))[-1] == str(default.last)
    assert len(nps_rows(response)) == 12


def test_the_period_of_the_query_string_is_escaped_in_the_message(admin_client):
    response = admin_client.get(f"{RESULTS}?from=<script>x</script>")
    assert "<script>x</script>" not in body(response)
    assert flashed(response) == ["From: expected a month as YYYY-MM, got <script>x</script>"]


# --- the send form -------------------------------------------------------------------------------


def submit_send_form(client, month: str, page=None):
    page = page or client.get(RESULTS)
    return client.post(f"{RESULTS}send", data={"month": month, "csrf_token": csrf_token(page)}, follow_redirects=True)


@pytest.mark.parametrize("clock", [AFTER_THE_DATA], indirect=True)
def test_the_send_form_invites_the_month_and_a_second_send_invites_nobody(admin_client, clock):
    therapist = make_therapist()
    carla, diego = make_client(full_name="Carla"), make_client(full_name="Diego")
    opted_out = make_client(survey_opt_out=True)
    make_appointment(therapist, carla, utc(8, 4))
    make_appointment(therapist, diego, utc(8, 5))
    make_appointment(therapist, opted_out, utc(8, 6))
    make_appointment(therapist, make_client(email=None), utc(8, 7))
    db.session.commit()
    page = admin_client.get(RESULTS)
    default = str(Month.containing(clock.today()).previous())
    chosen = re.search(r'id="send-month" name="month"[^>]*>.*?<option value="([\d-]+)" selected>', body(page), re.S)
    assert chosen.group(1) == default

    response = submit_send_form(admin_client, "2026-08", page)

    assert response.request.path.startswith("/admin/jobs/")  # the run's page, done (no runner in tests)
    assert run_result(response) == (
        "Survey for 2026-08: 2 invited, 0 already invited, 1 opted out, 1 without an email address."
    )
    assert run_link(response, "job-run-back") == RESULTS
    invited = db.session.scalars(select(SurveyInvitation.client_id).where(SurveyInvitation.month == "2026-08"))
    assert set(invited) == {carla.id, diego.id}

    again = submit_send_form(admin_client, "2026-08")
    assert run_result(again) == (
        "Survey for 2026-08: 0 invited, 2 already invited, 1 opted out, 1 without an email address."
    )
    assert db.session.query(SurveyInvitation).count() == 2


@pytest.mark.parametrize("month", ["2026-13", "August", ""])
def test_a_bad_month_in_the_send_form_is_explained_and_nothing_is_sent(admin_client, month):
    make_appointment(make_therapist(), make_client(), utc(8, 4))
    db.session.commit()

    response = submit_send_form(admin_client, month)

    assert response.status_code == 200
    assert flashed(response) == [f"Month: expected a month as YYYY-MM, got {month}".strip()]
    assert db.session.query(SurveyInvitation).count() == 0


@pytest.fixture(scope="module")
def csrf_app(database_url, migrated_app):
    """The app with CSRF checks on, as in production (the rest of the suite turns them off)."""
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def test_the_send_form_needs_the_csrf_token_the_page_gives(app, csrf_app):
    make_admin()
    make_appointment(make_therapist(), make_client(), utc(8, 4))
    db.session.commit()
    browser = csrf_app.test_client()
    token = csrf_token(browser.get("/login"))
    assert browser.post("/login", data={"email": "staff@example.com", "password": PASSWORD, "csrf_token": token})

    forged = browser.post(f"{RESULTS}send", data={"month": "2026-08"})
    assert forged.status_code == 400
    assert db.session.query(SurveyInvitation).count() == 0

    sent = submit_send_form(browser, "2026-08")
    assert run_result(sent).startswith("Survey for 2026-08: 1 invited")
    assert db.session.query(SurveyInvitation).count() == 1


# --- the detractor notice ------------------------------------------------------------------------


def test_a_detractor_notice_links_the_staff_to_the_answer(admin_client, admin_user):
    therapist = make_therapist()
    client = make_client(full_name="Elena Paz")
    make_appointment(therapist, client, utc(10, 5))
    db.session.commit()
    surveys.send_for_month(db.session, Month(2026, 10))
    [invitation] = db.session.query(SurveyInvitation).all()
    answer = surveys.submit(db.session, invitation, stars={therapist.id: "1"}, nps="2", comment="Not good")
    db.session.commit()

    notices = admin_client.get("/admin/notifications/")

    link = f"/admin/survey-responses/details/?id={answer.id}"
    assert link in body(notices)
    fields = detail_fields(admin_client.get(link))
    assert fields["Client"] == "Elena Paz" and fields["NPS group"] == "Detractor (0–6)"


# --- who may see what ----------------------------------------------------------------------------


def test_a_therapist_is_refused_the_staff_survey_screens(client, practice):
    as_therapist(client, practice.ana)

    for url in (
        INVITATIONS,
        RESPONSES,
        f"{RESPONSES}details/?id={practice.answers.diego.id}",
        f"{INVITATIONS}details/?id={practice.invitations['diego'].id}",
        f"{RESPONSES}export/csv/",
        RESULTS,
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(f"{RESULTS}send", data={"month": "2026-10"}).status_code == 403
    assert client.get("/admin/notifications/").status_code == 403


def test_an_admin_is_refused_the_therapists_ratings(admin_client):
    assert admin_client.get(MY_RATINGS).status_code == 403


# --- a therapist's own ratings -------------------------------------------------------------------


def my_months(response) -> dict[str, dict]:
    sections = re.findall(r'<section class="card[^"]*" data-month="([^"]+)">(.*?)</section>', body(response), re.S)
    return {
        month: {
            "average": text_of(re.search(r'<span class="ml-auto survey-average">(.*?)</span>', part, re.S).group(1)),
            "comments": [
                text_of(c) for c in re.findall(r'<li class="list-group-item survey-comment">(.*?)</li>', part, re.S)
            ],
        }
        for month, part in sections
    }


def test_a_therapist_sees_their_own_averages_and_comments_without_names(client, practice):
    as_therapist(client, practice.ana)

    response = client.get(MY_RATINGS + PERIOD)

    assert response.status_code == 200
    assert my_months(response) == {
        "2026-10": {
            "average": "Average stars: 3.67 (3)",
            # By text, not by time: the order does not tell who answered when.
            "comments": ["<b>x</b>", "Always late", LONG_COMMENT.strip()],
        }
    }
    page = body(response)
    assert "October 2026" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    for name in ("Carla Quispe", "Diego Flores", "Elena Paz", "Hugo Vera"):
        assert name not in page
    assert "Only about Bruno" not in page  # Fabio's answer rated Bruno only
    assert "NPS" not in page  # nor any recommendation score
    assert "My ratings" in page  # in the portal menu


def test_another_therapist_sees_only_the_answers_that_rated_them(client, practice):
    as_therapist(client, practice.bruno)

    months = my_months(client.get(MY_RATINGS + PERIOD))

    assert months == {
        "2026-10": {"average": "Average stars: 4.00 (1)", "comments": [LONG_COMMENT.strip()]},
        "2026-09": {"average": "Average stars: 3.00 (1)", "comments": ["Only about Bruno"]},
    }


@pytest.fixture(scope="module")
def named_app(database_url, migrated_app):
    """The app of a practice whose therapists may know who wrote a comment."""
    return make_app(database_url, SURVEY_ANONYMOUS_TO_THERAPISTS=False)


def test_with_anonymity_off_the_therapist_sees_the_clients_name(app, named_app, practice):
    browser = as_therapist(named_app.test_client(), practice.ana)

    response = browser.get(MY_RATINGS + PERIOD)

    assert response.status_code == 200
    page = body(response)
    for name in ("Carla Quispe", "Diego Flores", "Elena Paz"):
        assert name in page
    assert "Only about Bruno" not in page and "Fabio Rojas" not in page
    comments = my_months(response)["2026-10"]["comments"]
    assert comments[0] == f"{LONG_COMMENT.strip()} Carla Quispe"  # in the order of answering


def test_a_therapist_without_ratings_reads_that_there_are_none(client, practice):
    newcomer = make_therapist()
    make_therapist_user(newcomer)
    db.session.commit()
    as_therapist(client, newcomer)

    response = client.get(MY_RATINGS + PERIOD)

    assert response.status_code == 200
    assert "No ratings in this period." in body(response)
    assert "Carla" not in body(response) and "Always late" not in body(response)


def test_a_bad_period_in_the_portal_is_explained(client, practice):
    as_therapist(client, practice.ana)
    response = client.get(f"{MY_RATINGS}?from=2026-9x")
    assert response.status_code == 200
    assert flashed(response) == ["From: expected a month as YYYY-MM, got 2026-9x"]
