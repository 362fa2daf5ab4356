"""flash claims remember who was told they wait

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))
    # Waiters from before this column were told one by one: do not list them again.
    op.execute("UPDATE flash_claims SET told_at = updated_at WHERE status = 'waiting'")


def downgrade() -> None:
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.drop_column('told_at')
