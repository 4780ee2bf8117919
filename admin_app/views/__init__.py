"""Screens: Flask-Admin views for the staff (/admin) and the therapists (/portal)."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from admin_app import models
from admin_app.services.billing import sending
from admin_app.views.accounts import invitation
from admin_app.views.accounts.logins import UserView
from admin_app.views.accounts.sessions import PORTAL_ENDPOINT as PORTAL_SESSIONS
from admin_app.views.accounts.sessions import STAFF_ENDPOINT as STAFF_SESSIONS
from admin_app.views.accounts.sessions import MySessionsView, PortalSessionsView
from admin_app.views.audit import sign_ins
from admin_app.views.audit.trail import AuditEventView
from admin_app.views.billing import public as receipt_link
from admin_app.views.billing.ageing import AgeingView
from admin_app.views.billing.authorizations import AuthorizationView
from admin_app.views.billing.charges import ChargeSearchView
from admin_app.views.billing.invoice_documents import InvoiceDocumentsView
from admin_app.views.billing.invoice_run import InvoiceRunView
from admin_app.views.billing.invoices import InvoiceView
from admin_app.views.billing.payers import PayerView, PaymentSourceView
from admin_app.views.billing.payments import ClientPaymentView, PayerPaymentView, PaymentView
from admin_app.views.billing.portal import MyAuthorizationsView
from admin_app.views.billing.receipts import ReceiptsView
from admin_app.views.imports.screen import ImportView
from admin_app.views.job_runs.runs import JobRunsView
from admin_app.views.messaging.notifications import (
    PORTAL_ENDPOINT,
    STAFF_ENDPOINT,
    NotificationsView,
    PortalNotificationsView,
)
from admin_app.views.messaging.notifications import bell as notification_bell
from admin_app.views.messaging.outbox import OutboxView
from admin_app.views.payouts.email_text import PayoutEmailView
from admin_app.views.payouts.portal import MyPaymentsView
from admin_app.views.payouts.statements import PayoutsView
from admin_app.views.people.caseload import CaseloadView
from admin_app.views.people.portal import MyClientsView
from admin_app.views.people.records import CareAssignmentView, ClientLinkView, ClientView, TherapistView
from admin_app.views.platform import admin_wording, headers, home, month_choice, pickers
from admin_app.views.platform.formatting import register_template_filters
from admin_app.views.platform.portal import TherapistIndexView
from admin_app.views.reports import statistics
from admin_app.views.reports.monthly import MonthlyReportView
from admin_app.views.reports.statistics import NewClientsView, StatisticsView
from admin_app.views.rooms.portal import MyReservationsView
from admin_app.views.rooms.reservations import RoomReservationView
from admin_app.views.rooms.sites import RoomView, SiteView
from admin_app.views.rooms.use import RoomUseView
from admin_app.views.scheduling import calendar
from admin_app.views.scheduling.appointments import AppointmentView, ParticipantView
from admin_app.views.scheduling.book import BookView
from admin_app.views.scheduling.portal import MyAppointmentsView
from admin_app.views.scheduling.series import SeriesView
from admin_app.views.surveys import public as survey
from admin_app.views.surveys.portal import MyRatingsView
from admin_app.views.surveys.staff.invitations import SurveyInvitationView
from admin_app.views.surveys.staff.responses import SurveyResponseView
from admin_app.views.surveys.staff.results import SurveyResultsView
from admin_app.views.tasks.bad_fit import BadFitView
from admin_app.views.tasks.home import StaffHomeView
from admin_app.views.tasks.portal import MyRequestsView
from admin_app.views.tasks.tasks import TasksView, task_bell

THEME = Bootstrap4Theme(base_template="admin/practice_base.html", fluid=True)


def _staff_admin(app: Flask) -> Admin:
    settings = app.config
    admin = Admin(
        app,
        name=app.config["PRACTICE_NAME"],
        index_view=StaffHomeView(name=_l("Home"), url="/admin", endpoint="admin"),
        theme=THEME,
        csp_nonce_generator=headers.csp_nonce,
    )
    people, schedule, billing, setup = _l("People"), _l("Schedule"), _l("Billing"), _l("Set-up")
    messages = _l("Messages")
    admin.add_view(TasksView(name=_l("Tasks"), endpoint="tasks", url="tasks"))
    admin.add_view(BookView(name=_l("Appointment book"), endpoint="book", url="book", category=schedule))
    admin.add_view(ClientView(models.Client, settings=settings, name=_l("Clients"), category=people))
    admin.add_view(ClientLinkView(models.ClientLink, settings=settings, name=_l("Client links"), category=people))
    admin.add_view(TherapistView(models.Therapist, settings=settings, name=_l("Therapists"), category=people))
    admin.add_view(
        CareAssignmentView(models.CareAssignment, settings=settings, name=_l("Care assignments"), category=people)
    )
    admin.add_view(BadFitView(name=_l("Bad Fit"), endpoint="bad_fit", url="bad-fit", category=people))
    admin.add_view(
        CaseloadView(name=_l("Therapists' caseloads"), endpoint="caseloads", url="caseloads", category=people)
    )
    admin.add_view(AppointmentView(models.Appointment, settings=settings, name=_l("Appointments"), category=schedule))
    admin.add_view(ParticipantView(models.Participant, settings=settings, name=_l("Participants"), category=schedule))
    admin.add_view(SeriesView(name=_l("New series"), endpoint="series", url="series", category=schedule))
    admin.add_view(PayerView(models.Payer, settings=settings, name=_l("Payers"), category=billing))
    admin.add_view(
        PaymentSourceView(models.PaymentSource, settings=settings, name=_l("Payment sources"), category=billing)
    )
    admin.add_view(
        AuthorizationView(
            models.Authorization,
            settings=settings,
            name=_l("Authorizations"),
            endpoint="authorization",
            url="authorizations",
            category=billing,
        )
    )
    admin.add_view(
        InvoiceView(
            models.Invoice, settings=settings, name=_l("Invoices"), endpoint="invoice", url="invoices", category=billing
        )
    )
    admin.add_view(
        PaymentView(
            models.Payment, settings=settings, name=_l("Payments"), endpoint="payment", url="payments", category=billing
        )
    )
    admin.add_view(
        PayerPaymentView(
            name=_l("Record a payer's payment"), endpoint="payer_payment", url="payer-payment", category=billing
        )
    )
    admin.add_view(
        ClientPaymentView(
            name=_l("Record a client's payment"), endpoint="client_payment", url="client-payment", category=billing
        )
    )
    admin.add_view(InvoiceRunView(name=_l("Invoice run"), endpoint="invoice_run", url="invoice-run", category=billing))
    admin.add_view(
        ChargeSearchView(
            name=_l("Appointment search for billing"), endpoint="charges", url="billing/charges", category=billing
        )
    )
    admin.add_view(
        InvoiceDocumentsView(
            name=_l("Invoice documents"), endpoint="invoice_documents", url="invoice-documents", category=billing
        )
    )
    admin.add_view(AgeingView(name=_l("Ageing"), endpoint="ageing", url="billing/ageing", category=billing))
    admin.add_view(ReceiptsView(name=_l("Receipts"), endpoint="receipts", url="receipts", category=billing))
    payouts = _l("Payouts")
    admin.add_view(PayoutsView(name=_l("Payout statements"), endpoint="payouts", url="payouts", category=payouts))
    admin.add_view(
        PayoutEmailView(name=_l("Payout email"), endpoint="payout_email", url="payouts/email", category=payouts)
    )
    admin.add_view(SiteView(models.Site, settings=settings, name=_l("Sites"), category=setup))
    admin.add_view(RoomView(models.Room, settings=settings, name=_l("Rooms"), category=setup))
    admin.add_view(
        RoomReservationView(
            models.RoomReservation,
            settings=settings,
            name=_l("Room reservations"),
            category=setup,
            endpoint="room_reservation",
        )
    )
    admin.add_view(UserView(models.User, settings=settings, name=_l("Logins"), category=setup))
    admin.add_view(AuditEventView(models.AuditEvent, settings=settings, name=_l("Audit trail"), category=setup))
    admin.add_view(ImportView(name=_l("Import from spreadsheets"), endpoint="imports", url="import", category=setup))
    admin.add_view(JobRunsView(name=_l("Runs in the background"), endpoint="job_runs", url="jobs", category=setup))
    admin.add_view(
        OutboxView(
            models.OutboundMessage,
            settings=settings,
            name=_l("Outbox"),
            endpoint="outbox",
            url="outbox",
            category=messages,
        )
    )
    surveys = _l("Surveys")
    admin.add_view(
        SurveyResultsView(name=_l("Results"), endpoint="survey_results", url="survey-results", category=surveys)
    )
    admin.add_view(
        SurveyResponseView(
            models.SurveyResponse,
            settings=settings,
            name=_l("Responses"),
            endpoint="survey_response",
            url="survey-responses",
            category=surveys,
        )
    )
    admin.add_view(
        SurveyInvitationView(
            models.SurveyInvitation,
            settings=settings,
            name=_l("Invitations"),
            endpoint="survey_invitation",
            url="survey-invitations",
            category=surveys,
        )
    )
    reports = _l("Reports")
    admin.add_view(
        StatisticsView(name=_l("Year at a glance"), endpoint="statistics", url="statistics", category=reports)
    )
    admin.add_view(
        NewClientsView(name=_l("New clients"), endpoint="new_clients", url="reports/new-clients", category=reports)
    )
    admin.add_view(
        MonthlyReportView(name=_l("Monthly totals"), endpoint="monthly_report", url="reports/monthly", category=reports)
    )
    admin.add_view(RoomUseView(name=_l("Room use"), endpoint="room_use", url="reports/room-use", category=reports))
    admin.add_view(NotificationsView(name=_l("Notifications"), endpoint=STAFF_ENDPOINT, url="notifications"))
    admin.add_view(MySessionsView(name=_l("My sessions"), endpoint=STAFF_SESSIONS, url="sessions"))
    return admin


def _therapist_portal(app: Flask) -> Admin:
    settings = app.config
    portal = Admin(
        app,
        name=app.config["PRACTICE_NAME"],
        index_view=TherapistIndexView(name=_l("Home"), url="/portal", endpoint="portal"),
        endpoint="portal",
        url="/portal",
        theme=THEME,
        csp_nonce_generator=headers.csp_nonce,
    )
    portal.add_view(
        MyClientsView(
            models.Client,
            settings=settings,
            name=_l("My clients"),
            endpoint="my_clients",
            url="clients",
        )
    )
    portal.add_view(
        MyAppointmentsView(
            models.Appointment,
            settings=settings,
            name=_l("My appointments"),
            endpoint="my_appointments",
            url="appointments",
        )
    )
    portal.add_view(
        MyAuthorizationsView(
            models.Authorization,
            settings=settings,
            name=_l("My clients' authorizations"),
            endpoint="my_authorizations",
            url="authorizations",
        )
    )
    portal.add_view(MyPaymentsView(name=_l("My payments"), endpoint="my_payments", url="payments"))
    portal.add_view(MyRatingsView(name=_l("My ratings"), endpoint="my_ratings", url="ratings"))
    portal.add_view(
        MyRequestsView(
            models.ClientRequest, settings=settings, name=_l("My requests"), endpoint="my_requests", url="requests"
        )
    )
    portal.add_view(
        MyReservationsView(
            models.RoomReservation,
            settings=settings,
            name=_l("My room reservations"),
            endpoint="my_reservations",
            url="reservations",
        )
    )
    portal.add_view(PortalNotificationsView(name=_l("Notifications"), endpoint=PORTAL_ENDPOINT, url="notifications"))
    portal.add_view(PortalSessionsView(name=_l("My sessions"), endpoint=PORTAL_SESSIONS, url="sessions"))
    return portal


def register(app: Flask) -> None:
    """Build both Flask-Admin areas for this app (never at import time: one app per call)."""
    app.register_blueprint(home.blueprint)
    app.register_blueprint(calendar.blueprint)
    app.register_blueprint(survey.blueprint)
    app.register_blueprint(receipt_link.blueprint)
    app.register_blueprint(invitation.blueprint)
    app.register_blueprint(statistics.blueprint)
    register_template_filters(app)
    admin_wording.use_our_wording()  # Flask-Admin's "Salvar" becomes "Guardar": views/platform/admin_wording.py
    sign_ins.init_app(app)
    # Called by the navbar of both areas (one COUNT query per page, none when signed out).
    app.jinja_env.globals["notification_bell"] = notification_bell
    app.jinja_env.globals["task_bell"] = task_bell
    app.jinja_env.globals["month_choices"] = month_choice.month_choices  # templates/macros/month.html
    app.jinja_env.globals["picker_texts"] = pickers.picker_texts  # templates/admin/practice_base.html
    # The invoice page's Send button (templates/admin/billing/invoice_documents_buttons.html).
    app.jinja_env.globals["invoice_can_be_sent"] = sending.can_send
    _staff_admin(app)
    _therapist_portal(app)
