"""What every demo practice shares and never draws: the seed, the logins, the outcomes of past
sessions, what a household's meetings are, and how a therapist's name makes their email.
What differs between Lima and Vancouver is in `practices`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from admin_app.demo.practices import DemoPractice
from admin_app.models import AppointmentKind, Attendance

SEED = 2026
ADMIN_PASSWORD = "demo-admin-2026"
THERAPIST_PASSWORD = "demo-therapist-2026"
FUTURE_WEEKS = 3
AFTER_SCHOOL_HOUR = 15
SATURDAY = 5
# Cumulative shares of past appointments by outcome; the rest were attended.
PAST_OUTCOMES = (
    (0.07, Attendance.CANCELLED),
    (0.10, Attendance.LATE_CANCELLED),
    (0.14, Attendance.NO_SHOW),
)


HOUSEHOLD_KINDS = {
    "adult": AppointmentKind.INDIVIDUAL,
    "minor": AppointmentKind.INDIVIDUAL,
    "couple": AppointmentKind.COUPLE,
    "family": AppointmentKind.FAMILY,
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def slug(text: str) -> str:
    """ASCII lower-case without spaces, for email local parts ("Ángel" -> "angel")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def therapist_email(practice: DemoPractice, first: str, paternal: str) -> str:
    return f"{slug(first)}.{slug(paternal)}@{practice.email_domain}"


def marker_email(practice: DemoPractice) -> str:
    """The first therapist's email: there when the demo is, whatever its size."""
    return therapist_email(practice, *practice.first_therapist[:2])


def demo_logins(practice: DemoPractice) -> tuple[DemoLogin, ...]:
    return (
        DemoLogin("admin", practice.admin_email, ADMIN_PASSWORD),
        DemoLogin("therapist", marker_email(practice), THERAPIST_PASSWORD),
    )


def max_therapists(practice: DemoPractice) -> int:
    """Therapists have distinct (first name, surname) pairs, so that their emails are unique."""
    return sum(len(pool.first_names) * len(pool.surnames) for pool in practice.therapist_names)


def full_name(*parts: str | None) -> str:
    return " ".join(part for part in parts if part)
