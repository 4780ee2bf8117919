"""Commit what a screen did, or roll it back and show the rule that refused it.

A screen's write is one transaction: the services add and flush, the screen commits once. When a
service refuses (`RuleViolation`), nothing of the attempt may stay in the session, and the person
at the screen reads the rule: beside the form field it names, else as a flashed message.

    with commit_or_flash(form) as outcome:
        created = series.create_series(db.session, plan=plan)
    if outcome.refusal:
        return self._form_page(form)

Any other exception also rolls back and then goes on to the caller (a database race is the
caller's to turn into a message).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from wtforms import Form

from admin_app.extensions import db
from admin_app.services.platform.errors import RuleViolation


@dataclass
class Outcome:
    """How a `commit_or_flash` block ended: `refusal` is the rule that refused it, None once committed."""

    refusal: RuleViolation | None = None


def show_rule(error: RuleViolation, form: Form | None = None, fields: Mapping[str, str] | None = None) -> None:
    """Beside its field when the rule names one on `form` (`fields` maps a rule's field name to the
    form's, where they differ), else as a flashed message."""
    name = (fields or {}).get(error.field, error.field)
    if form is not None and name and name in form:
        form[name].errors = [*form[name].errors, str(error)]
    else:
        flash(str(error), "error")  # plain text: a lazy string would be stored as markup


@contextmanager
def commit_or_roll_back() -> Iterator[Outcome]:
    """Commit the block's work; a refusal rolls it back and is kept in the outcome (for a page that
    shows it in its own way), any other exception rolls back and is raised again."""
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except RuleViolation as error:
        db.session.rollback()
        outcome.refusal = error
    except Exception:
        db.session.rollback()
        raise


@contextmanager
def commit_or_flash(form: Form | None = None, *, fields: Mapping[str, str] | None = None) -> Iterator[Outcome]:
    """`commit_or_roll_back`, and a refusal shown to the user (`show_rule`)."""
    with commit_or_roll_back() as outcome:
        yield outcome
    if outcome.refusal is not None:
        show_rule(outcome.refusal, form, fields)


def flash_warnings(texts: Iterable[str]) -> None:
    """Warnings about what was saved (it was saved): shown as warnings, never as errors."""
    for text in texts:
        flash(str(text), "warning")
