"""The database storage of the request limits (admin_app/rate_limits.py): counts that every web
process shares, atomic under concurrent hits, starting again when their window ends, and cleaned up."""

from __future__ import annotations

import datetime as dt
import threading

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import select

from admin_app import rate_limits
from admin_app.extensions import db
from admin_app.jobs import schedule
from admin_app.models import RateLimitCounter


def counters() -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(RateLimitCounter.key, RateLimitCounter.hits)).all())


def test_the_scheme_names_the_apps_database(app):
    storage = storage_from_string(rate_limits.STORAGE_URI)

    assert isinstance(storage, rate_limits.DatabaseStorage)
    assert app.config["RATELIMIT_STORAGE_URI"] == "app-database://"
    assert storage.check()


def test_concurrent_hits_lose_no_count(app):
    storage = rate_limits.DatabaseStorage()
    results: list[int] = []

    def hit_many() -> None:
        with app.app_context():
            results.extend(storage.incr("guess", 60) for _ in range(10))

    workers = [threading.Thread(target=hit_many) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sorted(results) == list(range(1, 41))  # every hit saw its own count
    assert storage.get("guess") == 40
    assert counters() == {"guess": 40}


def test_a_fixed_window_limit_counts_and_starts_again_when_its_window_ends(app, clock):
    limiter = FixedWindowRateLimiter(rate_limits.DatabaseStorage())
    three_a_minute = parse("3 per minute")

    assert [limiter.hit(three_a_minute, "203.0.113.7") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three_a_minute, "198.51.100.9")  # another key, its own count
    assert limiter.get_window_stats(three_a_minute, "203.0.113.7").remaining == 0

    clock.set(clock.now() + dt.timedelta(seconds=61))

    assert limiter.test(three_a_minute, "203.0.113.7")
    assert limiter.hit(three_a_minute, "203.0.113.7")
    assert limiter.get_window_stats(three_a_minute, "203.0.113.7").remaining == 2


def test_the_periodic_clean_up_deletes_only_expired_counters(app, clock):
    storage = rate_limits.DatabaseStorage()
    storage.incr("short", 60)
    storage.incr("long", 3600)
    clock.set(clock.now() + dt.timedelta(minutes=5))
    [entry] = [entry for entry in schedule.PERIODIC if entry.name == "rate-limit-clean-up"]

    assert entry.job() == "1 expired counters deleted"

    assert counters() == {"long": 1}


def test_clear_and_reset(app):
    storage = rate_limits.DatabaseStorage()
    storage.incr("one", 60)
    storage.incr("two", 60, amount=5)

    storage.clear("one")
    assert counters() == {"two": 5}
    assert storage.reset() == 1
    assert counters() == {}
