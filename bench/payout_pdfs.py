"""How long a month's payout statement PDFs take, against wkhtmltopdf's own time for the same pages.

The service side is `payouts.statement_files.month_zip` for the bench's last full month: every
statement read (`statements.month_details`), written as HTML, rendered, numbered page by page, zipped, and its
export recorded. The bare side is the `wkhtmltopdf` command alone (`documents.pdf.command`, the
same locked-down options) on the very same HTML pages, as many at a time as the service renders
(`pdf.PARALLEL_RENDERS`): the ratio is what reading, templating, page numbers and the ZIP add.

When the month has no statements yet they are made with `payouts.run.payout_run` in the timing's
transaction and rolled back at the end, so the schema is left as it was (the payout run's own bench
line times the run on a schema without statements). Part of `bench/run.py`; alone:

    .venv/bin/python bench/payout_pdfs.py [--database-url URL] [--schema bench] [--repeat 3] ...
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from stopwatch import best, elapsed_ms  # bench/stopwatch.py, next to this file

NAME = "payout statement PDFs (statement_files.month_zip vs bare wkhtmltopdf)"
MAX_REPEAT = 3  # each repeat renders some 200 PDFs: a few give a steady best


def payout_pdf_figure(app, session, args, month) -> tuple[str, float | None, float | None, str]:
    """(name, best ms, bare best ms, note) for bench/run.py's table."""
    try:
        statement_files = importlib.import_module("admin_app.services.payouts.statement_files")
        payout_run = importlib.import_module("admin_app.services.payouts.run").payout_run
    except ImportError:
        return NAME, None, None, "skipped: no services.payouts.statement_files / run"
    if shutil.which("wkhtmltopdf") is None:
        return NAME, None, None, "skipped: wkhtmltopdf is not installed"
    from admin_app.services.payouts import statements
    from admin_app.services.platform.documents import pdf

    repeat = max(1, min(args.repeat, MAX_REPEAT))
    made = not session.scalar(sa.text("SELECT count(*) FROM payout_statement WHERE month = :m"), {"m": str(month)})
    try:
        if made:
            started = time.perf_counter()
            payout_run(session, month)
            session.flush()
            print(f"Payout run for {month} (for the PDFs, rolled back): {time.perf_counter() - started:.1f} s")
        details = statements.month_details(session, month)
        if not details:
            return NAME, None, None, f"skipped: no payout statement for {month}"
        language = app.config["DEFAULT_LOCALE"]
        pages = [statement_files.statement_html(detail, language=language) for detail in details]

        def service():
            document = statement_files.month_zip(session, month, language=language)
            session.expire_all()  # the next repeat reads the statements again, as a new download would
            return document

        def bare():
            with ThreadPoolExecutor(max_workers=pdf.PARALLEL_RENDERS) as pool:
                return list(pool.map(functools.partial(_wkhtmltopdf, pdf), pages))

        ms, document = _timed(service, repeat)
        bare_ms, rendered = _timed(bare, repeat)
    finally:
        session.rollback()
    lines = sum(len(detail.lines) + len(detail.held_lines) for detail in details)
    note = (
        f"{len(details)} statements, {lines} lines, ZIP {len(document.content) // 1024} KiB, "
        f"bare PDFs {sum(len(one) for one in rendered) // 1024} KiB, {pdf.PARALLEL_RENDERS} at a time"
    )
    return NAME, ms, bare_ms, note


def _wkhtmltopdf(pdf, html: str) -> bytes:
    done = subprocess.run(pdf.command(html), input=html.encode("utf-8"), capture_output=True, check=True)
    return done.stdout


def _timed(func, repeat: int):
    """Median milliseconds of `repeat` runs after one warm-up (no rollback between: the statements
    may exist only in this transaction)."""
    result = func()
    times = []
    for _ in range(repeat):
        ms, result = elapsed_ms(func)
        times.append(ms)
    return best(times), result


def main(argv: list[str] | None = None) -> int:
    import run as bench  # bench/run.py: the same options, schema and demo practice

    args = bench.parse_args(argv)
    app = bench.make_bench_app(bench.schema_url(args.database_url, args.schema))
    with app.app_context():
        from admin_app.extensions import db
        from admin_app.services.platform.clinic_time import clinic_zone
        from admin_app.services.platform.months import Month

        bench.prepare(app, args)
        today = args.today or dt.datetime.now(clinic_zone()).date()
        result = bench.Result(*payout_pdf_figure(app, db.session, args, Month.containing(today).previous()))
    print()
    bench.print_table([result])
    return 0


if __name__ == "__main__":
    sys.exit(main())
