"""What the PHI scan after the suite (scripts/phi_scan.py) reads, gathered while the suite runs.

With PHI_SCAN_DIR set (.ci/run sets it), the suite keeps there:
- the logs of the processes it starts (gunicorn, the RQ worker), instead of a temporary folder;
- what each test left in its Redis database (keys, values, RQ job payloads), read before the
  `redis_url` fixture empties it;
- `phi-values.jsonl`: the name, email, phone and national ID of every client the run created, taken
  where they are written: the Client rows inserted or updated in this process, and every client of
  a database a subprocess filled (the end-to-end demo practices), read before that database goes.
Without it nothing is kept and nothing is recorded.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from scripts.phi_scan import VALUES_FILE, redis_texts

FIELDS = ("full_name", "email", "phone", "national_id")


def scan_dir() -> Path | None:
    chosen = os.environ.get("PHI_SCAN_DIR")
    if not chosen:
        return None
    folder = Path(chosen).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def kept_file(name: str, fallback: Path | None = None) -> Path | None:
    """Where a log or snapshot called `name` goes: a new file in PHI_SCAN_DIR, else `fallback`."""
    folder = scan_dir()
    if folder is None:
        return fallback
    stem = re.sub(r"[^\w.-]+", "-", name)[:80]
    return folder / f"{stem}-{uuid.uuid4().hex[:8]}.log"


def keep_output(name: str, output: str) -> None:
    """A subprocess's captured output, kept for the scan (nothing without PHI_SCAN_DIR)."""
    path = kept_file(name)
    if path is not None:
        path.write_text(output or "", encoding="utf-8")


class ClientValues:
    """The clients' identifying values seen during the run, written once at its end."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def add(self, row) -> None:
        for field in FIELDS:
            value = getattr(row, field, None)
            if value:
                self.seen.add((field, str(value)))

    def add_database(self, database_url: str) -> None:
        """Every client of a database a subprocess filled (read just before it is dropped)."""
        from admin_app.models import Client

        engine = sa.create_engine(sa.make_url(database_url).set(drivername=_driver(database_url)))
        try:
            with engine.connect() as connection:
                columns = [getattr(Client.__table__.c, field) for field in FIELDS]
                for row in connection.execute(sa.select(*columns)):
                    self.add(row)
        finally:
            engine.dispose()

    def write(self, folder: Path) -> None:
        with (folder / VALUES_FILE).open("a", encoding="utf-8") as out:
            for field, value in sorted(self.seen):
                out.write(json.dumps({"field": field, "value": value}, ensure_ascii=False) + "\n")


def _driver(database_url: str) -> str:
    return "postgresql+psycopg" if database_url.startswith("postgresql") else sa.make_url(database_url).drivername


RECORDED = ClientValues()


def start_recording() -> None:
    """Record every Client row this process inserts or updates (factories, imports, the demo)."""
    from admin_app.models import Client

    event.listen(Client, "after_insert", lambda _mapper, _connection, client: RECORDED.add(client))
    event.listen(Client, "after_update", lambda _mapper, _connection, client: RECORDED.add(client))


def snapshot_redis(connection, test_name: str) -> None:
    """What a test left in its Redis database, for the scan (the fixture empties it next)."""
    keys = list(connection.scan_iter())
    if not keys:
        return
    with kept_file(f"redis-{test_name}").open("wb") as out:
        for name, text in redis_texts(connection, keys):
            out.write(name + b"\n" + text + b"\n")
