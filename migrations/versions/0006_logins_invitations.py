"""login invitations: set-password links with hashed tokens, expiring, single-use

Revision ID: 0006_logins
Revises: 0005
Create Date: 2026-12-03 23:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_logins'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewal_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_login_invitation_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_invitation_token_hash'))
    )
    with op.batch_alter_table('login_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_invitation_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('login_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_invitation_user_id'))

    op.drop_table('login_invitation')
