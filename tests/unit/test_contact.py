"""Contact details as the practice keeps them: E.164 phones read in PHONE_REGION, lower-case emails."""

from __future__ import annotations

import pytest

from admin_app.services.platform.contact import normalise_email, normalise_phone
from admin_app.services.platform.errors import RuleViolation


@pytest.mark.parametrize(
    ("region", "typed", "stored"),
    [
        ("PE", "987 654 321", "+51987654321"),  # a Lima mobile
        ("PE", "(01) 411 2233", "+5114112233"),  # a Lima landline with its trunk prefix
        ("PE", "+1 (604) 682-3333", "+16046823333"),  # an international number stays itself
        ("CA", "(604) 682-3333", "+16046823333"),
        ("CA", "604.682.3333", "+16046823333"),
    ],
)
def test_a_phone_is_stored_in_e164(practice_in, region, typed, stored):
    with practice_in(PHONE_REGION=region):
        assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12", "phone", "+1 555 0100", "987 654 32"])
def test_a_number_that_cannot_be_dialled_is_refused_naming_the_field(practice_in, typed):
    with practice_in(PHONE_REGION="PE"), pytest.raises(RuleViolation) as refused:
        normalise_phone(typed, field="Teléfono")

    assert refused.value.field == "Teléfono"
    assert str(refused.value) == f"Teléfono: {typed} is not a valid phone number"


def test_no_phone_is_none(practice_in):
    with practice_in(PHONE_REGION="PE"):
        assert normalise_phone(None) is None
        assert normalise_phone("   ") is None


def test_an_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Ana.Quispe@Example.COM ") == "ana.quispe@example.com"
    assert normalise_email("") is None


@pytest.mark.parametrize("typed", ["ana", "ana@", "@example.com", "ana@@example.com", "ana example@x.pe"])
def test_a_malformed_email_is_refused_naming_the_field(typed):
    with pytest.raises(RuleViolation) as refused:
        normalise_email(typed)
    assert refused.value.field == "email"
    assert str(refused.value) == f"email: {typed} is not a valid email address"


def test_a_required_email_cannot_be_empty():
    with pytest.raises(RuleViolation, match="an email address is required"):
        normalise_email(" ", required=True)
