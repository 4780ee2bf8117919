"""The NPS groups of a 0-10 answer (DESIGN.md): detractors 0-6, passives 7-8, promoters 9-10.

The bounds are written once, in `GROUPS`; the Python classifier (`group_of`) and the SQL twins
(`group_sql`, `in_group`) are built from them, so a screen, a filter, the detractor alert and the
NPS of a month never disagree on where a group starts.
"""

from __future__ import annotations

import dataclasses

from flask_babel import lazy_gettext as _l
from sqlalchemy import case
from sqlalchemy.sql.elements import ColumnElement

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"


@dataclasses.dataclass(frozen=True)
class NpsGroup:
    key: str
    low: int
    high: int
    label: object  # a lazy translatable string

    def holds(self, score: int) -> bool:
        return self.low <= score <= self.high


# In the order screens list them.
GROUPS = (
    NpsGroup(PROMOTER, 9, 10, _l("Promoter (9–10)")),
    NpsGroup(PASSIVE, 7, 8, _l("Passive (7–8)")),
    NpsGroup(DETRACTOR, 0, 6, _l("Detractor (0–6)")),
)
BY_KEY = {group.key: group for group in GROUPS}


def group_of(score: int) -> str:
    """The key of the group a 0-10 score belongs to."""
    return next(group.key for group in GROUPS if group.holds(score))


def in_group(score: ColumnElement, key: str) -> ColumnElement[bool]:
    """SQL: `score` is in the group `key`."""
    group = BY_KEY[key]
    return score.between(group.low, group.high)


def group_sql(score: ColumnElement) -> ColumnElement[str]:
    """SQL: the group key of `score` (a CASE over the same bounds as `group_of`)."""
    return case(*[(in_group(score, group.key), group.key) for group in GROUPS])
