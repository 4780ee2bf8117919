"""record history lookup: a record's audit events newest first by one index range per entity kind

`ix_audit_event_record_history` (entity, entity_id, occurred_at, id) replaces (entity, entity_id) and
(entity): an appointment's history, a client's access history and the audit trail filtered by a record
read the newest events of each (entity, id) in index order, without a sort of the whole history nor a
scan of the trail (services.audit.trail.newest_events). The entity-alone index is its prefix.

Revision ID: 0021_record_history_lookup
Revises: 0020_list_search_indexes
Create Date: 2026-12-05 15:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0021_record_history_lookup"
down_revision = "0020_list_search_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_event_record_history", ["entity", "entity_id", "occurred_at", "id"], unique=False
        )
        batch_op.drop_index("ix_audit_event_entity_record")
        batch_op.drop_index("ix_audit_event_entity")


def downgrade():
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity"], unique=False)
        batch_op.create_index("ix_audit_event_entity_record", ["entity", "entity_id"], unique=False)
        batch_op.drop_index("ix_audit_event_record_history")
