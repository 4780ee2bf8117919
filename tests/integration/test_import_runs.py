"""A large file on the import screen (more rows than IMPORT_BACKGROUND_ROWS, here 5) is checked and
imported as runs in the background (jobs.imports): the upload goes to the run's page, whose bar
counts the rows checked and which leads to the preview; confirming goes to the import's run, whose
result is the screen's message. A small file keeps the screen's own path. Nothing is written before
the confirmation, nor by an import that fails.

Where no runner runs (these tests) a run is performed when the request that started it commits;
`runner_app` has one, so runs wait in the queue.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_app.extensions import db
from admin_app.jobs import job_runs as run_jobs
from admin_app.models import Client, JobKind, JobRun, JobState
from tests.conftest import login, make_app
from tests.factories import make_admin, make_therapist
from tests.integration.test_import_people import csv_bytes
from tests.integration.test_import_preview import tabs
from tests.integration.test_import_screen import CONFIRM, INDEX, PREVIEW, preview_rows, upload, waiting_files
from tests.pages import body, flashed, run_link, run_result, text_of

THRESHOLD = 5


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    """Uploaded files under tmp_path, and a small threshold for the runs in the background."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", THRESHOLD)
    return tmp_path / "imports"


def clients_file(count: int) -> bytes:
    return csv_bytes(
        [["name", "national_id", "email"]]
        + [[f"Client {n:03d}", f"4{n:07d}", f"client{n}@example.com"] for n in range(1, count + 1)]
    )


def upload_and_follow(visitor, data: bytes):
    return visitor.get(upload(visitor, "clients", data, "clients.csv").location)


