"""A database race, told to the user: another transaction wrote first, and what the person at the
screen (or the CLI) is told instead of a traceback.

Two requests can both look before either writes. What the database answers the loser:

- a slot taken meanwhile: PostgreSQL's overlap guard (exclusion violation, migration 0002), a
  serialization failure or a deadlock: `slot_taken`, worded as `TAKEN_MEANWHILE`;
- another unique key saved meanwhile (an email, a national ID): an IntegrityError, worded by the
  caller (`otherwise`), since only the caller knows what was being saved.

Any other database error is no race (a bug, an outage): `refusal` gives None and the caller
lets it raise.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, IntegrityError

from admin_app.services.platform.errors import RuleViolation

# PostgreSQL errors that mean "another transaction got there first": the overlap guard
# (exclusion violation), a serialization failure and a deadlock.
LOST_RACE_SQLSTATES = frozenset({"23P01", "40001", "40P01"})
TAKEN_MEANWHILE = _l(
    "This time was booked by someone else a moment ago; nothing was saved. Check the appointment book and try again."
)
CONFLICTS_WITH_OTHERS = _l("This change conflicts with other records and was not saved.")


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error (psycopg 3 and psycopg2 name it differently); None elsewhere."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def slot_taken(error: BaseException) -> bool:
    """Whether the database refused a write because another transaction took the slot first."""
    return isinstance(error, DBAPIError) and sqlstate(error) in LOST_RACE_SQLSTATES


def refusal(error: BaseException, *, otherwise=CONFLICTS_WITH_OTHERS) -> RuleViolation | None:
    """The RuleViolation a database error stands for when it is a lost race, else None.

    A slot taken meanwhile is `TAKEN_MEANWHILE` (field "starts_at"); another conflict with a
    record saved meanwhile (an IntegrityError) is `otherwise`.
    """
    if slot_taken(error):
        return RuleViolation(TAKEN_MEANWHILE, field="starts_at")
    if isinstance(error, IntegrityError):
        return RuleViolation(otherwise)
    return None
