"""The guessing limit of the public links, through gunicorn with three workers and no Redis: the
workers share one count (in the database), so exactly SURVEY_GUESS_LIMIT unknown links answer
"does not work" before every link answers "too many attempts", whichever worker serves them."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter

import pytest

from tests.e2e.conftest import demo_of_its_own

LIMIT = 8
WORKERS = 3
# gunicorn's access log with the worker's pid (GUNICORN_CMD_ARGS overrides gunicorn.conf.py).
PID_LOG = "--access-logformat '%(p)s \"%(m)s %(U)s\" %(s)s'"
# Which idle worker takes a connection is the kernel's choice, and one may take every guess in a row:
# a worker that has served this many requests gives way to a new process, so at least
# LIMIT * WORKERS / MAX_REQUESTS processes serve the guesses.
MAX_REQUESTS = 4


@pytest.fixture(scope="module")
def three_workers(tmp_path_factory):
    """A one-therapist, one-month Lima demo served by three gunicorn workers, without REDIS_URL."""
    settings = {"WEB_CONCURRENCY": str(WORKERS), "SURVEY_GUESS_LIMIT": f"{LIMIT} per hour"}
    settings["GUNICORN_CMD_ARGS"] = f"{PID_LOG} --max-requests {MAX_REQUESTS} --max-requests-jitter 0"
    yield from demo_of_its_own(
        tmp_path_factory, "e2elimits", settings=settings, seed=("--therapists", "1", "--months", "1")
    )


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_survey_guessing_limit_holds_across_workers(three_workers):
    guesses = LIMIT * WORKERS

    answers = [status_of(f"{three_workers.base_url}/survey/guess-{n}") for n in range(guesses)]

    assert answers == [404] * LIMIT + [429] * (guesses - LIMIT)
    served_by = Counter(re.findall(r"^<(\d+)> \"GET /survey/<token>\"", three_workers.log_path.read_text(), re.M))
    assert len(served_by) >= guesses // MAX_REQUESTS, f"too few processes served the guesses: {served_by}"
