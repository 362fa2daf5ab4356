"""flash claims remember what the group was told of them (told_status), as orders do (digested_version)

The flash digest named "the claims confirmed since the last digest was said", a time watermark: a claim committed
between a digest's rendering and its sending was counted as told without being named. Each claim now remembers the
status the group was last told of it; `told_at` (waiters only) goes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_status', sa.String(length=20), nullable=True))
    op.execute("UPDATE flash_claims SET told_status = 'waiting' WHERE status = 'waiting' AND told_at IS NOT NULL")
    # Confirmed claims the last flash digest said already (by the old watermark): not named again.
    op.execute(
        "UPDATE flash_claims SET told_status = 'confirmed' WHERE status = 'confirmed' AND updated_at <= "
        "(SELECT MAX(sent_at) FROM outbound WHERE kind = 'flash_digest' AND status = 'sent')"
    )
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.drop_column('told_at')


def downgrade() -> None:
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE flash_claims SET told_at = updated_at WHERE told_status = 'waiting'")
    with op.batch_alter_table('flash_claims', schema=None) as batch_op:
        batch_op.drop_column('told_status')
