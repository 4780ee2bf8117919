"""What people do to an authorization: enter it, ask for an extension, record the extension, close it.

An extension is a new authorization chained to the one it extends (`extends_id`), for the same
client, payer, therapist and currency, starting the day after the old one ends: their dates never
overlap, so the linking rule never has two of one chain to choose from on one day (DESIGN.md,
"Money after the session"). Each authorization is extended at most once; the chain goes on from the
newest one.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from admin_app.models import Authorization, CareAssignment, Participant, Payer, TaskKind, Therapist, User
from admin_app.models.base import utcnow
from admin_app.services.billing import linking
from admin_app.services.messaging import notifications
from admin_app.services.platform import bounds, clinic_time
from admin_app.services.platform.errors import NotFound, RuleViolation
from admin_app.services.platform.labels import field_label
from admin_app.services.platform.money import check_currency
from admin_app.services.tasks import causes, scan


def _refuse(message, field: str | None = None) -> None:
    raise RuleViolation(message, field=field)


def _required(value, field: str) -> None:
    if value is None or (isinstance(value, str) and not value.strip()):
        _refuse(_l("%(field)s: this field is required", field=field_label(field)), field)


def check_authorization(session: Session, authorization: Authorization) -> Authorization:
    """Normalise and check an authorization about to be saved (the screen and the import share it):
    client and payer given, a reference unique for its payer, at least one approved session, dates
    in the calendar and in order, a rate only with one of the practice's currencies, an active
    therapist when one is chosen. Raises RuleViolation naming the field."""
    for field in ("client", "payer"):
        if getattr(authorization, field) is None and getattr(authorization, f"{field}_id") is None:
            _refuse(_l("%(field)s: this field is required", field=field_label(field)), field)
    _required(authorization.reference, "reference")
    authorization.reference = authorization.reference.strip()
    _required(authorization.approved_sessions, "approved_sessions")
    if authorization.approved_sessions < 1:
        _refuse(
            _l("%(field)s: at least 1", field=field_label("approved_sessions")),
            "approved_sessions",
        )
    for field in ("valid_from", "valid_until"):
        _required(getattr(authorization, field), field)
        bounds.refuse(bounds.date_problem(getattr(authorization, field)), field)
    if authorization.valid_until < authorization.valid_from:
        _refuse(
            _l(
                "%(field)s: %(until)s is before %(from_label)s (%(from_)s)",
                field=field_label("valid_until"),
                until=authorization.valid_until.isoformat(),
                from_label=field_label("valid_from"),
                from_=authorization.valid_from.isoformat(),
            ),
            "valid_until",
        )
    _check_rate(authorization)
    _check_therapist(session, authorization)
    _check_owner_kept(session, authorization)
    _check_reference_free(session, authorization)
    return authorization


def save_authorization(session: Session, authorization: Authorization) -> Authorization:
    """An authorization entered or corrected on the screen: checked; sessions linked to it on dates
    it no longer covers let go of it; then the bookings of its client and payer that wait for one
    (linked to nothing) are linked by the rule."""
    check_authorization(session, authorization)
    dates = inspect(authorization).attrs
    if inspect(authorization).persistent and (
        dates.valid_from.history.has_changes() or dates.valid_until.history.has_changes()
    ):
        linking.release_uncovered(session, authorization)
    client_id = authorization.client.id if authorization.client is not None else authorization.client_id
    payer_id = authorization.payer.id if authorization.payer is not None else authorization.payer_id
    session.add(authorization)
    linking.link_waiting(session, {(client_id, payer_id)})
    return authorization


def _check_rate(authorization: Authorization) -> None:
    if authorization.rate is None:
        authorization.currency = authorization.currency or None
        return
    bounds.refuse(bounds.amount_problem(authorization.rate), "rate")
    if not authorization.currency:
        _refuse(
            _l(
                "%(field)s: a rate needs its currency (%(rate)s)",
                field=field_label("currency"),
                rate=field_label("rate"),
            ),
            "currency",
        )
    authorization.currency = check_currency(authorization.currency, field="currency")


def _check_therapist(session: Session, authorization: Authorization) -> None:
    therapist = authorization.therapist
    if therapist is None and authorization.therapist_id is not None:
        therapist = session.get(Therapist, authorization.therapist_id)
    if therapist is not None and not therapist.active:
        _refuse(
            _l("%(field)s: %(name)s is not active", field=field_label("therapist"), name=therapist.full_name),
            "therapist",
        )


def _check_owner_kept(session: Session, authorization: Authorization) -> None:
    """Sessions already linked stay with the client and payer they were booked for: once one is,
    the authorization's client and payer are kept (enter a new authorization instead)."""
    state = inspect(authorization)
    if not state.persistent:
        return
    for field in ("client", "payer"):
        if state.attrs[field].history.has_changes() or state.attrs[f"{field}_id"].history.has_changes():
            with session.no_autoflush:
                linked = session.scalar(
                    select(Participant.id).where(Participant.authorization_id == authorization.id).limit(1)
                )
            if linked is not None:
                _refuse(
                    _l(
                        "%(field)s: sessions are already linked to this authorization; enter a new one instead",
                        field=field_label(field),
                    ),
                    field,
                )


