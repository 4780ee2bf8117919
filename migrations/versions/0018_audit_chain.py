"""audit chain: each audit event carries a hash of the previous one, and a JSON detail

`chain_hash` is sha256(previous row's hash + this row's canonical fields), see
admin_app.models.audit. The rows written before this revision are chained here, in id order, so
`flask audit verify` checks the whole trail from its first row. `detail` holds what an event was
about beyond one record (an export's screen, filters and row count), never a client's name.
Two actions join the trail, sign-ins and failed sign-ins: the action column widens to hold them and
its CHECK constraint (`ck_audit_event_audit_action`, models.base.str_enum) is made again.

Revision ID: 0018_audit_chain
Revises: 0015_reservation_low_use
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from admin_app.models.audit import GENESIS_HASH, chain_hash
from admin_app.models.base import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0018_audit_chain'
down_revision = '0017_login_limits'
branch_labels = None
depends_on = None

BATCH = 5000
ACTIONS_BEFORE = ('create', 'update', 'delete', 'export', 'view')
ACTIONS_AFTER = (*ACTIONS_BEFORE, 'sign_in', 'sign_in_failed')


def _action_check(actions: tuple[str, ...]) -> str:
    return "action IN ({})".format(", ".join(f"'{action}'" for action in actions))


def _actions(actions: tuple[str, ...]) -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_event_audit_action'), type_='check')
        batch_op.alter_column(
            'action', type_=sa.String(length=max(map(len, actions))), existing_nullable=False
        )
        batch_op.create_check_constraint(op.f('ck_audit_event_audit_action'), _action_check(actions))


def upgrade():
    _actions(ACTIONS_AFTER)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_audit_event_entity_record', ['entity', 'entity_id'], unique=False)
    _chain_existing_rows()
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('chain_hash', existing_type=sa.String(length=64), nullable=False)


def _chain_existing_rows():
    table = sa.table(
        'audit_event',
        sa.column('id', sa.Integer),
        sa.column('occurred_at', UTCDateTime),
        sa.column('actor', sa.String),
        sa.column('action', sa.String),
        sa.column('entity', sa.String),
        sa.column('entity_id', sa.Integer),
        sa.column('changed_fields', sa.JSON),
        sa.column('detail', sa.JSON),
        sa.column('chain_hash', sa.String),
    )
    connection = op.get_bind()
    head, after = GENESIS_HASH, 0
    while True:
        rows = connection.execute(
            sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(BATCH)
        ).mappings().all()
        if not rows:
            return
        updates = []
        for row in rows:
            head = chain_hash(head, dict(row))
            updates.append({'row_id': row['id'], 'hash': head})
        connection.execute(
            table.update().where(table.c.id == sa.bindparam('row_id')).values(chain_hash=sa.bindparam('hash')),
            updates,
        )
        after = rows[-1]['id']


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_entity_record')
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('detail')
    # Sign-ins cannot stay under the old constraint.
    op.execute("DELETE FROM audit_event WHERE action IN ('sign_in', 'sign_in_failed')")
    _actions(ACTIONS_BEFORE)
