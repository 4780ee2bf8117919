"""One fee for a shared session, split; and the kind of session the clients' links make. No database."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from admin_app.models import AppointmentKind, LinkKind
from admin_app.services.platform.money import shared_fees
from admin_app.services.scheduling.booking import kind_of_session


@pytest.mark.parametrize(
    ("fee", "currency", "participants", "shares"),
    [
        ("130.00", "PEN", 1, ["130.00"]),
        ("130.00", "PEN", 2, ["65.00", "65.00"]),
        ("130.01", "PEN", 2, ["65.01", "65.00"]),  # the odd cent to the first partner
        ("100.00", "USD", 3, ["33.34", "33.33", "33.33"]),
        ("100.01", "USD", 3, ["33.34", "33.34", "33.33"]),
        ("0.01", "PEN", 2, ["0.01", "0.00"]),
        ("0.00", "PEN", 2, ["0.00", "0.00"]),
        ("125.005", "PEN", 2, ["62.51", "62.50"]),  # the fee itself rounded half-up first
        ("25001", "CLP", 2, ["12501", "12500"]),  # no cents in pesos
        ("25001", "clp", 2, ["12501", "12500"]),
    ],
)
def test_one_fee_is_split_in_equal_shares_that_add_up_to_it(fee, currency, participants, shares):
    split = shared_fees(Decimal(fee), currency, participants)

    assert [str(share) for share in split] == shares
    assert sum(split) == Decimal(fee).quantize(Decimal(shares[0]), rounding=ROUND_HALF_UP)


def test_nobody_shares_nothing():
    assert shared_fees(Decimal("130.00"), "PEN", 0) == []


ANA, LUIS, MATEO, SOFIA, OTRO = 1, 2, 3, 4, 5
LINKS = [
    (ANA, LUIS, LinkKind.PARTNER_OF),
    (ANA, MATEO, LinkKind.GUARDIAN_OF),
    (SOFIA, MATEO, LinkKind.SIBLING_OF),
]


@pytest.mark.parametrize(
    ("clients", "kind"),
    [
        ((ANA,), AppointmentKind.INDIVIDUAL),
        ((ANA, ANA), AppointmentKind.INDIVIDUAL),
        ((ANA, LUIS), AppointmentKind.COUPLE),
        ((LUIS, ANA), AppointmentKind.COUPLE),  # a link reads from either side
        ((MATEO, ANA), AppointmentKind.FAMILY),  # child and guardian
        ((SOFIA, MATEO), AppointmentKind.FAMILY),  # siblings
        ((ANA, LUIS, MATEO), AppointmentKind.FAMILY),  # a couple and their child
        ((SOFIA, MATEO, ANA, LUIS), AppointmentKind.FAMILY),  # related through one another
        ((ANA, OTRO), AppointmentKind.GROUP),
        ((ANA, LUIS, OTRO), AppointmentKind.GROUP),  # a couple and a friend
        ((LUIS, SOFIA, OTRO), AppointmentKind.GROUP),
    ],
)
def test_the_kind_follows_from_the_links_between_the_clients(clients, kind):
    assert kind_of_session(clients, LINKS) == kind
