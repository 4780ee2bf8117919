"""One clock: the application reads "now" in one function, the tests set it with one fixture.

A second way in (a `datetime.now()` in a service, a test patching a module's today) is how a test
ends up computing "last month" from UTC while the job uses the clinic's zone.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
READS_THE_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|datetime\.today|time\.time)\(")
SETS_THE_CLOCK = re.compile(r"time_machine|freezegun|freeze_time|setattr\([^)]*(now|today|utcnow|clock)", re.IGNORECASE)


def offenders(folder: str, pattern: re.Pattern, allowed: set[str]) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_the_application_reads_the_clock_only_in_utcnow():
    """Everything else asks `models.base.utcnow()`, or `clinic_time.today()` for the clinic's date."""
    assert offenders("admin_app", READS_THE_CLOCK, {"admin_app/models/base.py"}) == []


def test_the_tests_set_the_clock_only_with_the_clock_fixture():
    # The end-to-end helpers read the real clock: gunicorn runs in its own process, on real time.
    assert offenders("tests", READS_THE_CLOCK, {"tests/conftest.py", "tests/e2e/helpers.py", THIS}) == []
    assert offenders("tests", SETS_THE_CLOCK, {"tests/conftest.py", THIS}) == []
