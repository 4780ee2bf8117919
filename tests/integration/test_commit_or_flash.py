"""A screen's write commits, or rolls back and shows the rule that refused it."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import Form, StringField

from admin_app.extensions import db
from admin_app.models import Therapist
from admin_app.services.platform.errors import RuleViolation
from admin_app.views.platform.rules import commit_or_flash, commit_or_roll_back
from tests.factories import make_therapist


class NameForm(Form):
    full_name = StringField()
    therapist_id = StringField()


def therapists_stored() -> int:
    db.session.rollback()  # what a later request would see
    return db.session.scalar(select(func.count()).select_from(Therapist))


@pytest.fixture
def request_context(app):
    with app.test_request_context("/", method="POST"):
        yield


def test_a_write_the_rules_accept_is_committed(request_context):
    with commit_or_flash() as outcome:
        make_therapist()

    assert outcome.refusal is None
    assert therapists_stored() == 1
    assert get_flashed_messages() == []


def test_a_refused_write_is_rolled_back_and_its_rule_flashed(request_context):
    with commit_or_flash() as outcome:
        make_therapist()
        raise RuleViolation("The room is taken at that time.")

    assert str(outcome.refusal) == "The room is taken at that time."
    assert therapists_stored() == 0
    assert get_flashed_messages(with_categories=True) == [("error", "The room is taken at that time.")]


def test_a_rule_naming_a_field_of_the_form_is_shown_beside_it(request_context):
    form = NameForm()

    with commit_or_flash(form):
        raise RuleViolation("Expected a name.", field="full_name")

    assert form.full_name.errors == ["Expected a name."]
    assert get_flashed_messages() == []


def test_a_rule_naming_a_field_by_another_name_is_shown_beside_the_forms(request_context):
    form = NameForm()

    with commit_or_flash(form, fields={"therapist": "therapist_id"}):
        raise RuleViolation("Rosa is not active.", field="therapist")

    assert form.therapist_id.errors == ["Rosa is not active."]


def test_a_rule_naming_a_field_not_on_the_form_is_flashed(request_context):
    form = NameForm()

    with commit_or_flash(form):
        raise RuleViolation("The file cannot be read.", field="file")

    assert get_flashed_messages() == ["The file cannot be read."]
    assert not form.full_name.errors


def test_a_page_that_shows_the_rule_itself_gets_it_without_a_flash(request_context):
    with commit_or_roll_back() as outcome:
        make_therapist()
        raise RuleViolation("Choose from 1 to 5 stars.", field="stars-1")

    assert outcome.refusal.field == "stars-1"
    assert therapists_stored() == 0
    assert get_flashed_messages() == []


def test_any_other_failure_is_rolled_back_and_reaches_the_caller(request_context):
    with pytest.raises(ZeroDivisionError), commit_or_flash():
        make_therapist()
        _ = 1 / 0

    assert therapists_stored() == 0
    assert get_flashed_messages() == []
