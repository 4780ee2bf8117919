"""`flask` commands: accounts, the demo practice, background jobs, surveys, reports, billing, tasks and imports.
Each goes through a service."""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import DBAPIError

from admin_app import demo
from admin_app.extensions import db
from admin_app.jobs import runner, schedule
from admin_app.services import imports
from admin_app.services.accounts import invitations, logins
from admin_app.services.audit import chain as audit_chain
from admin_app.services.billing import ageing_report, invoice_listing, invoice_run, issuing, payers
from admin_app.services.billing import report as billing_report
from admin_app.services.payouts import report as payouts_report
from admin_app.services.payouts.run import payout_run
from admin_app.services.platform import bounds, clinic_time, documents, races
from admin_app.services.platform.errors import RuleViolation
from admin_app.services.platform.months import Month
from admin_app.services.reports import summaries as reports
from admin_app.services.reports import therapist_month as month_reports
from admin_app.services.rooms import use_report as room_use_report
from admin_app.services.surveys import invitations as surveys
from admin_app.services.tasks import bad_fit
from admin_app.services.tasks import listing as task_listing
from admin_app.services.tasks import scan as task_scan

accounts_cli = AppGroup("accounts", help="Create logins for the staff and the therapists.")
audit_cli = AppGroup("audit", help="Check the audit trail.")


