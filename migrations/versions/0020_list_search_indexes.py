"""list search indexes: trigram indexes for the lists' name searches, indexes for their default order

The lists search by `ILIKE '%term%'`, which a btree index cannot serve: on PostgreSQL a GIN trigram
index (pg_trgm, a trusted extension) on each searched column of a big table (clients, the outbox)
does. SQLite has no such index: there the searches scan, as before. The survey responses, payments
and outbox lists are ordered by a time then the id: an index in that order reads their first page.

Revision ID: 0020_list_search_indexes
Revises: 0019_job_runs
Create Date: 2026-12-05 15:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0020_list_search_indexes"
down_revision = "0019_job_runs"
branch_labels = None
depends_on = None

TRIGRAM_COLUMNS = {
    "client": ("full_name", "client_number", "national_id", "email", "phone"),
    "therapist": ("full_name",),
    "outbound_message": ("recipient",),
}


def upgrade():
    op.create_index("ix_survey_response_submitted_at_id", "survey_response", ["submitted_at", "id"])
    op.create_index("ix_payment_received_on_id", "payment", ["received_on", "id"])
    op.create_index("ix_outbound_message_created_at_id", "outbound_message", ["created_at", "id"])
    op.drop_index("ix_outbound_message_created_at", table_name="outbound_message")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        for table, columns in TRIGRAM_COLUMNS.items():
            for column in columns:
                op.create_index(
                    f"ix_{table}_{column}_trgm",
                    table,
                    [column],
                    postgresql_using="gin",
                    postgresql_ops={column: "public.gin_trgm_ops"},
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in TRIGRAM_COLUMNS.items():
            for column in columns:
                op.drop_index(f"ix_{table}_{column}_trgm", table_name=table)
    op.create_index("ix_outbound_message_created_at", "outbound_message", ["created_at"])
    op.drop_index("ix_outbound_message_created_at_id", table_name="outbound_message")
    op.drop_index("ix_payment_received_on_id", table_name="payment")
    op.drop_index("ix_survey_response_submitted_at_id", table_name="survey_response")
