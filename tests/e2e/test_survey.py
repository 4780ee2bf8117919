"""Journey 3: the monthly survey, from the staff's send button to a client's phone and back.

The staff send last month's survey (Surveys → Results); one invitation is taken from the mail sink;
its link, exactly as the email gives it, opens on a phone-sized screen; the client gives stars and a
recommendation score (the radio buttons are drawn as stars and number buttons: they tap the labels),
sees the thank-you page, and the staff find the answer under Surveys → Responses.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import alerts, assert_accessible, follow, last_month, log_in, open_menu, shown_around

SURVEY_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/survey/[A-Za-z0-9_\-.~]+)")


def plain_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_survey_sent_answered_on_a_phone_and_read_by_the_staff(browser, practice, screenshots):
    staff = browser.page()
    log_in(staff, *ADMIN)
    open_menu(staff, "Encuestas", "Resultados")
    month = shown_around(staff.locator("#send-month").input_value, last_month)
    already = len(practice.sink.messages)
    follow(staff, staff.locator("#send-survey"))
    sent = alerts(staff)
    assert any(text.startswith(f"Encuesta de {month}:") for text in sent), sent
    invited = int(re.search(r"(\d+) invitados", " ".join(sent)).group(1))
    assert invited > 0, sent

    # Jobs run in-process (no Redis): every invitation is in the sink once the page is back.
    invitations = [m for m in practice.sink.messages[already:] if SURVEY_LINK.search(plain_text(m))]
    assert len(invitations) == invited, (len(invitations), invited)
    invitation = next(m for m in invitations if plain_text(m).startswith("Hola"))  # one in Spanish
    link = SURVEY_LINK.search(plain_text(invitation)).group(1)
    assert link.startswith(practice.base_url), link

    # The client's phone.
    phone = browser.page(phone=True)
    phone.goto(link)
    expect(phone.locator("h1")).to_contain_text("¿Cómo fueron")
    stars = phone.locator("fieldset.question:has(.stars)")
    assert stars.count() >= 1, "one question per therapist seen"
    assert_accessible(phone)
    for index in range(stars.count()):
        question = stars.nth(index)
        question.locator("label").nth(4).click()  # the fifth star
        expect(question.locator("input[type=radio]").nth(4)).to_be_checked()
    phone.locator("label[for=nps-9]").click()
    expect(phone.locator("#nps-9")).to_be_checked()
    comment = f"Muy buena atención, gracias ({uuid.uuid4().hex[:6]})"
    phone.locator("#comment").fill(comment)
    screenshots.page(phone, "survey-phone")
    follow(phone, phone.get_by_role("button", name="Enviar mis respuestas"))
    expect(phone.locator("h1")).to_have_text("¡Gracias!")
    expect(phone).to_have_url(re.compile(r"/survey/thanks"))

    # The link works once: opened again, it says so (a 404 page, on purpose).
    phone.watch.allow(r"status of 404")
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("Este enlace de la encuesta no funciona")

    # The staff read the answer: Surveys → Responses.
    open_menu(staff, "Encuestas", "Respuestas")
    answer = staff.locator("table.model-list tbody tr", has_text=comment)
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text(month)
    expect(answer.locator("td.col-nps_score")).to_have_text("9")