def practice_command(func):
    """Run a command as an audited actor, commit once, and print rule violations plainly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g.audit_actor = f"cli:{click.get_current_context().command_path}"
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except RuleViolation as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None

    return with_appcontext(wrapper)


@accounts_cli.command("create-admin")
@click.option("--email", required=True)
@click.password_option()
@click.option("--locale", type=click.Choice(["es", "en", "fr"]), default=None)
@practice_command
def create_admin(email: str, password: str, locale: str | None) -> None:
    """Create a staff login with every permission."""
    user = logins.create_admin(db.session, email=email, password=password, locale=locale)
    click.echo(f"Admin login created: {user.email}")


@accounts_cli.command("create-therapist-login")
@click.option("--email", required=True, help="The therapist's email, as on their record.")
@click.password_option()
@click.option("--locale", type=click.Choice(["es", "en", "fr"]), default=None)
@practice_command
def create_therapist_login(email: str, password: str, locale: str | None) -> None:
    """Create the login of an existing therapist; they see only their own clients."""
    user = logins.create_therapist_login(db.session, therapist_email=email, password=password, locale=locale)
    click.echo(f"Therapist login created: {user.email}")


@accounts_cli.command("invite")
@click.option("--email", required=True, help="For a therapist: the email on their record.")
@click.option("--role", type=click.Choice(["admin", "therapist"]), required=True)
@click.option("--locale", type=click.Choice(["es", "en", "fr"]), default=None)
@practice_command
def invite(email: str, role: str, locale: str | None) -> None:
    """Create a login without a password and email it a link to choose one (again: a fresh link)."""
    invitation = invitations.invite_login(db.session, role=role, email=email, locale=locale)
    days = current_app.config["INVITATION_VALID_DAYS"]
    click.echo(f"Invitation queued for {invitation.user.email}: the link works for {days} days, once.")


@click.command("seed-demo")
@click.option(
    "--practice",
    type=click.Choice(sorted(demo.PRACTICES)),
    default=None,
    help="Which demo practice (default: DEMO_PRACTICE, else lima).",
)
@click.option(
    "--therapists", type=click.IntRange(min=1), default=None, help="Default: the practice's (Lima 10, Vancouver 40)."
)
@click.option("--months", type=click.IntRange(1, 240), default=18, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The demo's today (default: the clinic's date); fix it to reproduce the same data.",
)
@practice_command
def seed_demo(practice: str | None, therapists: int | None, months: int, today: dt.datetime | None) -> None:
    """Load a deterministic demo practice into an empty database (does nothing if already loaded)."""
    profile = demo.PRACTICES[practice or current_app.config["DEMO_PRACTICE"]]
    summary = demo.load_demo_practice(
        db.session, practice=profile, therapists=therapists, months=months, today=today.date() if today else None
    )
    if summary.outcome == demo.DemoOutcome.NOT_EMPTY:
        click.echo("The database already holds a practice's records; the demo was not loaded.")
        return
    if summary.outcome == demo.DemoOutcome.ALREADY_LOADED:
        click.echo(f"The {profile.label} demo practice is already loaded; nothing was written.")
    else:
        click.echo(
            f"{profile.label} demo practice loaded, appointments from {summary.first_day} to {summary.last_day}:"
        )
        for name, count in summary.counts.items():
            click.echo(f"  {name}: {count}")
    click.echo("Logins:")
    for login in summary.logins:
        click.echo(f"  {login.role}: {login.email} / {login.password}")


jobs_cli = AppGroup(
    "jobs", help="Background work: the periodic schedule (the RQ worker is `python -m admin_app.jobs.worker`)."
)


@jobs_cli.command("tick")
@with_appcontext
def jobs_tick() -> None:
    """Run all periodic work once (reminders, outbox reconciler...): for cron, or without Redis."""
    failed = False
    for name, result in schedule.tick().items():
        failed = failed or isinstance(result, Exception)
        click.echo(f"{name}: {_tick_line(result)}")
    if failed:
        raise click.exceptions.Exit(1)


@jobs_cli.command("runner")
@click.option(
    "--every", type=click.FloatRange(min=0.1), default=runner.DEFAULT_INTERVAL, show_default=True, help="Seconds."
)
@click.option("--stop-with-parent", is_flag=True, help="Stop when the process that started this one ends.")
@with_appcontext
def jobs_runner(every: float, stop_with_parent: bool) -> None:
    """Run all periodic work every minute, and the runs started from the screens as they come,
    until stopped: what `make run` starts beside the web server."""

    last: list[str] = []

    def report(results: dict[str, object]) -> None:
        """One line per tick that did something or went wrong; a quiet minute prints nothing."""
        line = ", ".join(f"{name}: {_tick_line(result)}" for name, result in results.items())
        busy = any(isinstance(result, Exception) or (isinstance(result, int) and result) for result in results.values())
        if busy or line not in last:
            click.echo(line, err=True)
        last[:] = [line]

    app = current_app._get_current_object()
    runner.run(app, every=every, stop_with_parent=stop_with_parent, report=report)


def _tick_line(result: object) -> str:
    return "failed, see the log" if isinstance(result, Exception) else str(result)


surveys_cli = AppGroup("surveys", help="The monthly client survey.")


@surveys_cli.command("send")
@click.option("--month", required=True, help="The month the survey is about, YYYY-MM (clinic time).")
@practice_command
def surveys_send(month: str) -> None:
    """Invite every client who attended a session in the month (again: only those not yet invited)."""
    summary = surveys.send_for_month(db.session, Month.parse(month))
    click.echo(
        f"Survey {summary.month}: {summary.invited} invited, {summary.already_invited} already invited, "
        f"{summary.opted_out} opted out, {summary.no_email} without an email (nor a guardian's)."
    )


report_cli = AppGroup("report", help="Month-end and yearly figures as JSON, CSV or PDF (schemas in the README).")

OUTPUT_OPTION = click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of the standard output.",
)


def _emit(content: str | bytes, output: Path | None) -> None:
    """Text to stdout, or the file `output` (text as UTF-8, bytes as they are)."""
    if output is None:
        click.echo(content, nl=False)
        return
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        output.write_bytes(data)
    except OSError as error:
        raise click.ClickException(f"--output: cannot write {output}: {error.strerror or error}") from None
    click.echo(f"Written: {output}", err=True)


def _json_text(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


@report_cli.command("monthly")
@click.option("--month", required=True, help="The month, YYYY-MM (clinic time).")
@click.option("--format", "output_format", type=click.Choice(["json", "csv", "pdf"]), default="json", show_default=True)
@click.option("--therapist", "therapist_email", default=None, metavar="EMAIL", help="Only this therapist.")
@OUTPUT_OPTION
@practice_command
def report_monthly(month: str, output_format: str, therapist_email: str | None, output: Path | None) -> None:
    """Sessions, gross and commission per therapist and currency for a month, with totals.

    PDF is one therapist's month report: it needs --therapist and --output.
    """
    if output_format == "pdf":
        if output is None:
            raise click.UsageError("--format pdf writes a file: add --output PATH.")
        if therapist_email is None:
            raise click.UsageError("--format pdf is one therapist's month report: add --therapist EMAIL.")
    therapist = reports.therapist_by_email(db.session, therapist_email) if therapist_email else None
    chosen = Month.parse(month, field="--month")
    if output_format == "pdf":
        document = month_reports.month_report_pdf(
            db.session, chosen, therapist.id, language=current_app.config["DEFAULT_LOCALE"]
        )
    else:
        if output_format == "csv":
            text, mimetype = reports.monthly_report_csv(db.session, chosen, therapist_email), documents.CSV_MIMETYPE
        else:
            text, mimetype = _json_text(reports.monthly_report(db.session, chosen, therapist_email)), "application/json"
        document = documents.text_document(
            db.session,
            text,
            mimetype=mimetype,
            filename=documents.file_name("monthly", str(chosen), extension=output_format),
            export=documents.Export(month_reports.AUDITED_ENTITY, therapist.id if therapist else None),
        )
    _emit(document.content, output)


@report_cli.command("yearly")
@click.option("--year", required=True, type=int, help="The year, e.g. 2026 (clinic time).")
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@OUTPUT_OPTION
@practice_command
def report_yearly(year: int, output_format: str, output: Path | None) -> None:
    """Each month of a year: sessions, survey responses and NPS, new and recurrent, virtual and
    on-site clients, gross per currency."""
    if output_format == "csv":
        content = reports.yearly_report_csv(db.session, year)
    else:
        content = _json_text(reports.yearly_report(db.session, year))
    _emit(content, output)


@report_cli.command("new-clients")
@click.option("--from", "first_day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--to", "last_day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@OUTPUT_OPTION
@practice_command
def report_new_clients(first_day: dt.datetime, last_day: dt.datetime, output: Path | None) -> None:
    """Clients whose first ever attended session is in the period (both days included), as CSV."""
    _emit(reports.new_clients_csv(db.session, first_day.date(), last_day.date()).content, output)


billing_cli = AppGroup("billing", help="Payers, authorizations and invoices (formats in the README).")


def _calendar_day(_context, _parameter, value: str | None) -> dt.date | None:
    """A --as-of value: YYYY-MM-DD within the calendar the practice uses (1900 to 2099)."""
    if value is None:
        return None
    try:
        return bounds.calendar_day(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD from {clinic_time.EARLIEST_DATE} to {clinic_time.LATEST_DATE}."
        ) from None


@billing_cli.command("authorizations")
@click.option(
    "--as-of",
    callback=_calendar_day,
    metavar="YYYY-MM-DD",
    help="The day the status is read on (default: today, clinic time).",
)
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@OUTPUT_OPTION
@practice_command
def billing_authorizations(as_of: dt.date | None, output_format: str, output: Path | None) -> None:
    """Every authorization with its approved, scheduled, used, billed and remaining sessions and its status."""
    day = as_of or clinic_time.today()
    if output_format == "csv":
        document = billing_report.authorizations_report_csv(db.session, day)
    else:
        document = billing_report.authorizations_report_json(db.session, day)
    _emit(document.content, output)


@billing_cli.command("invoice-run")
@click.option(
    "--through",
    callback=_calendar_day,
    required=True,
    metavar="YYYY-MM-DD",
    help="The last date of service to invoice.",
)
@click.option("--payer", "payer_name", default=None, help="Only the charges billed to this payer (its name).")
@click.option("--self-pay", is_flag=True, help="Only the charges billed to the clients themselves.")
@practice_command
def billing_invoice_run(through: dt.date, payer_name: str | None, self_pay: bool) -> None:
    """Drafts for the uninvoiced charges up to --through (all or nothing; a second run creates nothing new)."""
    payer_id = payers.payer_id_named(db.session, payer_name) if payer_name is not None else None
    outcome = invoice_run.commit_run(db.session, through=through, payer_id=payer_id, self_pay=self_pay)
    if outcome.run is None:
        click.echo(f"Nothing to invoice through {through.isoformat()}.")
        return
    click.echo(
        f"Invoice run {outcome.run.id}: {outcome.lines} charge(s) on {outcome.new_drafts} new draft(s)"
        f" and {outcome.extended_drafts} existing draft(s)."
    )


@billing_cli.command("issue")
@click.argument("invoice_ids", nargs=-1, type=int)
@click.option("--all-drafts", is_flag=True, help="Issue every draft.")
@practice_command
def billing_issue(invoice_ids: tuple[int, ...], all_drafts: bool) -> None:
    """Issue drafts (by id, or --all-drafts): each takes the next number of its series; all or none."""
    if bool(invoice_ids) == all_drafts:
        raise click.UsageError("Give draft ids or --all-drafts (one of the two).")
    ids = issuing.all_drafts(db.session) if all_drafts else list(invoice_ids)
    if not ids:
        click.echo("No drafts to issue.")
        return
    issued = issuing.issue(db.session, ids)
    click.echo(f"Issued {len(issued)} invoice(s): {issued[0].number} to {issued[-1].number}.")


@billing_cli.command("invoices")
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option(
    "--status", type=click.Choice(invoice_listing.STATUSES), default=None, help="Only invoices in this state."
)
@OUTPUT_OPTION
@practice_command
def billing_invoices(output_format: str, status: str | None, output: Path | None) -> None:
    """Every invoice and credit note with its total, what was paid, its status and its lines."""
    if output_format == "csv":
        document = invoice_listing.invoices_csv(db.session, status)
    else:
        document = invoice_listing.invoices_json(db.session, status)
    _emit(document.content, output)


@report_cli.command("ageing")
@click.option(
    "--as-of", callback=_calendar_day, metavar="YYYY-MM-DD", help="The day ages are counted to (default: today)."
)
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@OUTPUT_OPTION
@practice_command
def report_ageing(as_of: dt.date | None, output_format: str, output: Path | None) -> None:
    """What each payer and self-paying client owes on issued invoices, in 0-30/31-60/61-90/90+ days, per currency."""
    day = as_of or clinic_time.today()
    if output_format == "csv":
        document = ageing_report.ageing_csv(db.session, day)
    else:
        document = ageing_report.ageing_json(db.session, day)
    _emit(document.content, output)


@report_cli.command("payouts")
@click.option("--month", required=True, help="The month of the statements, YYYY-MM (clinic time).")
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@OUTPUT_OPTION
@practice_command
def report_payouts(month: str, output_format: str, output: Path | None) -> None:
    """Each therapist's payout statement of a month: status, lines, earned, held lines, held and
    adjustments per currency."""
    chosen = Month.parse(month, field="--month")
    if output_format == "csv":
        document = payouts_report.payouts_csv(db.session, chosen)
    else:
        document = payouts_report.payouts_json(db.session, chosen)
    _emit(document.content, output)


@report_cli.command("rooms")
@click.option("--month", required=True, help="The month, YYYY-MM (clinic time).")
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@OUTPUT_OPTION
@practice_command
def report_rooms(month: str, output_format: str, output: Path | None) -> None:
    """Room use of a month: reserved and used hours and use per room, and per therapist with their
    on-site hours outside any reservation (CSV: one table, a `kind` column says room or therapist)."""
    chosen = Month.parse(month, field="--month")
    if output_format == "csv":
        document = room_use_report.room_use_csv(db.session, chosen)
    else:
        document = room_use_report.room_use_json(db.session, chosen)
    _emit(document.content, output)


payouts_cli = AppGroup("payouts", help="Therapist payout statements.")


@payouts_cli.command("run")
@click.option("--month", required=True, help="The month to draft the statements of, YYYY-MM (clinic time).")
@practice_command
def payouts_run(month: str) -> None:
    """Draft (or refresh) every therapist's payout statement of --month; approved, sent and paid
    statements are left as they are."""
    summary = payout_run(db.session, Month.parse(month, field="--month"))
    click.echo(
        f"Payout run {summary.month}: {summary.statements} draft statement(s) with {summary.lines} line(s)"
        f" and {summary.held} held line(s); {summary.kept} statement(s) past draft kept as they were."
    )


tasks_cli = AppGroup("tasks", help="The admin tasks the system writes itself (and those added by hand).")


@tasks_cli.command("scan")
@practice_command
def tasks_scan() -> None:
    """Run the task scan once (as the schedule does every 15 minutes): open, refresh and close tasks."""
    result = task_scan.scan(db.session)
    click.echo(f"Task scan: {result.opened} opened, {result.closed} closed.")


@tasks_cli.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--status", type=click.Choice(task_listing.STATUSES), default="open", show_default=True)
@practice_command
def tasks_list(output_format: str, status: str) -> None:
    """The tasks, oldest first: kind, subject, status, the day it opened and who it is assigned to."""
    records = task_listing.task_records(db.session, status=status)
    if output_format == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    for record in records:
        click.echo(
            f"{record['opened_on']}  {record['status']:<6}  {record['kind']:<21}  {record['subject'] or '-':<8}"
            f"  {record['assigned_to'] or '-'}"
        )


bad_fit_cli = AppGroup("bad-fit", help="The Bad Fit list: clients flagged by no-shows and cancellations.")


@bad_fit_cli.command("list")
@click.option("--format", "output_format", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--state", type=click.Choice(bad_fit.STATES), default=None, help="Only entries in this state.")
@OUTPUT_OPTION
@practice_command
def bad_fit_list(output_format: str, state: str | None, output: Path | None) -> None:
    """Every Bad Fit entry (open first): client, therapist's email, reason, date, state."""
    if output_format == "csv":
        document = bad_fit.listing_csv(db.session, state)
    else:
        document = bad_fit.listing_json(db.session, state)
    _emit(document.content, output)


