"""client numbers, national ID optional: every client gets the practice's number; a national ID only when given

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 23:38:57.045267

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('number_counter',
    sa.Column('series', sa.String(length=40), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('series', name=op.f('pk_number_counter'))
    )
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_number', sa.String(length=20), nullable=True))
        batch_op.alter_column('national_id',
               existing_type=sa.VARCHAR(length=40),
               nullable=True)

    # Existing clients are numbered in the order they were registered (1, 2, 3 ...), and the
    # counter continues after the last one.
    op.execute(
        "UPDATE client SET client_number = CAST(("
        "SELECT COUNT(*) FROM client AS earlier WHERE earlier.id <= client.id) AS VARCHAR(20))"
    )
    op.execute("INSERT INTO number_counter (series, last_value) SELECT 'client', COUNT(*) FROM client")

    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.alter_column('client_number', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_client_client_number'), ['client_number'])


def downgrade():
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_client_client_number'), type_='unique')
        batch_op.drop_column('client_number')
    # A client without a national ID cannot go back: refuse rather than invent one.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM client WHERE national_id IS NULL")).scalar():
        raise RuntimeError("clients without a national ID exist: give them one before downgrading below 0005")
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.alter_column('national_id',
               existing_type=sa.VARCHAR(length=40),
               nullable=False)

    op.drop_table('number_counter')
