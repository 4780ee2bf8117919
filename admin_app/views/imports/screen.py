"""The import screen: upload a spreadsheet, see what it would do (counts, and every row with its
outcome or its errors, by outcome and page), confirm.

Between the preview and the confirmation the file waits on the server, as
`instance/imports/<random token>.<csv|xlsx>`, and its checked preview beside it as
`<token>.preview.json` (services.imports.uploads): the pages of the preview read that again, never
the file. The Flask session keeps only the token, the kind and the original file name, so nothing
from the file travels in a URL. Confirming reads the file again and re-runs the whole check, since
the records may have changed since the preview. A new upload, a confirmation or a cancel deletes
the waiting files; files left behind by an abandoned preview are swept on the next upload.

A file of more than IMPORT_BACKGROUND_ROWS rows is checked, and imported, as a run in the
background (jobs.imports): the screen goes to the run's page, which leads to the preview once the
check is done, or says what was imported.
"""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

from flask import flash, redirect, request, session, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from admin_app.extensions import db
from admin_app.models import JobKind
from admin_app.services import imports
from admin_app.services.imports import Preview
from admin_app.services.imports.preview import ERROR
from admin_app.services.imports.uploads import (
    CHANGED_MEANWHILE,
    EXTENSIONS,
    FILE_GONE,
    NOT_PASSING,
    Pending,
    sweep_stale_uploads,
    upload_folder,
)
from admin_app.services.platform import races
from admin_app.services.platform.errors import RuleViolation
from admin_app.views.job_runs.start import start_run
from admin_app.views.platform.base import RoleRequired
from admin_app.views.platform.rules import commit_or_flash

MAX_BYTES = 20 * 1024 * 1024
FORM_OVERHEAD = 64 * 1024  # the multipart envelope and the other fields around the file
SESSION_KEY = "pending_import"

KIND_LABELS = {
    "therapists": _l("Therapists"),
    "clients": _l("Clients"),
    "appointments": _l("Appointments"),
    "authorizations": _l("Authorizations"),
    "payments": _l("Payments"),
    "rooms": _l("Sites and rooms"),
    "reservations": _l("Room reservations"),
}
KIND_NOTES = {
    "therapists": _l(
        "A row with a commission pays the therapist that percentage of each fee, one with a service fee pays "
        "the fee less that amount; a new therapist needs one of the two, and a row never both. A change of "
        "compensation applies from terms_from (a day of the current month up to today), else from the day of "
        "the import. Therapists are matched by email: a known email updates the record."
    ),
    "clients": _l(
        "Several therapists (by email) or guardians (by national ID) are separated by ;. An empty payer is "
        "self-pay; a new payer is created. Clients are matched by national ID, else client number, else email: "
        "a known one is updated, and what the row does not mention is kept. A new client keeps the client "
        "number the row gives, or gets the next one."
    ),
    "appointments": _l(
        "One row per client and session, matched by therapist, start and client (by national ID, else client "
        "number, else email). Another client at a "
        "therapist's booked start is a clash, unless the kind column says couple, family or group (pareja, "
        "familia, grupo): then the rows are participants of one session and must agree on its end and modality. "
        "A payer column bills the client's session to that payer (empty: the client); an authorization column "
        "names the payer's reference to use (empty: the earliest ending one with a session left). An on-site "
        "session may name its room with the site and room columns, both or neither (names as on the Sites "
        "screen, any case); the room and its site must be in use, and a virtual session takes none. A room "
        "another therapist has reserved at that time is imported with a warning."
    ),
    "authorizations": _l(
        "One row per authorization, known by its payer and reference: a known one is updated. The client (by "
        "national ID, else client number, else email) and the payer (by name) must exist. Sessions of that client "
        "billed to that payer and not yet linked are then linked, in order of start."
    ),
    "payments": _l(
        "One row per payment received. An invoice number records the payer's payment of that invoice; a payer "
        "alone pays its oldest open invoices in that currency; a client (by national ID or client number) pays "
        "their oldest open charges first and gets a receipt number. What a payment does not cover stays on it, "
        "unapplied. The same file imported twice records its payments twice."
    ),
    "rooms": _l(
        "One row per room, with its site. Missing sites and rooms are created; a site's address is filled in "
        "only when it has none (a different address is an error: change it on the Sites screen)."
    ),
    "reservations": _l(
        "One row per reservation: the therapist by email, the site and room by name, the day as 1 (Monday) to 7 "
        "or its name, from and to as HH:MM. A reservation may not overlap another of the same room, stored or "
        "earlier in the file. The same file imported twice is refused as overlapping itself."
    ),
}
ACTION_LABELS = {
    imports.Action.CREATE: _l("To create"),
    imports.Action.UPDATE: _l("To update"),
    imports.Action.UNCHANGED: _l("Unchanged"),
}
OUTCOME_LABELS = {**{action.value: label for action, label in ACTION_LABELS.items()}, ERROR: _l("In error")}


