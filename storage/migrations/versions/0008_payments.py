"""payments: what a participant of a buy has paid, as a leader marked it (已收 LABEL); the backend's copy

Issue #15: one row per buy, group and participant label, with the money received, when, and the wxid of the
leader who marked it; `未付` lists who still owes. `backend_payments` is what the leader's backend was sent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('buy_id', sa.String(length=100), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('participant', sa.String(length=500), nullable=False),
        sa.Column('paid', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('marked_by', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
        sa.ForeignKeyConstraint(['buy_id'], ['group_buys.id'], name=op.f('fk_payments_buy_id_group_buys')),
        sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_payments_group_id_groups')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
        sa.UniqueConstraint('buy_id', 'group_id', 'participant', name=op.f('uq_payments_buy_id')),
    )
    op.create_index(op.f('ix_payments_buy_id'), 'payments', ['buy_id'], unique=False)
    op.create_table(
        'backend_payments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('group', sa.String(length=200), nullable=False),
        sa.Column('buy', sa.String(length=100), nullable=False),
        sa.Column('participant', sa.String(length=500), nullable=False),
        sa.Column('paid', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backend_payments')),
        sa.UniqueConstraint('ref', name=op.f('uq_backend_payments_ref')),
    )
    op.create_index(op.f('ix_backend_payments_buy'), 'backend_payments', ['buy'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_backend_payments_buy'), table_name='backend_payments')
    op.drop_table('backend_payments')
    op.drop_index(op.f('ix_payments_buy_id'), table_name='payments')
    op.drop_table('payments')
