"""Payer settings as the staff enter them: a name, a valid billing email, payment terms a payer can
have."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin_app.models import Payer
from admin_app.services.platform.contact import normalise_email
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import field_label

MAX_TERMS_DAYS = 365


def prepare_payer(session: Session, payer: Payer) -> Payer:
    """Normalise and check a payer about to be saved; raises RuleViolation naming the field."""
    payer.name = (payer.name or "").strip()
    if not payer.name:
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label("name")), field="name")
    payer.billing_email = normalise_email(payer.billing_email, field=str(field_label("billing_email")))
    payer.provider_number = (payer.provider_number or "").strip() or None
    if payer.payment_terms_days is None:
        payer.payment_terms_days = 30
    if not 0 <= payer.payment_terms_days <= MAX_TERMS_DAYS:
        raise RuleViolation(
            _l("%(field)s: from 0 to %(max)d days", field=field_label("payment_terms_days"), max=MAX_TERMS_DAYS),
            field="payment_terms_days",
        )
    query = select(Payer.id).where(func.lower(Payer.name) == payer.name.lower())
    if payer.id is not None:
        query = query.where(Payer.id != payer.id)
    with session.no_autoflush:
        if session.scalar(query) is not None:
            raise RuleViolation(
                _l("%(field)s: %(value)s is already a payer", field=field_label("name"), value=payer.name),
                field="name",
            )
    return payer


def payer_id_named(session: Session, name: str) -> int:
    """The id of the payer called `name` (any case), or a RuleViolation naming it."""
    payer_id = session.scalar(select(Payer.id).where(func.lower(Payer.name) == name.strip().lower()))
    if payer_id is None:
        raise RuleViolation(_l("No payer is called %(name)s.", name=name), field="payer")
    return payer_id


def payer_choices(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every payer, by name, for a form's list."""
    return [(row.id, row.name) for row in session.execute(select(Payer.id, Payer.name).order_by(Payer.name))]