def pending_upload() -> Pending | None:
    """The session's waiting upload; None when there is none or the cookie holds anything odd."""
    return Pending.of(session.get(SESSION_KEY))


def discard_pending() -> None:
    pending = pending_upload()
    session.pop(SESSION_KEY, None)
    if pending is not None:
        pending.discard()


def in_background(pending: Pending, kind: JobKind):
    """Go to the upload's run of `kind` (checking, importing), started now; or to the one already
    under way for this upload, of either kind."""
    return start_run(kind, pending.run_key, dataclasses.asdict(pending))


def too_large_message() -> str:
    return gettext(
        "The file is larger than %(max)d MB. Split it into smaller files, or import it with "
        "`flask import` on the server.",
        max=MAX_BYTES // (1024 * 1024),
    )


def imported_message(filename: str, counts: dict[str, int]) -> str:
    """What a confirmed import did, as the screen says it at once and a run in the background at its end."""
    return gettext(
        "%(file)s imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
        file=filename,
        created=counts[imports.Action.CREATE.value],
        updated=counts[imports.Action.UPDATE.value],
        unchanged=counts[imports.Action.UNCHANGED.value],
    )


def kinds_help() -> list[dict]:
    """Each kind with its columns (Spanish names in brackets), required ones first."""
    described = []
    for kind, module in imports.KINDS.items():

        def column(name: str, module=module) -> str:
            aliases = module.COLUMNS[name]
            return f"{name} [{', '.join(aliases)}]" if aliases else name

        described.append(
            {
                "kind": kind,
                "label": KIND_LABELS.get(kind, kind),
                "note": KIND_NOTES.get(kind),
                "required": [column(name) for name in module.COLUMNS if name in module.REQUIRED],
                "optional": [column(name) for name in module.COLUMNS if name not in module.REQUIRED],
            }
        )
    return described