def _check_reference_free(session: Session, authorization: Authorization) -> None:
    payer_id = authorization.payer.id if authorization.payer is not None else authorization.payer_id
    query = select(Authorization.id).where(
        Authorization.payer_id == payer_id, Authorization.reference == authorization.reference
    )
    if authorization.id is not None:
        query = query.where(Authorization.id != authorization.id)
    with session.no_autoflush:
        taken = session.scalar(query)
    if taken is not None:
        payer = authorization.payer or session.get(Payer, payer_id)
        _refuse(
            _l(
                "%(field)s: %(payer)s already has an authorization %(reference)s",
                field=field_label("reference"),
                payer=payer.name,
                reference=authorization.reference,
            ),
            "reference",
        )


def get_authorization(session: Session, authorization_id: int) -> Authorization:
    authorization = session.get(Authorization, authorization_id)
    if authorization is None:
        raise NotFound(_l("This authorization does not exist."))
    return authorization


def _refuse_closed(authorization: Authorization) -> None:
    if authorization.closed_at is not None:
        _refuse(
            _l(
                "Authorization %(authorization)s is closed.",
                authorization=str(authorization),
            )
        )


def request_extension(session: Session, authorization_id: int, *, now: dt.datetime | None = None) -> Authorization:
    """Say that the documents for an extension were sent to the payer (the status becomes
    "extension requested"). Refused for a closed authorization and when already said."""
    authorization = get_authorization(session, authorization_id)
    _refuse_closed(authorization)
    if authorization.extension_requested_at is not None:
        _refuse(
            _l(
                "An extension of authorization %(authorization)s was already requested.",
                authorization=str(authorization),
            )
        )
    authorization.extension_requested_at = now or utcnow()
    session.flush()
    return authorization


def submit_documents(session: Session, authorization_id: int, *, now: dt.datetime | None = None) -> Authorization:
    """A therapist says the documents for an extension were sent (the portal's *Documents
    submitted*): the authorization is "extension requested", every admin is notified, and the
    admins' task to record the payer's answer opens now, not at the next scan. The caller commits,
    after checking the authorization is of a client in the therapist's care."""
    now = now or utcnow()
    authorization = request_extension(session, authorization_id, now=now)
    notifications.notify_admins(session, notifications.DOCUMENTS_SUBMITTED, now=now, authorization_id=authorization.id)
    today = clinic_time.to_local(now).date()
    scan.open_now(session, causes.extension_requested(session, today=today, now=now, ids=[authorization.id]), now=now)
    return authorization


def _tell_therapists(session: Session, old: Authorization, extension: Authorization) -> None:
    """The client's therapists in care now (with an active login) learn the extension is recorded,
    and the task waiting for it closes."""
    logins = session.scalars(
        select(Therapist.user_id)
        .join(CareAssignment, CareAssignment.therapist_id == Therapist.id)
        .join(User, User.id == Therapist.user_id)
        .where(CareAssignment.client_id == old.client_id, CareAssignment.active, Therapist.active, User.active)
    ).all()
    for login_id in logins:
        notifications.notify_user(
            session,
            login_id,
            notifications.EXTENSION_RECORDED,
            authorization_id=old.id,
            extension_id=extension.id,
        )
    scan.close_now(session, TaskKind.EXTENSION_REQUESTED, str(old.id))


def extension_of(session: Session, authorization_id: int) -> Authorization | None:
    """The authorization that extends this one, if the office recorded it."""
    return session.scalar(select(Authorization).where(Authorization.extends_id == authorization_id))


def record_extension(
    session: Session,
    authorization_id: int,
    *,
    reference: str,
    approved_sessions: int,
    valid_until: dt.date,
    rate: Decimal | None = None,
    notes: str | None = None,
) -> Authorization:
    """The payer approved more sessions: the new authorization, chained to this one, from the day
    after it ends. Its rate is the old one unless given. Refused when this one was already
    extended (extend the newest one) or when the new end is before the new start. The client's
    therapists are told, and the task waiting for the answer closes."""
    old = get_authorization(session, authorization_id)
    extended = extension_of(session, old.id)
    if extended is not None:
        _refuse(
            _l(
                "Authorization %(authorization)s was already extended by %(extension)s: extend that one.",
                authorization=str(old),
                extension=str(extended),
            )
        )
    valid_from = old.valid_until + dt.timedelta(days=1)
    if valid_until is not None and valid_until < valid_from:
        _refuse(
            _l(
                "%(field)s: an extension starts on %(start)s, the day after %(authorization)s ends; "
                "it cannot end before that.",
                field=field_label("valid_until"),
                start=valid_from.isoformat(),
                authorization=str(old),
            ),
            "valid_until",
        )
    extension = Authorization(
        payer_id=old.payer_id,
        client_id=old.client_id,
        therapist_id=old.therapist_id,
        reference=reference,
        approved_sessions=approved_sessions,
        valid_from=valid_from,
        valid_until=valid_until,
        rate=old.rate if rate is None else rate,
        currency=old.currency,
        notes=notes,
        extends=old,
    )
    check_authorization(session, extension)
    session.add(extension)
    session.flush()
    linking.link_waiting(session, {(extension.client_id, extension.payer_id)})
    _tell_therapists(session, old, extension)
    return extension


def close(session: Session, authorization_id: int, *, now: dt.datetime | None = None) -> Authorization:
    """Close an authorization by hand: the rule links nothing more to it."""
    authorization = get_authorization(session, authorization_id)
    _refuse_closed(authorization)
    authorization.closed_at = now or utcnow()
    session.flush()
    return authorization
