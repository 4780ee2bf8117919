"""A therapist's calendar feed: a secret ICS URL listing their upcoming appointments.

The token in the URL is derived from SECRET_KEY and a random nonce kept on the therapist, so
the screens can show the URL again; the database keeps the nonce and a hash of the token (for
the lookup), never the token itself. Rotating = a new nonce: the old URL stops working. A new
SECRET_KEY also changes every token, so every link has to be rotated after one.

The feed shows what a calendar on a phone may show: times, kind, place and the clients'
initials; never names, national IDs or notes.
"""

from __future__ import annotations

import datetime as dt
import hmac
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from admin_app.config import SUPPORTED_LOCALES
from admin_app.models import Appointment, AppointmentStatus, Modality, Participant, Therapist
from admin_app.models.base import utcnow
from admin_app.services.platform import tokens
from admin_app.services.platform.labels import choice_label
from admin_app.services.scheduling.attendance import CANCELLATIONS

FEED_PATH = "/calendar/{token}.ics"
PAST = dt.timedelta(days=1)  # what is still shown of the past, so today's earlier sessions stay visible
AHEAD = dt.timedelta(days=183)
REFRESH = dt.timedelta(hours=1)


def _token(therapist_id: int, nonce: str) -> str:
    return tokens.derive_token("calendar-feed", therapist_id, nonce)


def calendar_feed_token(therapist: Therapist) -> str | None:
    if not therapist.calendar_feed_nonce or therapist.id is None:
        return None
    return _token(therapist.id, therapist.calendar_feed_nonce)


def calendar_feed_url(therapist: Therapist) -> str | None:
    """The therapist's feed URL, or None while they have none."""
    token = calendar_feed_token(therapist)
    if token is None:
        return None
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + FEED_PATH.format(token=token)


def rotate_calendar_feed(session: Session, therapist: Therapist) -> str:
    """Give the therapist a new feed URL (the previous one stops working) and return it."""
    if therapist.id is None:
        session.flush()
    therapist.calendar_feed_nonce = tokens.new_nonce()
    therapist.calendar_feed_hash = tokens.token_hash(_token(therapist.id, therapist.calendar_feed_nonce))
    session.flush()
    return calendar_feed_url(therapist)


def therapist_for_feed_token(session: Session, token: str) -> Therapist | None:
    """The active therapist whose current feed token this is; None for anything else (a
    deactivated record or login ends the feed at once, as it ends the portal)."""
    if not token or len(token) > 100:
        return None
    therapist = session.scalar(select(Therapist).where(Therapist.calendar_feed_hash == tokens.token_hash(token)))
    if therapist is None or not therapist.active or (therapist.user is not None and not therapist.user.active):
        return None
    expected = calendar_feed_token(therapist)
    if expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return therapist


def initials(full_name: str) -> str:
    """ "Ana Quispe" → "A. Q."; particles such as "de la" are left out."""
    words = [word for word in full_name.replace("-", " ").split() if word[:1].isalpha()]
    capitalised = [word for word in words if word[0].isupper()] or words
    return " ".join(f"{word[0].upper()}." for word in capitalised)


def _summary(appointment: Appointment) -> str:
    coming = [p for p in appointment.participants if p.attendance not in CANCELLATIONS] or appointment.participants
    who = " + ".join(initials(p.client.full_name) for p in sorted(coming, key=lambda p: p.id or 0))
    kind = str(choice_label(appointment.kind))
    return f"{kind} · {who}" if who else kind


def _location(appointment: Appointment) -> str:
    if appointment.modality == Modality.ON_SITE and appointment.room is not None:
        return str(appointment.room)
    return str(choice_label(Modality.VIRTUAL)) if appointment.modality == Modality.VIRTUAL else ""


def _feed_locale(therapist: Therapist) -> str:
    locale = therapist.user.locale if therapist.user is not None else None
    return locale if locale in SUPPORTED_LOCALES else current_app.config["DEFAULT_LOCALE"]


def upcoming_appointments(session: Session, therapist: Therapist, *, now: dt.datetime) -> list[Appointment]:
    """The therapist's non-cancelled appointments from a day ago to six months ahead, in one go."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.therapist_id == therapist.id,
                Appointment.status != AppointmentStatus.CANCELLED,
                Appointment.starts_at >= now - PAST,
                Appointment.starts_at < now + AHEAD,
            )
            .order_by(Appointment.starts_at, Appointment.id)
            .options(
                joinedload(Appointment.room),
                selectinload(Appointment.participants).joinedload(Participant.client),
            )
        ).unique()
    )


def build_feed(session: Session, therapist: Therapist, *, now: dt.datetime | None = None) -> bytes:
    """The therapist's calendar as an iCalendar document (UTF-8 bytes), times in UTC."""
    now = now or utcnow()
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    practice = current_app.config["PRACTICE_NAME"]
    with force_locale(_feed_locale(therapist)):
        calendar = Calendar()
        calendar.add("prodid", f"-//{practice}//Appointment book//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", gettext("%(practice)s appointments", practice=practice))
        # How often a subscribed calendar should refresh (RFC 7986, and the older Outlook/Apple name).
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
        stamp = now.astimezone(dt.UTC).replace(microsecond=0)
        for appointment in upcoming_appointments(session, therapist, now=now):
            event = Event()
            event.add("uid", f"appointment-{appointment.id}@{host}")
            event.add("dtstamp", stamp)
            event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
            event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
            event.add("summary", _summary(appointment))
            if location := _location(appointment):
                event.add("location", location)
            event.add("status", "CONFIRMED")
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
        return calendar.to_ical()