class ImportView(RoleRequired, BaseView):
    """Upload → preview (counts and every error) → confirm; admin only."""

    @expose("/")
    def index(self):
        pending = pending_upload()
        if pending is not None and not pending.path.exists():  # imported in the background, or swept
            session.pop(SESSION_KEY, None)
            pending = None
        return self.render(
            "admin/import.html",
            step="upload",
            kinds=kinds_help(),
            pending=pending,
            max_mb=MAX_BYTES // (1024 * 1024),
        )

    @expose("/upload", methods=("POST",))
    def upload(self):
        if (request.content_length or 0) > MAX_BYTES + FORM_OVERHEAD:
            flash(too_large_message(), "error")
            return redirect(url_for(".index"))
        request.max_content_length = MAX_BYTES + FORM_OVERHEAD  # a body without a length
        try:
            kind = request.form.get("kind", "")
            upload = request.files.get("file")
        except RequestEntityTooLarge:
            flash(too_large_message(), "error")
            return redirect(url_for(".index"))
        if kind not in imports.KINDS:
            flash(
                gettext("Choose what the file holds: therapists, clients, appointments, authorizations or payments."),
                "error",
            )
            return redirect(url_for(".index"))
        if upload is None or not upload.filename:
            flash(gettext("Choose a file to import."), "error")
            return redirect(url_for(".index"))
        filename = Path(upload.filename).name[:200]
        extension = Path(filename).suffix.lower().lstrip(".")
        if extension not in EXTENSIONS:
            flash(
                gettext("Only CSV and XLSX files can be imported: save the spreadsheet as CSV UTF-8 or XLSX."), "error"
            )
            return redirect(url_for(".index"))
        data = upload.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            flash(too_large_message(), "error")
            return redirect(url_for(".index"))

        discard_pending()
        folder = upload_folder()
        folder.mkdir(parents=True, exist_ok=True)
        sweep_stale_uploads(folder)
        pending = Pending(token=secrets.token_urlsafe(24), kind=kind, filename=filename, extension=extension)
        pending.path.write_bytes(data)
        session[SESSION_KEY] = dataclasses.asdict(pending)
        if imports.runs_in_background(data, filename):
            return in_background(pending, JobKind.IMPORT_CHECK)
        return redirect(url_for(".preview"))

    @expose("/preview")
    def preview(self):
        """The saved preview (the file is checked once, on the first visit, or by a run in the
        background for a large file), at the page and outcome the query string asks for."""
        pending = pending_upload()
        if pending is None:
            return nothing_waiting()
        preview = Preview.load(pending.preview_path)
        if preview is None:
            try:
                if imports.runs_in_background(pending.path.read_bytes(), pending.filename):
                    return in_background(pending, JobKind.IMPORT_CHECK)  # or the run under way
                preview = imports.preview_file(
                    db.session, kind=pending.kind, path=pending.path, filename=pending.filename
                )
            except OSError:
                return file_gone()
            except RuleViolation as error:
                discard_pending()
                flash(str(error), "error")
                return redirect(url_for(".index"))
            finally:
                db.session.rollback()  # a check writes nothing: end its read transaction
            preview.save(pending.preview_path)
        return self.render_preview(
            pending, preview, outcome=request.args.get("outcome"), page=request.args.get("page", 1, type=int)
        )

    @expose("/confirm", methods=("POST",))
    def confirm(self):
        pending = pending_upload()
        if pending is None:
            return nothing_waiting()
        try:
            data = pending.path.read_bytes()
        except OSError:
            return file_gone()
        pending.preview_path.unlink(missing_ok=True)  # whatever happens next, the file is checked again
        if imports.runs_in_background(data, pending.filename):
            return in_background(pending, JobKind.IMPORT_APPLY)
        try:
            with commit_or_flash() as outcome:  # a plan with errors wrote nothing: its commit is empty
                plan = imports.run(db.session, pending.kind, data, pending.filename)
        except DBAPIError as error:
            # Someone saved the same key (email, national ID, a therapist's hour) since the check.
            db.session.rollback()
            if (refusal := races.refusal(error, otherwise=CHANGED_MEANWHILE)) is None:
                raise
            flash(str(refusal), "error")
            return redirect(url_for(".preview"))
        if outcome.refusal:
            discard_pending()
            return redirect(url_for(".index"))
        if not plan.ok:
            flash(str(NOT_PASSING), "error")
            preview = Preview.of(plan)
            preview.save(pending.preview_path)
            return self.render_preview(pending, preview)
        discard_pending()
        flash(imported_message(pending.filename, plan.counts()), "success")
        if plan.matched:
            flash(imports.matched_summary(plan.matched), "info")
        for warning in plan.warnings:
            flash(warning, "warning")
        return redirect(url_for(".index"))

    @expose("/cancel", methods=("POST",))
    def cancel(self):
        discard_pending()
        flash(gettext("The uploaded file was discarded; nothing was imported."), "info")
        return redirect(url_for(".index"))

    def render_preview(self, pending: Pending, preview: Preview, *, outcome: str | None = None, page: int = 1):
        """`outcome` None: the rows in error when there are some (what to fix), else every row;
        "all": every row."""
        counts = preview.counts()
        if outcome is None and counts[ERROR]:
            outcome = ERROR
        return self.render(
            "admin/import.html",
            step="preview",
            pending=pending,
            kind_label=KIND_LABELS.get(pending.kind, pending.kind),
            preview=preview,
            counts=[(action.value, label, counts[action.value]) for action, label in ACTION_LABELS.items()],
            tabs=[("all", gettext("All rows"), len(preview.rows))]
            + [(key, label, counts[key]) for key, label in OUTCOME_LABELS.items()],
            shown=preview.page(outcome, page),
            outcome_labels=OUTCOME_LABELS,
            matched=imports.matched_summary(preview.matched),
        )


def nothing_waiting():
    flash(gettext("There is no uploaded file waiting: upload the file first."), "info")
    return redirect(url_for(".index"))


def file_gone():
    session.pop(SESSION_KEY, None)
    flash(str(FILE_GONE), "error")
    return redirect(url_for(".index"))
