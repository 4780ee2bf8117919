"""What each kind of run is called on its page, what its result says, and where it leads back to.

The result is kept as figures (`JobRun.result`) and worded here, in the reader's language, with the
very messages the screens flashed when the work ran inside the request.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext, ngettext

from admin_app.models import JobKind, JobRun, JobState
from admin_app.services import imports
from admin_app.services.surveys.invitations import SendSummary
from admin_app.views.billing import invoice_run
from admin_app.views.imports import screen as import_screen
from admin_app.views.payouts import statements
from admin_app.views.surveys.staff.results import sent_message


def title(run: JobRun) -> str:
    month = run.params.get("month", "")
    match run.kind:
        case JobKind.SURVEY_SEND:
            return gettext("Sending the survey for %(month)s", month=month)
        case JobKind.INVOICE_RUN:
            return gettext("Invoice run up to %(day)s", day=run.params.get("through", ""))
        case JobKind.INVOICE_ZIP:
            return gettext("Invoice PDFs in one ZIP")
        case JobKind.PAYOUT_RUN:
            return gettext("Payout run for %(month)s", month=month)
        case JobKind.PAYOUT_ZIP:
            return gettext("Payout statements of %(month)s in one ZIP", month=month)
        case JobKind.IMPORT_CHECK:
            return gettext("Checking %(file)s for the import", file=run.params.get("filename", ""))
        case JobKind.IMPORT_APPLY:
            return gettext("Importing %(file)s", file=run.params.get("filename", ""))
    return run.kind


def status(run: JobRun) -> str:
    match run.state:
        case JobState.QUEUED:
            return gettext("Waiting to start.")
        case JobState.RUNNING if run.total:
            return gettext("Running: %(done)d of %(total)d done.", done=run.done, total=run.total)
        case JobState.RUNNING:
            return gettext("Running.")
        case JobState.DONE:
            return gettext("Done.")
    return gettext("Failed.")


def message(run: JobRun) -> tuple[str, str] | None:
    """The result's message and its category (success, info, error); None while the run is under way."""
    if run.state == JobState.FAILED:
        return run.failure or gettext(
            "The run failed before it finished, and nothing of it was kept. Start it again; "
            "if it fails again, see the application log."
        ), "error"
    if run.state != JobState.DONE:
        return None
    result = run.result or {}
    match run.kind:
        case JobKind.SURVEY_SEND:
            return sent_message(SendSummary(**result))
        case JobKind.INVOICE_RUN:
            return invoice_run.run_message(result)
        case JobKind.PAYOUT_RUN:
            return statements.run_message(result)
        case JobKind.IMPORT_CHECK:
            return checked_message(result)
        case JobKind.IMPORT_APPLY:
            return imported_message(result)
    files = result.get("files", 0)
    return ngettext("%(num)d PDF in the ZIP.", "%(num)d PDFs in the ZIP.", files), "success"


def back_link(run: JobRun) -> tuple[str, str]:
    """Where the run was started from (or what it made), and the link's text."""
    month = run.params.get("month")
    match run.kind:
        case JobKind.SURVEY_SEND:
            return url_for("survey_results.index"), gettext("Back to the survey results")
        case JobKind.INVOICE_RUN:
            drafts = (run.result or {}).get("invoice_run_id")
            return url_for("invoice_run.index", run=drafts), gettext("Back to the invoice run")
        case JobKind.INVOICE_ZIP:
            return url_for("invoice_documents.index"), gettext("Back to the invoice documents")
        case JobKind.IMPORT_CHECK if run.state == JobState.DONE:
            return url_for("imports.preview"), gettext("See the preview")
        case JobKind.IMPORT_CHECK | JobKind.IMPORT_APPLY:
            return url_for("imports.index"), gettext("Back to the import screen")
    return url_for("payouts.index_view", month=month), gettext("Back to the payout statements")


def checked_message(result: dict) -> tuple[str, str]:
    """The check's counts; the preview it leads to lists the rows."""
    counts = result["counts"]
    checked = gettext(
        "%(file)s checked: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged.",
        file=result["file"],
        created=counts[imports.Action.CREATE.value],
        updated=counts[imports.Action.UPDATE.value],
        unchanged=counts[imports.Action.UNCHANGED.value],
    )
    if not result["errors"]:
        return checked, "success"
    errors = ngettext(
        "The file has %(num)d error: see it in the preview; nothing is imported while a row is wrong.",
        "The file has %(num)d errors: see them in the preview; nothing is imported while a row is wrong.",
        result["errors"],
    )
    return f"{checked} {errors}", "warning"


def imported_message(result: dict) -> tuple[str, str]:
    """What the screen flashes after an import done at once, in one message: the counts, the
    clients matched by each key, and the warnings (kept in the starter's language)."""
    said = [import_screen.imported_message(result["file"], result["counts"])]
    if result["matched"]:
        said.append(imports.matched_summary(result["matched"]))
    said.extend(result["warnings"])
    return " ".join(said), "warning" if result["warnings"] else "success"
