"""consultation reports: the signed report of the result, kept with the consultation

Revision ID: f7d3b8a2c915
Revises: c4f2a9e1d7b3
Create Date: 2026-12-04 17:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f7d3b8a2c915'
down_revision = 'c4f2a9e1d7b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('report_signed_by', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('report_problem', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_column('report_problem')
        batch_op.drop_column('report_signed_by')
        batch_op.drop_column('report_sha256')
