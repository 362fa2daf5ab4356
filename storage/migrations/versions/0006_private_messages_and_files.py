"""private messages, files and leader bindings: a message knows it was one-to-one with the bot, an outbound row can
carry a file, and a leader's display name is bound to the wxid that first used it

Leaders talk to the bot privately (issue #15): the message log keeps which messages were private (a rebuild replays
them as such), the outbound queue keeps the file a message sends (the `导出` workbook to the leader), and
`leader_bindings` keeps which wxid owns each leader name (a member renamed 张姐 is refused), and a group remembers
that its leader paused the bot there (`暂停` / `恢复`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('private', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file', sa.Text(), nullable=True))
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'leader_bindings',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('wxid', sa.String(length=200), nullable=False),
        sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_leader_bindings')),
    )


def downgrade() -> None:
    op.drop_table('leader_bindings')
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('paused')
    with op.batch_alter_table('outbound', schema=None) as batch_op:
        batch_op.drop_column('file')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('private')