import_cli = AppGroup(
    "import",
    help="Move in from spreadsheets (CSV UTF-8 with comma or semicolon, or XLSX): all rows are "
    "checked first; any error and nothing is written.",
)


def _columns_help(module) -> str:
    def column(name: str) -> str:
        aliases = module.COLUMNS[name]
        return f"{name} [{', '.join(aliases)}]" if aliases else name

    required = ", ".join(column(name) for name in module.COLUMNS if name in module.REQUIRED)
    optional = ", ".join(column(name) for name in module.COLUMNS if name not in module.REQUIRED)
    return f"Columns (Spanish names in brackets): {required}; optional: {optional}."


def _import_command(kind: str, module) -> click.Command:
    @click.command(kind, help=f"Import {kind} from FILE. {_columns_help(module)}")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check and report what would be written; write nothing.")
    @practice_command
    def command(file: Path, dry_run: bool) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise click.ClickException(f"{file}: cannot be read: {error.strerror or error}") from None
        try:
            plan = imports.run(db.session, kind, data, file.name, dry_run=dry_run)
        except DBAPIError as error:
            # Another process saved the same key (email, national ID, a therapist's hour) meanwhile.
            db.session.rollback()
            if races.refusal(error) is None:
                raise
            raise click.ClickException(
                f"{file.name}: the records changed while it was imported; nothing was written. Run the import again."
            ) from None
        if not plan.ok:
            db.session.rollback()
            for error in plan.errors:
                click.echo(str(error), err=True)
            click.echo(f"{len(plan.errors)} error(s) in {file.name}: nothing was written.", err=True)
            raise click.exceptions.Exit(1)
        summary = ", ".join(f"{count} {action}" for action, count in plan.counts().items())
        if dry_run:
            db.session.rollback()
            click.echo(f"Dry run of {file.name}, nothing was written. It would be: {summary}.")
        else:
            click.echo(f"Imported {kind} from {file.name}: {summary}.")
        if plan.matched:
            click.echo(imports.matched_summary(plan.matched))
        for warning in plan.warnings:
            click.echo(f"Warning: {warning}")

    return command


for _kind, _module in imports.KINDS.items():
    import_cli.add_command(_import_command(_kind, _module))


@audit_cli.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the hash chain of the whole audit trail; exits non-zero naming the first row that does not match."""
    check = audit_chain.verify_chain(db.session)
    if check.broken_at is not None:
        raise click.ClickException(
            f"Audit row {check.broken_at} does not match the chain (changed, or the row before it was deleted); "
            f"{check.checked} rows before it are intact."
        )
    click.echo(f"The audit trail is intact: {check.checked} rows checked.")


def register(app: Flask) -> None:
    app.cli.add_command(accounts_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(surveys_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(billing_cli)
    app.cli.add_command(payouts_cli)
    app.cli.add_command(tasks_cli)
    app.cli.add_command(bad_fit_cli)
    app.cli.add_command(import_cli)
