"""`flask` commands: accounts, the demo practice and background jobs. Each goes through a service."""

from __future__ import annotations

import datetime as dt
import functools

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup, with_appcontext

from admin_app.extensions import db
from admin_app.jobs import schedule, worker_process
from admin_app.services import accounts, demo, surveys
from admin_app.services.errors import RuleViolation

accounts_cli = AppGroup("accounts", help="Create logins for the staff and the therapists.")


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
    user = accounts.create_admin(db.session, email=email, password=password, locale=locale)
    click.echo(f"Admin login created: {user.email}")


@accounts_cli.command("create-therapist-login")
@click.option("--email", required=True, help="The therapist's email, as on their record.")
@click.password_option()
@click.option("--locale", type=click.Choice(["es", "en", "fr"]), default=None)
@practice_command
def create_therapist_login(email: str, password: str, locale: str | None) -> None:
    """Create the login of an existing therapist; they see only their own clients."""
    user = accounts.create_therapist_login(db.session, therapist_email=email, password=password, locale=locale)
    click.echo(f"Therapist login created: {user.email}")


@click.command("seed-demo")
@click.option("--therapists", type=click.IntRange(1, demo.MAX_THERAPISTS), default=10, show_default=True)
@click.option("--months", type=click.IntRange(1, 240), default=18, show_default=True)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The demo's today (default: the clinic's date); fix it to reproduce the same data.",
)
@practice_command
def seed_demo(therapists: int, months: int, today: dt.datetime | None) -> None:
    """Load a deterministic demo practice into an empty database (does nothing if already loaded)."""
    summary = demo.load_demo_practice(
        db.session, therapists=therapists, months=months, today=today.date() if today else None
    )
    if summary.outcome == demo.DemoOutcome.NOT_EMPTY:
        click.echo("The database already holds a practice's records; the demo was not loaded.")
        return
    if summary.outcome == demo.DemoOutcome.ALREADY_LOADED:
        click.echo("The demo practice is already loaded; nothing was written.")
    else:
        click.echo(f"Demo practice loaded, appointments from {summary.first_day} to {summary.last_day}:")
        for name, count in summary.counts.items():
            click.echo(f"  {name}: {count}")
    click.echo("Logins:")
    for login in summary.logins:
        click.echo(f"  {login.role}: {login.email} / {login.password}")


jobs_cli = AppGroup("jobs", help="Background work: the periodic schedule and the RQ worker.")


@jobs_cli.command("tick")
@with_appcontext
def jobs_tick() -> None:
    """Run all periodic work once (reminders, outbox reconciler...): for cron, or without Redis."""
    failed = False
    for name, result in schedule.tick().items():
        failed = failed or isinstance(result, Exception)
        click.echo(f"{name}: {'failed, see the log' if isinstance(result, Exception) else result}")
    if failed:
        raise click.exceptions.Exit(1)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--cron/--no-cron", default=True, show_default=True, help="Also run the periodic schedule.")
@with_appcontext
def jobs_worker(burst: bool, cron: bool) -> None:
    """Run an RQ worker on the app's queues, and RQ's cron scheduler for the periodic work."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process; use `flask jobs tick`.")
    worker_process.run(app, burst=burst, cron=cron and not burst)


surveys_cli = AppGroup("surveys", help="The monthly client survey.")


@surveys_cli.command("send")
@click.option("--month", required=True, help="The month the survey is about, YYYY-MM (clinic time).")
@practice_command
def surveys_send(month: str) -> None:
    """Invite every client who attended a session in the month (again: only those not yet invited)."""
    summary = surveys.send_for_month(db.session, month)
    click.echo(
        f"Survey {summary.month}: {summary.invited} invited, {summary.already_invited} already invited, "
        f"{summary.opted_out} opted out, {summary.no_email} without an email (nor a guardian's)."
    )


def register(app: Flask) -> None:
    app.cli.add_command(accounts_cli)
    app.cli.add_command(seed_demo)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(surveys_cli)
