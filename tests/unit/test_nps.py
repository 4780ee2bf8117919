"""The NPS groups: the Python classifier and the SQL expressions agree on every score, 0 to 10."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, literal, select

from admin_app.services.surveys import nps


@pytest.mark.parametrize(
    ("score", "group"),
    [(0, nps.DETRACTOR), (6, nps.DETRACTOR), (7, nps.PASSIVE), (8, nps.PASSIVE), (9, nps.PROMOTER), (10, nps.PROMOTER)],
)
def test_a_score_falls_in_the_group_design_md_gives_it(score, group):
    assert nps.group_of(score) == group


def test_the_sql_case_and_conditions_agree_with_the_classifier_on_every_score():
    with create_engine("sqlite://").connect() as connection:
        for score in range(11):
            value = literal(score)
            in_groups = [connection.scalar(select(nps.in_group(value, group.key))) for group in nps.GROUPS]
            assert connection.scalar(select(nps.group_sql(value))) == nps.group_of(score), score
            assert in_groups == [group.key == nps.group_of(score) for group in nps.GROUPS], score
