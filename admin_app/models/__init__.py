"""All models, one module per aggregate, re-exported here."""

from admin_app.models.audit import AuditAction, Audited, AuditEvent
from admin_app.models.auth import ADMIN_ROLE, THERAPIST_ROLE, LoginInvitation, Role, User
from admin_app.models.base import Base
from admin_app.models.billing import Authorization, InvoiceGrouping, Payer, PayerKind, PaymentSource
from admin_app.models.invoices import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceSending,
    InvoiceStatus,
)
from admin_app.models.messaging import Channel, MessageStatus, Notification, OutboundMessage
from admin_app.models.numbering import NumberCounter
from admin_app.models.payments import RECEIPT_SERIES, Allocation, AllocationKind, Payment, PaymentMethod, ReceiptLink
from admin_app.models.people import (
    CLIENT_NUMBER_SERIES,
    AssignmentKind,
    CareAssignment,
    Client,
    ClientLink,
    CompensationModel,
    CompensationTerms,
    LinkKind,
    ReminderPreference,
    Therapist,
)
from admin_app.models.scheduling import (
    Appointment,
    AppointmentKind,
    AppointmentSeries,
    AppointmentStatus,
    Attendance,
    BilledTo,
    CancelledBy,
    Modality,
    Participant,
)
from admin_app.models.sites import Room, Site
from admin_app.models.surveys import SurveyInvitation, SurveyRating, SurveyResponse

__all__ = [
    "CREDIT_NOTE_SERIES",
    "INVOICE_SERIES",
    "RECEIPT_SERIES",
    "Allocation",
    "AllocationKind",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceRun",
    "InvoiceSending",
    "InvoiceStatus",
    "Payment",
    "PaymentMethod",
    "ReceiptLink",
    "ADMIN_ROLE",
    "CLIENT_NUMBER_SERIES",
    "THERAPIST_ROLE",
    "Appointment",
    "Authorization",
    "AppointmentKind",
    "AppointmentSeries",
    "AppointmentStatus",
    "AssignmentKind",
    "Attendance",
    "AuditAction",
    "AuditEvent",
    "Audited",
    "Base",
    "BilledTo",
    "CancelledBy",
    "CareAssignment",
    "Channel",
    "Client",
    "ClientLink",
    "CompensationModel",
    "CompensationTerms",
    "InvoiceGrouping",
    "LinkKind",
    "LoginInvitation",
    "MessageStatus",
    "Modality",
    "Notification",
    "NumberCounter",
    "OutboundMessage",
    "Participant",
    "Payer",
    "PayerKind",
    "PaymentSource",
    "ReminderPreference",
    "Role",
    "Room",
    "Site",
    "SurveyInvitation",
    "SurveyRating",
    "SurveyResponse",
    "Therapist",
    "User",
]
