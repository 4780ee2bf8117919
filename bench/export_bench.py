"""How long the list exports take through gunicorn, and how much memory the worker needs for them.

Loads the demo practice (`flask seed-demo`, 10 therapists x 18 months: about 12,000 appointments) into
a temporary SQLite file, or into a PostgreSQL schema of its own with `--database-url`, serves it with
gunicorn (`gunicorn.conf.py`, one worker, so every download lands in the measured process), signs in
as the demo admin and downloads each export in full, `--repeat` times:

- the time to the last byte, the size, and the rows read back (CSV after its BOM; XLSX with openpyxl);
- the worker's peak resident memory during the download (`VmHWM` after resetting it through
  `/proc/<pid>/clear_refs`) and its resident memory before it.

    .venv/bin/python bench/export_bench.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                           [--port 5141] [--repeat 3] [--list appointment --list client]
"""

from __future__ import annotations

import argparse
import csv
import http.cookiejar
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

import openpyxl
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from admin_app.demo import ADMIN_PASSWORD, LIMA  # noqa: E402
from tests.conftest import private_schema  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (a private schema is used); default SQLite")
    parser.add_argument("--port", type=int, default=5141)
    parser.add_argument("--repeat", type=int, default=3, help="downloads of each export; the median is printed")
    parser.add_argument("--list", action="append", dest="lists", help="list endpoint(s) (default: appointment)")
    return parser.parse_args(argv)


@contextmanager
def demo_database(database_url: str | None):
    if database_url:
        with private_schema(database_url, "bench_export") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/practice.sqlite3"


def server_env(database_url: str, port: int) -> dict[str, str]:
    return {
        **{key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG", "TMPDIR")},
        "FLASK_APP": "admin_app",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-secret-key",
        "CLINIC_TIMEZONE": "America/Lima",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
    }


@contextmanager
def gunicorn(env: dict[str, str]):
    for command in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    if env["DATABASE_URL"].startswith("postgresql"):  # the test server runs without autovacuum
        engine = sa.create_engine(env["DATABASE_URL"])
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
        engine.dispose()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "admin_app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def signed_in_opener(base_url: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    for _attempt in range(150):
        try:
            page = opener.open(f"{base_url}/login", timeout=5).read().decode()
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("gunicorn did not answer")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": LIMA.admin_email, "password": ADMIN_PASSWORD, "csrf_token": token})
    opener.open(f"{base_url}/login", data=form.encode(), timeout=30).read()
    return opener


def worker_pid(master: subprocess.Popen) -> int:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def memory_kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


def rows_in(body: bytes, export_type: str) -> int:
    if export_type == "csv":
        text = body.decode("utf-8")
        assert text.startswith("\ufeff")
        return sum(1 for _row in csv.reader(io.StringIO(text[1:]))) - 1
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    count = sum(1 for _row in workbook.active.iter_rows(values_only=True)) - 1
    workbook.close()
    return count


def measure(opener, url: str, pid: int, export_type: str) -> tuple[float, int, int, int, int]:
    before = memory_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak to the current size
    start = time.perf_counter()
    with opener.open(url, timeout=120) as answer:
        body = answer.read()
    seconds = time.perf_counter() - start
    return seconds, len(body), rows_in(body, export_type), before, memory_kib(pid, "VmHWM")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    base_url = f"http://127.0.0.1:{args.port}"
    with ExitStack() as stack:
        database_url = stack.enter_context(demo_database(args.database_url))
        master = stack.enter_context(gunicorn(server_env(database_url, args.port)))
        opener = signed_in_opener(base_url)
        pid = worker_pid(master)
        print(f"database: {database_url.split('?')[0]}  worker pid {pid}")
        print(f"{'export':<24} {'rows':>7} {'MiB':>6} {'seconds':>8} {'RSS before':>11} {'peak RSS':>9}")
        print("(seconds: median of the downloads; RSS before the first, peak over all of them)")
        for name in args.lists or ["appointment"]:
            for export_type in ("csv", "xlsx"):
                runs = [
                    measure(opener, f"{base_url}/admin/{name}/export/{export_type}/", pid, export_type)
                    for _ in range(args.repeat)
                ]
                seconds = statistics.median(run[0] for run in runs)
                _s, size, rows, before, _peak = runs[0]  # memory from before the first download
                print(
                    f"{name + ' ' + export_type:<24} {rows:>7} {size / 2**20:>6.1f} {seconds:>8.2f} "
                    f"{before / 1024:>9.1f} M {max(run[4] for run in runs) / 1024:>7.1f} M"
                )


if __name__ == "__main__":
    main()
