"""Rules for client and therapist records: normalised contact data, unique keys, safe deletes."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import (
    CLIENT_NUMBER_SERIES,
    Appointment,
    CareAssignment,
    Client,
    ClientLink,
    ClinicalNote,
    CompensationModel,
    LinkKind,
    Participant,
    ReminderPreference,
    Therapist,
)
from admin_app.services.platform import bounds
from admin_app.services.platform.contact import normalise_email, normalise_phone
from admin_app.services.platform.documents.numbering import next_number, reserve_given_number
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.labels import choice_label, field_label
from admin_app.services.platform.money import check_currency


def _required(value: str | None, field: str) -> str:
    if value is None or not str(value).strip():
        raise RuleViolation(_l("%(field)s: this field is required", field=field_label(field)), field=field)
    return str(value).strip()


def default_reminder_preference(client: Client) -> ReminderPreference:
    """Email when there is an address, SMS when there is only a phone, else none."""
    if client.email:
        return ReminderPreference.EMAIL
    if client.phone:
        return ReminderPreference.SMS
    return ReminderPreference.NONE


def prepare_client(session: Session, client: Client) -> Client:
    """Normalise a client about to be saved and check its keys; raises RuleViolation."""
    client.full_name = _required(client.full_name, "full_name")
    client.national_id = (client.national_id or "").strip().upper() or None
    client.email = normalise_email(client.email, field=str(field_label("email")))
    client.phone = normalise_phone(client.phone, field=str(field_label("phone")))
    bounds.refuse(bounds.birth_date_problem(client.birth_date), "birth_date")
    client.preferred_language = client.preferred_language or current_app.config["DEFAULT_LOCALE"]
    if client.preferred_language not in SUPPORTED_LOCALES:
        raise RuleViolation(
            _l("%(field)s: unsupported language", field=field_label("preferred_language")),
            field="preferred_language",
        )
    if client.reminder_preference is None:
        client.reminder_preference = default_reminder_preference(client)
    _check_client_contact_for_reminders(client)
    check_client_links(session, client)
    if (holder := _other_client_with(session, client, "national_id")) is not None:
        # The staff are told who has it (a typo, or the same person registered twice); a therapist
        # in the portal, who may not care for that client, only that it is taken.
        raise RuleViolation(
            _l(
                "%(field)s: %(value)s is already registered for %(client)s (client %(number)s)",
                field=field_label("national_id"),
                value=client.national_id,
                client=holder.full_name,
                number=holder.client_number,
            ),
            field="national_id",
            discreet=_l(
                "%(field)s: %(value)s is already registered for another client",
                field=field_label("national_id"),
                value=client.national_id,
            ),
        )
    _assign_client_number(session, client)
    return client


def _other_client_with(session: Session, client: Client, key: str):
    """The (id, full_name, client_number) of another client with the same `key`; None when none has it."""
    value = getattr(client, key)
    if value is None:
        return None
    query = select(Client.id, Client.full_name, Client.client_number).where(getattr(Client, key) == value)
    if client.id:
        query = query.where(Client.id != client.id)
    # No autoflush: the record being checked must not be written (and found) before the check.
    with session.no_autoflush:
        return session.execute(query.limit(1)).first()


def _assign_client_number(session: Session, client: Client) -> None:
    """A typed number is kept (and never handed out again); an empty one gets the next of the series."""
    client.client_number = (client.client_number or "").strip() or None
    if client.client_number is None:
        client.client_number = str(next_number(session, CLIENT_NUMBER_SERIES))
        return
    if _other_client_with(session, client, "client_number") is not None:
        raise RuleViolation(
            _l(
                "%(field)s: %(value)s is already the number of another client",
                field=field_label("client_number"),
                value=client.client_number,
            ),
            field="client_number",
        )
    bounds.refuse(bounds.series_number_problem(client.client_number), "client_number")
    reserve_given_number(session, CLIENT_NUMBER_SERIES, client.client_number)


def _check_client_contact_for_reminders(client: Client) -> None:
    needs_email = client.reminder_preference in (ReminderPreference.EMAIL, ReminderPreference.BOTH)
    needs_phone = client.reminder_preference in (ReminderPreference.SMS, ReminderPreference.BOTH)
    if needs_email and not client.email:
        raise RuleViolation(
            _l(
                "%(field)s: reminders by email need an email address",
                field=field_label("reminder_preference"),
            ),
            field="reminder_preference",
        )
    if needs_phone and not client.phone:
        raise RuleViolation(
            _l(
                "%(field)s: reminders by SMS need a phone number",
                field=field_label("reminder_preference"),
            ),
            field="reminder_preference",
        )


def prepare_therapist(session: Session, therapist: Therapist) -> Therapist:
    """Normalise a therapist about to be saved and check compensation and keys."""
    therapist.full_name = _required(therapist.full_name, "full_name")
    therapist.email = normalise_email(therapist.email, field=str(field_label("email")), required=True)
    therapist.phone = normalise_phone(therapist.phone, field=str(field_label("phone")))
    therapist.default_currency = check_currency(
        therapist.default_currency or current_app.config["DEFAULT_CURRENCY"], field="default_currency"
    )
    _check_amount(therapist.default_fee, "default_fee", required=True)
    _check_compensation(therapist)
    _check_credentials(session, therapist)
    query = select(Therapist.id).where(func.lower(Therapist.email) == therapist.email)
    if therapist.id:
        query = query.where(Therapist.id != therapist.id)
    with session.no_autoflush:
        clash = session.scalar(query)
    if clash:
        raise RuleViolation(
            _l(
                "%(field)s: %(value)s is already used by another therapist",
                field=field_label("email"),
                value=therapist.email,
            ),
            field="email",
        )
    return therapist


def _check_amount(amount: Decimal | None, field: str, *, required: bool) -> None:
    if amount is None:
        if required:
            raise RuleViolation(_l("%(field)s: this field is required", field=field_label(field)), field=field)
        return
    bounds.refuse(bounds.amount_problem(amount), field)


def _check_compensation(therapist: Therapist) -> None:
    if therapist.compensation_model == CompensationModel.COMMISSION:
        percent = therapist.commission_percent
        if percent is None or bounds.percent_problem(percent) is not None:
            raise RuleViolation(
                _l(
                    "%(field)s: a commission between 0 and 100 is required",
                    field=field_label("commission_percent"),
                ),
                field="commission_percent",
            )
        therapist.service_fee = None
    elif therapist.compensation_model == CompensationModel.SERVICE_FEE:
        _check_amount(therapist.service_fee, "service_fee", required=True)
        therapist.commission_percent = None
    else:
        raise RuleViolation(
            _l("%(field)s: this field is required", field=field_label("compensation_model")),
            field="compensation_model",
        )


def _check_credentials(session: Session, therapist: Therapist) -> None:
    for name in ("designation", "registration_number", "registration_body"):
        setattr(therapist, name, (getattr(therapist, name) or "").strip() or None)
    therapist.provisional = bool(therapist.provisional)
    _check_supervisor(session, therapist)


def _check_supervisor(session: Session, therapist: Therapist) -> None:
    """A provisional registrant practises under another, active therapist, and only a provisional
    registrant has a supervisor (the database refuses it too)."""
    with session.no_autoflush:
        supervisor = therapist.supervisor or (
            therapist.supervisor_id and session.get(Therapist, therapist.supervisor_id)
        )
    if not therapist.provisional:
        if supervisor is not None:
            raise RuleViolation(
                _l(
                    "%(field)s: only a provisional registrant has a supervisor",
                    field=field_label("supervisor"),
                ),
                field="supervisor",
            )
        return
    if supervisor is None:
        raise RuleViolation(
            _l("%(field)s: a provisional registrant needs a supervisor", field=field_label("supervisor")),
            field="supervisor",
        )
    if supervisor is therapist or (therapist.id is not None and supervisor.id == therapist.id):
        raise RuleViolation(
            _l("%(field)s: a therapist cannot supervise themselves", field=field_label("supervisor")),
            field="supervisor",
        )
    if not supervisor.active:
        raise RuleViolation(
            _l(
                "%(field)s: %(name)s is not active; choose an active therapist",
                field=field_label("supervisor"),
                name=supervisor.full_name,
            ),
            field="supervisor",
        )


def prepare_link(session: Session, link: ClientLink) -> ClientLink:
    """A link saved on its own (the Client links screen): not a self-link, and the only link of
    its kind between the two clients, whichever way round it was entered."""
    client = link.client or (link.client_id and session.get(Client, link.client_id))
    related = link.related_client or (link.related_client_id and session.get(Client, link.related_client_id))
    if client is None or related is None:
        return link  # the form requires both
    _refuse_self_link(client, related)
    pair = [(client.id, related.id), (related.id, client.id)]
    query = select(ClientLink.id).where(
        ClientLink.kind == link.kind,
        or_(*(and_(ClientLink.client_id == a, ClientLink.related_client_id == b) for a, b in pair)),
    )
    if link.id is not None:
        query = query.where(ClientLink.id != link.id)
    with session.no_autoflush:
        if session.scalar(query) is not None:
            raise _already_linked(client, related, link.kind)
    return link


def check_client_links(session: Session, client: Client) -> None:
    """The links on a client's own form, both ways (links and linked from), as that form saves
    them: none to the client themselves, and one link of a kind per pair of clients, whichever
    way round (both clients show it, so a second one would show twice).

    Both lists hold every stored link of the client plus the form's changes, so this needs no
    query; a link the form deletes no longer counts.
    """
    with session.no_autoflush:  # nothing reaches the database before the checks are done
        both_ways = (*client.links, *client.linked_from)
    links = {id(link): link for link in both_ways if link not in session.deleted}
    seen: set[tuple[int, str]] = set()
    for link in links.values():
        if link.client is None or link.related_client is None or link.kind is None:
            continue  # the form requires each field; WTForms says so beside it
        _refuse_self_link(link.client, link.related_client)
        other = link.related_client if link.client is client else link.client
        key = (other.id, str(link.kind))
        if key in seen:
            raise _already_linked(client, other, link.kind)
        seen.add(key)


def _refuse_self_link(client: Client, related: Client) -> None:
    if client is related or (client.id is not None and client.id == related.id):
        raise RuleViolation(
            _l(
                "%(field)s: a client cannot be linked to themselves",
                field=field_label("related_client"),
            ),
            field="related_client",
        )


def _already_linked(client: Client, other: Client, kind) -> RuleViolation:
    return RuleViolation(
        _l(
            "%(client)s and %(other)s are already linked (%(kind)s); each link is kept once.",
            client=client.full_name,
            other=other.full_name,
            kind=choice_label(LinkKind(kind)),
        ),
        field="related_client",
    )


def _appointment_count(session: Session, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(Appointment).where(*conditions)) or 0


def ensure_client_deletable(session: Session, client: Client) -> None:
    """History depends on a client who took part in an appointment: deactivate instead."""
    count = session.scalar(select(func.count()).select_from(Participant).where(Participant.client_id == client.id))
    if count:
        raise RuleViolation(
            lazy_ngettext(
                "%(name)s cannot be deleted: they take part in %(num)d appointment. "
                "Untick “Active” to deactivate them instead.",
                "%(name)s cannot be deleted: they take part in %(num)d appointments. "
                "Untick “Active” to deactivate them instead.",
                count,
                name=client.full_name,
            )
        )
    _refuse_when_clinical_notes(session, ClinicalNote.client_id == client.id, client.full_name)


def _refuse_when_clinical_notes(session: Session, condition, name: str) -> None:
    """Clinical notes are kept as written (models.clinical_notes): whoever they name stays."""
    if session.scalar(select(exists().where(condition))):
        raise RuleViolation(
            _l(
                "%(name)s cannot be deleted: clinical notes name them, and clinical notes are kept. "
                "Untick “Active” to deactivate them instead.",
                name=name,
            )
        )


def ensure_therapist_deletable(session: Session, therapist: Therapist) -> None:
    supervised = session.scalars(select(Therapist.full_name).where(Therapist.supervisor_id == therapist.id)).all()
    if supervised:
        raise RuleViolation(
            _l(
                "%(name)s cannot be deleted: they supervise %(names)s. Choose another supervisor first.",
                name=therapist.full_name,
                names=", ".join(sorted(supervised)),
            )
        )
    count = _appointment_count(session, Appointment.therapist_id == therapist.id)
    has_clients = session.scalar(select(exists().where(CareAssignment.therapist_id == therapist.id)))
    if count or has_clients:
        raise RuleViolation(
            lazy_ngettext(
                "%(name)s cannot be deleted: they have %(num)d appointment and their client "
                "assignments. Untick “Active” to deactivate them instead.",
                "%(name)s cannot be deleted: they have %(num)d appointments and their client "
                "assignments. Untick “Active” to deactivate them instead.",
                count,
                name=therapist.full_name,
            )
        )
    _refuse_when_clinical_notes(session, ClinicalNote.therapist_id == therapist.id, therapist.full_name)


def ensure_appointment_deletable(session: Session, appointment: Appointment) -> None:
    """An appointment that carries a fee is part of the books: cancel it instead."""
    charged = session.scalar(select(exists().where(Participant.appointment_id == appointment.id, Participant.fee > 0)))
    if charged:
        raise RuleViolation(
            _l(
                "This appointment has a fee and belongs to the books, so it cannot be deleted. "
                "Set its status to “Cancelled” instead."
            )
        )


def clients_in_care_now(therapist_id: int):
    """A select of the clients a therapist cares for now (active assignment): who may see a
    client's authorizations and approval letters."""
    return select(CareAssignment.client_id).where(CareAssignment.therapist_id == therapist_id, CareAssignment.active)


def clients_in_care(session: Session, therapist_id: int) -> list[Client]:
    """The clients a therapist cares for now, by name, read in one statement (however many)."""
    return list(
        session.scalars(
            select(Client).where(client_visible_to_therapist(therapist_id)).order_by(Client.full_name, Client.id)
        )
    )


def client_visible_to_therapist(therapist_id: int):
    """The row filter that keeps a therapist to the clients they care for now (an active care
    assignment, direct or indirect, whether the client is active or not). An ended assignment ends
    the therapist's access to the client at once, whoever they saw before."""
    return Client.id.in_(clients_in_care_now(therapist_id))
