"""reservation low use: the admin task "release part of this reservation?", and the day a reservation was released

The task kind is a VARCHAR with a CHECK constraint (models.base.str_enum), named by the naming
convention `ck_admin_task_task_kind`: widening it is dropping and creating it again (on SQLite in
batch mode, which copies the table). The column's length holds the new value already.

Revision ID: 0015_reservation_low_use
Revises: 0014_room_reservations
Create Date: 2026-12-05 05:36:34.028276

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_reservation_low_use'
down_revision = '0014_room_reservations'
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    'authorization_low',
    'extension_requested',
    'authorization_expired',
    'invoice_overdue',
    'message_failed',
    'bad_fit',
    'client_request',
    'payouts_waiting',
    'invoice_drafts_old',
    'manual',
)
KINDS_AFTER = (*KINDS_BEFORE[:-1], 'reservation_low_use', 'manual')


def _kind_check(kinds: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade():
    with op.batch_alter_table('room_reservation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_on', sa.Date(), nullable=True))

    with op.batch_alter_table('admin_task', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_admin_task_task_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_admin_task_task_kind'), _kind_check(KINDS_AFTER))


def downgrade():
    # A task of the new kind cannot stay under the old constraint.
    op.execute("DELETE FROM admin_task WHERE kind = 'reservation_low_use'")
    with op.batch_alter_table('admin_task', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_admin_task_task_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_admin_task_task_kind'), _kind_check(KINDS_BEFORE))

    with op.batch_alter_table('room_reservation', schema=None) as batch_op:
        batch_op.drop_column('released_on')
