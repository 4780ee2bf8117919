"""gunicorn settings shared by `make run` and the Procfile.

The access log leaves out query strings (list searches and lookups carry client names there)
and the secret tokens of password-reset, calendar-feed, survey, invitation and receipt URLs
(admin_app/views/platform/log_privacy.py).

With RUN_PERIODIC_WORK=true (`make run` sets it) the master starts one periodic runner
(`flask jobs runner`: the periodic work every minute, the screens' runs in the background as they
come) beside the web workers and stops it on exit; the app, reading the same setting, leaves those
runs to it instead of performing them in the request.
"""

import os
import subprocess
import sys

from gunicorn.glogging import Logger

from admin_app.views.platform.log_privacy import masked_path, masked_url

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
timeout = 60


class PrivateLogger(Logger):
    """An access log without secrets in paths: the request line (`%(r)s`) loses its query string
    too, and the referring page (`%(f)s`: a page opened from a reset link loads its styles with
    that link as referrer) is masked the same way, should a format show them."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = masked_path(atoms.get("U", ""))
        atoms["r"] = f"{atoms.get('m', '-')} {atoms['U']} {environ.get('SERVER_PROTOCOL', '-')}"
        atoms["f"] = masked_url(atoms.get("f", "-"))
        return atoms


logger_class = PrivateLogger


# The embedded default's periodic work: one runner per gunicorn master, however many workers.
RUNNER = (sys.executable, "-m", "flask", "--app", "admin_app", "jobs", "runner", "--stop-with-parent")


def run_periodic_work(env=os.environ) -> bool:
    raw = env.get("RUN_PERIODIC_WORK", "").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise SystemExit(f"RUN_PERIODIC_WORK: expected true or false, got {raw!r}")


def when_ready(server):
    if run_periodic_work():
        server.periodic_runner = subprocess.Popen(RUNNER)
        server.log.info("Periodic work: runner started (pid %s), every minute", server.periodic_runner.pid)


def on_exit(server):
    runner = getattr(server, "periodic_runner", None)
    if runner is None or runner.poll() is not None:
        return
    runner.terminate()  # it finishes the tick under way
    try:
        runner.wait(timeout=30)
    except subprocess.TimeoutExpired:
        runner.kill()
        runner.wait(timeout=5)
