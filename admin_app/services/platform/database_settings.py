"""The PostgreSQL settings the product's speed relies on, and which of them a server differs from.

The figures, lists and calendars are written for a server tuned as README "Production" advises: on
the defaults (made for spinning disks and tiny machines) the planner prefers sequential scans of a
ten-year appointment table over its indexes, sorts spill to disk, and JIT compiles the big month
queries for longer than they run. `flask db upgrade` names each setting that differs (a warning,
never a failure: the advice is about speed, not correctness).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text

MB = 1024 * 1024


@dataclass(frozen=True)
class Advice:
    name: str
    advised: str  # as it is written in postgresql.conf
    why: str
    holds: Callable[[str | float], bool]  # the value (bytes for a size, number, or text) follows the advice


ADVICE = (
    Advice(
        "random_page_cost", "1.1", "at most 1.5: on SSDs an index read costs about a sequential one", lambda v: v <= 1.5
    ),
    Advice("effective_cache_size", "4GB", "at least 1GB: half to three quarters of the RAM", lambda v: v >= 1024 * MB),
    Advice("shared_buffers", "256MB", "at least 256MB: a quarter of the RAM", lambda v: v >= 256 * MB),
    Advice("work_mem", "16MB", "at least 16MB: the year's figures sort and group in memory", lambda v: v >= 16 * MB),
    Advice("jit", "off", "compiling the large report queries takes longer than running them", lambda v: v == "off"),
    Advice("autovacuum", "on", "keeps the planner's statistics and the visibility map fresh", lambda v: v == "on"),
    Advice("track_counts", "on", "autovacuum needs it", lambda v: v == "on"),
)

_UNIT = re.compile(r"(\d*)\s*(B|kB|MB|GB)")
_BYTES = {"B": 1, "kB": 1024, "MB": MB, "GB": 1024 * MB}


def _value(setting: str, unit: str | None, vartype: str) -> str | float:
    """The setting as advice compares it: a size in bytes, a number, or its text."""
    if vartype in ("integer", "real"):
        number = float(setting)
        if unit and (size := _UNIT.fullmatch(unit)):
            return number * int(size.group(1) or 1) * _BYTES[size.group(2)]
        return number
    return setting


def differences(connection: Connection) -> list[str]:
    """One line per advised setting the server (as this connection sees it) differs from, in ADVICE order."""
    by_name = {advice.name: advice for advice in ADVICE}
    rows = connection.execute(
        text("SELECT name, setting, unit, vartype, current_setting(name) FROM pg_settings WHERE name = ANY(:names)"),
        {"names": list(by_name)},
    )
    found = {name: (_value(setting, unit, vartype), shown) for name, setting, unit, vartype, shown in rows}
    return [
        f"{advice.name} = {found[advice.name][1]}, advised {advice.advised}: {advice.why}"
        for advice in ADVICE
        # A setting the server lacks (jit on a build without it) is left out.
        if advice.name in found and not advice.holds(found[advice.name][0])
    ]
