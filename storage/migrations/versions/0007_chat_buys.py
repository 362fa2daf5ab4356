"""chat buys: what a leader creates or changes in chat (开团, 截单, 延长截单, 库存), layered on the YAML plan

Issue #15: a buy made in chat, or a YAML buy whose cutoff, opening or stock a leader changed from the phone, is
stored here, survives a restart and a config reload, and is applied on top of the YAML whenever it is loaded.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'chat_buys',
        sa.Column('buy_id', sa.String(length=100), nullable=False),
        sa.Column('origin', sa.String(length=10), nullable=False),
        sa.Column('spec', sa.JSON(), nullable=False),
        sa.Column('base', sa.JSON(), nullable=False),
        sa.Column('products', sa.JSON(), nullable=False),
        sa.Column('made_by', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('buy_id', name=op.f('pk_chat_buys')),
    )


def downgrade() -> None:
    op.drop_table('chat_buys')
