"""sealed ballots: secret ballots encrypted while their poll is open

Revision ID: 5b1d7c2e9a40
Revises: b7c1e0a2f921
Create Date: 2026-12-03 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1d7c2e9a40'
down_revision = 'b7c1e0a2f921'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sealed_ballot',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('box', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_sealed_ballot_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_ballot'))
    )
    with op.batch_alter_table('sealed_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealed_ballot_poll_id'), ['poll_id'], unique=False)
    op.create_table('ballot_key',
    sa.Column('poll_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_ballot_key_poll_id_poll'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('poll_id', name=op.f('pk_ballot_key'))
    )


def downgrade() -> None:
    op.drop_table('ballot_key')
    with op.batch_alter_table('sealed_ballot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sealed_ballot_poll_id'))
    op.drop_table('sealed_ballot')
