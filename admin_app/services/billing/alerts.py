"""Authorization alerts: when an authorization becomes low, the client's therapist and every admin
get an in-app notice and an email, once per change of state, never every day.

One idempotent periodic scan (`alert_low_authorizations`) reads every authorization's status with
`authorization_rows` (one query) and compares it with `alerted_status`, the status it last saw.
Only a change does anything: it stores the new status, and when the new one is low it alerts. So
an authorization that stays low is quiet; one that moves on (extension requested, exhausted) and
later becomes low again alerts again. Each email has a dedupe key per authorization, recipient
and clinic day: a retried or concurrent scan never sends twice, and an authorization that flips
back to low the day it left it (an extension request undone) does not alert a second time that day.

The notice holds ids only; the email, written at delivery in the recipient's language, names the
authorization's reference and the client, which the staff and the client's therapist may read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from babel.dates import format_date
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_app.models import ADMIN_ROLE, Authorization, CareAssignment, Channel, Role, Therapist, User
from admin_app.models.base import utcnow
from admin_app.services.billing.authorizations import AuthorizationRow, AuthorizationStatus, authorization_rows
from admin_app.services.messaging import notifications, outbox
from admin_app.services.platform import clinic_time
from admin_app.services.platform.errors import NoLongerDue

TEMPLATE = "authorization_low"
# A queued alert is withdrawn when, by its delivery, someone acted or sessions were freed.
NO_LONGER_LOW = (AuthorizationStatus.ACTIVE, AuthorizationStatus.EXTENSION_REQUESTED, AuthorizationStatus.CLOSED)


@dataclasses.dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    language: str


def alert_low_authorizations(session: Session, *, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Store each open authorization's status where it changed, and alert on those that became low.
    Returns how many were alerted (an alert already written today is not written again). The
    caller commits (the emails are dispatched then)."""
    now = now or utcnow()
    today = today or clinic_time.today()
    rows = [row for row in authorization_rows(session, today=today) if row.status != AuthorizationStatus.CLOSED]
    changed = _changed(session, rows)
    became_low = [row for row in changed if row.status == AuthorizationStatus.LOW]
    recipients = _recipients(session, became_low)
    alerted = 0
    for row in became_low:
        written = [_alert(session, row, recipient, today=today, now=now) for recipient in recipients[row.id]]
        alerted += any(written)
    session.flush()
    return alerted


def _changed(session: Session, rows: list[AuthorizationRow]) -> list[AuthorizationRow]:
    """The rows whose status differs from the one last seen, with `alerted_status` brought up to date."""
    by_id = {row.id: row for row in rows}
    changed = []
    for authorization in session.scalars(select(Authorization).where(Authorization.closed_at.is_(None))):
        row = by_id.get(authorization.id)
        if row is not None and authorization.alerted_status != row.status.value:
            authorization.alerted_status = row.status.value
            changed.append(row)
    return sorted(changed, key=lambda row: row.id)


def _recipients(session: Session, rows: list[AuthorizationRow]) -> dict[int, list[Recipient]]:
    """Who is told about each authorization: the therapist (the authorization's own, when they care
    for the client now and sign in; else every therapist caring for the client who signs in), then
    every active admin; each login once. Two queries for any number of authorizations."""
    if not rows:
        return {}
    default_language = current_app.config["DEFAULT_LOCALE"]
    admins = [
        Recipient(user_id, email, locale or default_language)
        for user_id, email, locale in session.execute(
            select(User.id, User.email, User.locale)
            .join(User.roles)
            .where(Role.name == ADMIN_ROLE, User.active.is_(True))
            .order_by(User.id)
        )
    ]
    caring: dict[int, list[tuple[int, Recipient]]] = defaultdict(list)
    for client_id, therapist_id, user_id, email, locale in session.execute(
        select(CareAssignment.client_id, Therapist.id, User.id, User.email, User.locale)
        .join(Therapist, Therapist.id == CareAssignment.therapist_id)
        .join(User, User.id == Therapist.user_id)
        .where(
            CareAssignment.client_id.in_(sorted({row.client_id for row in rows})),
            CareAssignment.active.is_(True),
            User.active.is_(True),
        )
        .order_by(Therapist.id)
    ):
        caring[client_id].append((therapist_id, Recipient(user_id, email, locale or default_language)))
    result = {}
    for row in rows:
        therapists = caring[row.client_id]
        own = [recipient for therapist_id, recipient in therapists if therapist_id == row.therapist_id]
        chosen = own or [recipient for _therapist_id, recipient in therapists]
        result[row.id] = _each_login_once([*chosen, *admins])
    return result


def _each_login_once(recipients: Iterable[Recipient]) -> list[Recipient]:
    unique: dict[int, Recipient] = {}
    for recipient in recipients:
        unique.setdefault(recipient.user_id, recipient)
    return list(unique.values())


def _alert(session: Session, row: AuthorizationRow, recipient: Recipient, *, today: dt.date, now: dt.datetime) -> bool:
    """The email and the notice for one recipient; neither (False) when this alert was already written."""
    message = outbox.queue_message(
        session,
        channel=Channel.EMAIL,
        recipient=recipient.email,
        template=TEMPLATE,
        language=recipient.language,
        context={"authorization_id": row.id},
        dedupe_key=f"authorization-low:{row.id}:{recipient.user_id}:{today.isoformat()}",
        client_id=row.client_id,
        now=now,
    )
    if message is None:
        return False
    notifications.notify_user(
        session, recipient.user_id, notifications.AUTHORIZATION_LOW, now=now, authorization_id=row.id
    )
    return True


def alert_variables(session: Session, context: dict, language: str) -> dict:
    """What the alert email says, read at delivery; NoLongerDue once it is not low any more."""
    rows = authorization_rows(session, ids=[context["authorization_id"]])
    if not rows:
        raise NoLongerDue(_l("the authorization was deleted"))
    [row] = rows
    if row.status in NO_LONGER_LOW:
        raise NoLongerDue(_l("the authorization is no longer low (extension requested, closed or sessions freed)"))
    return {
        "reference": row.reference,
        "client_name": row.client,
        "approved": row.counts.approved,
        "used": row.counts.used,
        "scheduled": row.counts.scheduled,
        "remaining": row.counts.remaining,
        "valid_until": format_date(row.valid_until, format="long", locale=language),
    }
