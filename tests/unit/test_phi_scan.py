"""scripts/phi_scan.py, the CI step after the suite: it fails on a client's value planted in a log or
in Redis, passes when there is none, and fails when it read nothing. The planted client is no test
data's, so the suite's own scan never meets it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import redis
from rq import Queue

from scripts.phi_scan import VALUES_FILE, scan

ROOT = Path(__file__).resolve().parents[2]
CLIENT = {
    "full_name": "Plantada Pérez",
    "email": "plantada.p@example.com",
    "phone": "+51900000777",
    "national_id": "ZZ7654321",
}


def folder_with_values(tmp_path: Path, log: str = "") -> Path:
    lines = [json.dumps({"field": field, "value": value}) for field, value in CLIENT.items()]
    (tmp_path / VALUES_FILE).write_text("\n".join(lines) + "\n")
    request_line = '127.0.0.1 [05/Dec/2026:09:00:00] "GET /portal/ HTTP/1.1" 200\n'
    (tmp_path / "gunicorn-e2e.log").write_text(request_line + log, encoding="utf-8")
    return tmp_path


def scanned(folder: Path, redis_url: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    return scan(folder, redis_url, out=out), out.getvalue()


def test_a_clean_log_passes_and_says_what_it_read(tmp_path):
    status, report = scanned(folder_with_values(tmp_path))
    assert status == 0, report
    assert "1 files, 0 Redis keys read; 6 client values looked for" in report


def test_a_name_in_a_log_fails_naming_the_file_and_the_field(tmp_path):
    status, report = scanned(folder_with_values(tmp_path, "GET /admin/client/?search=plantada pérez 200\n"))
    assert status == 1
    assert "gunicorn-e2e.log: full_name 'plantada pérez'" in report


def test_a_national_id_in_a_nested_log_fails(tmp_path):
    folder = folder_with_values(tmp_path)
    (folder / "e2e").mkdir()
    (folder / "e2e" / "worker.log").write_text("job failed for ZZ7654321\n")
    status, report = scanned(folder)
    assert status == 1
    assert "national_id 'zz7654321'" in report


def test_nothing_to_read_fails(tmp_path):
    (tmp_path / VALUES_FILE).write_text(json.dumps({"field": "full_name", "value": "Plantada Pérez"}) + "\n")
    status, report = scanned(tmp_path)
    assert status == 1
    assert "no file read" in report


def test_no_recorded_values_fails(tmp_path):
    (tmp_path / "gunicorn.log").write_text("GET / 200\n")
    status, report = scanned(tmp_path)
    assert status == 1
    assert "no client values recorded" in report


def test_an_rq_job_carrying_an_email_fails_and_one_carrying_an_id_passes(tmp_path, redis_url):
    folder = folder_with_values(tmp_path)
    connection = redis.Redis.from_url(redis_url)
    Queue("messages", connection=connection).enqueue("admin_app.jobs.messages.deliver", 41)
    status, report = scanned(folder, redis_url)
    assert status == 0, report
    assert "Redis keys read" in report and " 0 Redis keys" not in report

    Queue("messages", connection=connection).enqueue("admin_app.jobs.messages.deliver", "plantada.p@example.com")
    status, report = scanned(folder, redis_url)
    assert status == 1
    assert "email 'plantada.p@example.com'" in report
    assert "redis key rq:job:" in report
    connection.flushdb()  # nothing planted reaches the suite's own Redis snapshot (tests/phi.py)


def test_a_phone_written_without_its_country_code_fails(tmp_path):
    status, report = scanned(folder_with_values(tmp_path, "SMS queued for 900000777\n"))
    assert status == 1
    assert "phone '900000777'" in report


def test_a_phone_written_without_its_plus_fails(tmp_path):
    status, report = scanned(folder_with_values(tmp_path, "SMS to=51900000777 queued\n"))
    assert status == 1
    assert "phone '51900000777'" in report


def test_a_value_inside_a_longer_identifier_is_not_that_value(tmp_path):
    """CI once failed on a clean run: a test client's national ID `ab-99` was found inside an RQ job
    id. A value is found where it stands alone, wherever it sits in a line."""
    folder = folder_with_values(tmp_path, "rq:job:5c1e40ab-99f1-4d2a-8b3e-0a1b2c3d4e5f started\n")
    with (folder / VALUES_FILE).open("a") as values:
        values.write(json.dumps({"field": "national_id", "value": "ab-99"}) + "\n")
    assert scanned(folder)[0] == 0

    (folder / "worker.log").write_text("lookup failed for AB-99: unknown\nid=ab-99\n")
    status, report = scanned(folder)
    assert status == 1
    assert report.count("national_id 'ab-99'") == 1  # once per file, in worker.log
    assert "worker.log: national_id 'ab-99'" in report


def test_the_command_line_exits_non_zero_on_a_finding(tmp_path):
    folder = folder_with_values(tmp_path, "reminder sent to +51900000777\n")
    done = subprocess.run(
        [sys.executable, "scripts/phi_scan.py", str(folder)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "phone '+51900000777'" in done.stdout


def test_a_one_word_name_is_an_ordinary_word_and_not_looked_for(tmp_path):
    folder = folder_with_values(tmp_path, "job 3f2a expired after 60 s\n")
    with (folder / VALUES_FILE).open("a") as values:
        values.write(json.dumps({"field": "full_name", "value": "expired"}) + "\n")

    status, report = scanned(folder)

    assert status == 0, report
    assert "6 client values looked for" in report  # the one-word name is not among them
