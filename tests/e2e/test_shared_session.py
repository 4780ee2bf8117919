"""Journey 6: a couple or family session on the new-appointment form, in the demo's Spanish UI.

Choose a client with a partner; the form offers the partner as a chip; a click adds them and, before
anything is saved, the kind reads "Pareja" and each fee is the partner's share of the therapist's
fee (half each); a second click takes the partner out again (individual, the whole fee); saved, the
appointment has both partners at their share. A child and their guardian make a family, and a fee
typed by hand stays as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import aliased

from admin_app.extensions import db
from admin_app.models import (
    Appointment,
    AssignmentKind,
    CareAssignment,
    Client,
    ClientLink,
    LinkKind,
    Participant,
    Therapist,
)
from admin_app.services.platform.money import format_money
from tests.e2e.conftest import ADMIN
from tests.e2e.helpers import alerts, assert_accessible, clinic_today, follow, log_in, next_sunday, pick_from_search


@dataclass(frozen=True)
class Household:
    client: str  # booked first
    relative: str  # offered as a chip
    therapist: str  # the client's own
    fee: Decimal  # the therapist's fee for a session
    currency: str


def household(app_db, kind: LinkKind, *, booked_side: str) -> Household:
    """A demo household linked by `kind` whose booked client (`client` or `related` side of the
    link) is in the active care of an active therapist (read from the database)."""
    with app_db.app_context():
        one, other = aliased(Client), aliased(Client)
        booked, relative = (one, other) if booked_side == "client" else (other, one)
        row = db.session.execute(
            select(
                booked.full_name,
                relative.full_name,
                Therapist.full_name,
                Therapist.default_fee,
                Therapist.default_currency,
            )
            .select_from(ClientLink)
            .join(one, one.id == ClientLink.client_id)
            .join(other, other.id == ClientLink.related_client_id)
            .join(CareAssignment, CareAssignment.client_id == booked.id)
            .join(Therapist, Therapist.id == CareAssignment.therapist_id)
            .where(
                ClientLink.kind == kind,
                one.active,
                other.active,
                CareAssignment.active,
                CareAssignment.kind == AssignmentKind.DIRECT,
                Therapist.active,
            )
            .order_by(ClientLink.id)
            .limit(1)
        ).one()
        db.session.remove()
    return Household(*row)


def shown(app_db, amount: Decimal, currency: str) -> str:
    """The amount as the Spanish screens show it ("S/ 130.00")."""
    with app_db.app_context():
        return format_money(amount, currency, "es")


def half(fee: Decimal) -> str:
    """A demo fee is whole, so each of two shares is exactly half of it."""
    assert fee == fee.to_integral_value(), fee
    return f"{fee / 2:.2f}"


def start_booking(page: Page, found: Household) -> None:
    """The new-appointment form with the first client chosen and the defaults filled in."""
    page.goto("/admin/appointment/new/")
    page.locator("#participants-button").click()
    pick_from_search(page, "participants-0-client", found.client, found.client)
    expect(page.locator("#s2id_therapist .select2-chosen")).to_have_text(found.therapist)
    expect(page.locator("#participants-0-fee")).to_have_value(f"{found.fee:.2f}")


def chip(page: Page, name: str):
    return page.locator("#linked-suggestions button", has_text=name)


def test_a_partner_added_from_the_chip_makes_a_couple_sharing_one_fee(browser, app_db, screenshots):
    couple = household(app_db, LinkKind.PARTNER_OF, booked_side="client")
    page = browser.page()
    log_in(page, *ADMIN)
    start_booking(page, couple)
    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Individual")

    chip(page, couple.relative).click()

    # Before saving: the partner's row, the kind and both shares, and what they add up to.
    expect(page.locator("#s2id_participants-1-client .select2-chosen")).to_have_text(couple.relative)
    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Pareja")
    expect(page.locator("#participants-0-fee")).to_have_value(half(couple.fee))
    expect(page.locator("#participants-1-fee")).to_have_value(half(couple.fee))
    expect(page.locator("#s2id_participants-1-currency .select2-chosen")).to_have_text(couple.currency)
    expect(page.locator("#fee-split")).to_contain_text(shown(app_db, couple.fee, couple.currency))
    expect(chip(page, couple.relative)).to_have_attribute("aria-pressed", "true")
    assert_accessible(page, exclude=(".select2-choice",))  # see test_staff_day.py for Select2's boxes
    screenshots.page(page, "couple-session", full_page=True)

    # The chip again: the partner leaves, the session is individual at the whole fee.
    chip(page, couple.relative).click()
    expect(page.locator("#participants-1-fee")).to_have_count(0)
    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Individual")
    expect(page.locator("#participants-0-fee")).to_have_value(f"{couple.fee:.2f}")
    expect(page.locator("#fee-split")).to_have_text("")

    # And back in, then saved on a free evening (the demo practice works Monday to Saturday).
    chip(page, couple.relative).click()
    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Pareja")
    expect(page.locator("#participants-1-fee")).to_have_value(half(couple.fee))
    # The Sunday after next: the staff's journey closes next Sunday and counts its appointments.
    day = next_sunday(clinic_today()) + dt.timedelta(days=7)
    page.locator("#starts_at").fill(f"{day.isoformat()}T18:00")
    follow(page, page.locator("form.admin-form input[type=submit]").first)
    expect(page.locator(".alert-success")).to_contain_text("creado correctamente")
    assert not alerts(page, "danger"), alerts(page)

    with app_db.app_context():
        appointment = db.session.scalar(
            select(Appointment)
            .join(Participant)
            .join(Client)
            .where(Client.full_name == couple.client)
            .order_by(Appointment.id.desc())
            .limit(1)
        )
        saved = (
            appointment.kind.value,
            sorted((p.client.full_name, f"{p.fee:.2f}", p.currency) for p in appointment.participants),
        )
        appointment_id = appointment.id
        db.session.remove()
    share = half(couple.fee)
    assert saved == (
        "couple",
        sorted([(couple.client, share, couple.currency), (couple.relative, share, couple.currency)]),
    )
    page.goto(f"/admin/appointment/details/?id={appointment_id}")
    share_shown = shown(app_db, Decimal(share), couple.currency)
    expect(page.locator("table")).to_contain_text(f"{couple.client} · Pendiente · {share_shown}")
    expect(page.locator("table")).to_contain_text(f"{couple.relative} · Pendiente · {share_shown}")


def test_a_guardian_added_from_the_chip_makes_a_family_and_a_typed_fee_stays(browser, app_db):
    family = household(app_db, LinkKind.GUARDIAN_OF, booked_side="related")  # the child is booked
    page = browser.page()
    log_in(page, *ADMIN)
    start_booking(page, family)
    page.locator("#participants-0-fee").fill("100.00")  # typed by hand: never replaced

    chip(page, family.relative).click()

    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Familiar")
    expect(page.locator("#participants-1-fee")).to_have_value(half(family.fee))
    expect(page.locator("#participants-0-fee")).to_have_value("100.00")

    chip(page, family.relative).click()
    expect(page.locator("#s2id_kind .select2-chosen")).to_have_text("Individual")
    expect(page.locator("#participants-0-fee")).to_have_value("100.00")