def runs() -> list[JobRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_large_file_is_checked_in_the_background_then_its_preview_lists_the_rows(admin_client, uploads):
    page = upload_and_follow(admin_client, clients_file(8))

    [run] = runs()
    assert page.request.path == f"/admin/jobs/{run.id}"
    assert "Checking clients.csv for the import" in text_of(body(page))
    assert run_result(page) == "clients.csv checked: 8 to create, 0 to update, 0 unchanged."
    assert 'aria-valuenow="100"' in body(page)
    assert (run.kind, run.state, run.done, run.total) == (JobKind.IMPORT_CHECK, JobState.DONE, 8, 8)
    assert {key: value for key, value in run.params.items() if key != "token"} == {
        "kind": "clients",
        "filename": "clients.csv",
        "extension": "csv",
    }  # what the job needs besides the run's id: the waiting file's name, never its rows
    assert db.session.query(Client).count() == 0  # a check writes nothing
    assert run_link(page, "job-run-back") == PREVIEW

    preview = body(admin_client.get(PREVIEW))

    assert tabs(preview)["all"] == "All rows 8"
    assert [row["keys"] for row in preview_rows(preview)][:2] == [
        ["Client 001", "40000001", "client1@example.com"],
        ["Client 002", "40000002", "client2@example.com"],
    ]
    assert 'id="import-confirm"' in preview
    assert len(runs()) == 1  # the pages read the saved preview


def test_confirming_a_large_file_imports_it_in_the_background_with_the_screens_message(admin_client, uploads):
    upload(admin_client, "clients", clients_file(8), "clients.csv")

    page = admin_client.post(CONFIRM, follow_redirects=True)

    check, apply = runs()
    assert page.request.path == f"/admin/jobs/{apply.id}"
    assert "Importing clients.csv" in text_of(body(page))
    assert run_result(page) == "clients.csv imported: 8 created, 0 updated, 0 unchanged."
    assert (apply.kind, apply.state, apply.total) == (JobKind.IMPORT_APPLY, JobState.DONE, 8)
    assert db.session.query(Client).count() == 8
    assert waiting_files(uploads) == []  # the upload is done with
    assert run_link(page, "job-run-back") == INDEX
    screen = body(admin_client.get(INDEX))
    assert 'id="pending-import"' not in screen  # nothing waits any more
    assert flashed(admin_client.get(PREVIEW, follow_redirects=True)) == [
        "There is no uploaded file waiting: upload the file first."
    ]


def test_a_large_import_that_no_longer_passes_the_checks_writes_nothing_and_shows_why(admin_client, uploads):
    ana = make_therapist(full_name="Ana Pérez", email="ana@example.com")
    db.session.commit()
    rows = [["name", "national_id", "therapists"]] + [[f"Client {n}", f"4{n:07d}", "ana@example.com"] for n in range(8)]
    upload(admin_client, "clients", csv_bytes(rows), "clients.csv")
    ana.email = "ana.perez@example.com"  # changed on another screen since the check
    db.session.commit()

    page = admin_client.post(CONFIRM, follow_redirects=True)

    assert run_result(page) == (
        "The file does not pass the checks (the practice's records may have changed since the preview): "
        "nothing was imported. The errors are listed below."
    )
    assert runs()[-1].state == JobState.FAILED
    assert db.session.query(Client).count() == 0  # nothing of the file
    assert run_link(page, "job-run-back") == INDEX
    assert 'id="pending-import"' in body(admin_client.get(INDEX))  # the file still waits
    preview = body(admin_client.get(PREVIEW))
    assert tabs(preview)["error"] == "In error 8"  # checked again, with today's records
    assert preview_rows(preview)[0]["errors"] == [("therapists", "no therapist has the email ana@example.com")]


def test_a_large_file_that_cannot_be_read_is_the_runs_failure_and_is_discarded(admin_client, uploads):
    latin1 = clients_file(8).replace(b"Client 001", "Clíent 001".encode("latin-1"))

    page = upload_and_follow(admin_client, latin1)

    assert run_result(page) == "File: the file is not UTF-8 text; save it as CSV UTF-8 or as XLSX"
    assert runs()[0].state == JobState.FAILED
    assert run_link(page, "job-run-back") == INDEX
    assert waiting_files(uploads) == []
    assert 'id="pending-import"' not in body(admin_client.get(INDEX))


def test_a_small_file_is_still_checked_and_imported_at_once(admin_client, uploads):
    uploaded = upload(admin_client, "clients", clients_file(THRESHOLD), "clients.csv")

    assert uploaded.location == PREVIEW
    assert tabs(body(admin_client.get(PREVIEW)))["all"] == f"All rows {THRESHOLD}"
    confirmed = admin_client.post(CONFIRM, follow_redirects=True)

    assert confirmed.request.path == INDEX
    assert flashed(confirmed)[0] == "clients.csv imported: 5 created, 0 updated, 0 unchanged."
    assert runs() == []


@pytest.fixture
def runner_app(app, database_url, tmp_path):
    """The app as `make run` has it: runs wait for the embedded runner (performed here by hand)."""
    waiting = make_app(database_url, RUN_PERIODIC_WORK=True, IMPORT_BACKGROUND_ROWS=THRESHOLD)
    waiting.instance_path = str(tmp_path)
    with waiting.app_context():
        yield waiting
        db.session.remove()


def test_one_run_at_a_time_per_upload_and_the_preview_waits_for_it(runner_app):
    make_admin(email="boss@example.com", locale="es")
    db.session.commit()
    staff = runner_app.test_client()
    login(staff, "boss@example.com")

    started = upload(staff, "clients", clients_file(8).replace(b"client3@example.com", b"client3@"), "clients.csv")
    again = staff.get(PREVIEW)  # not checked yet: the run under way
    confirm = staff.post(CONFIRM)  # the import waits for the check

    assert started.location == again.location == confirm.location
    [run] = runs()
    assert (run.state, run.language) == (JobState.QUEUED, "es")
    assert run_jobs.perform_run(run.id) == "done"
    # The preview's texts are the starter's language, though the run had no request to tell it.
    [in_error] = preview_rows(body(staff.get(PREVIEW)))
    assert in_error["errors"] == [("email", "client3@ no es un correo electrónico válido")]
    assert db.session.query(Client).count() == 0
