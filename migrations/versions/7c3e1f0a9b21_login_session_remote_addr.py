"""login_session.remote_addr: where each login came from (issue 23, finding 10)

Revision ID: 7c3e1f0a9b21
Revises: dfa0125d61b6
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '7c3e1f0a9b21'
down_revision = 'dfa0125d61b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_addr', sa.String(length=64), server_default='',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_column('remote_addr')
