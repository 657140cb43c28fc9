"""signing sessions: minutes signed on the signer's own token (interrupted signing)

Revision ID: c4f2a9e1d7b3
Revises: c4a9e2d7f318
Create Date: 2026-12-03 16:20:00
"""
from alembic import op
import sqlalchemy as sa

import server.models.base


revision = 'c4f2a9e1d7b3'
down_revision = 'c4a9e2d7f318'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('chair', 'secretary', 'delegate', 'observer', name='meetingrole', native_enum=False, length=17), nullable=False),
    sa.Column('base_pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('expires_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('chain_pem', sa.Text(), nullable=False),
    sa.Column('prepared_pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('reserved_start', sa.Integer(), nullable=True),
    sa.Column('reserved_end', sa.Integer(), nullable=True),
    sa.Column('signed_attributes', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('finished_at', server.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['user_certificate.id'], name=op.f('fk_signing_session_certificate_id_user_certificate'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_signing_session_minutes_id_minutes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['prepared_pdf_sha256'], ['blob.sha256'], name=op.f('fk_signing_session_prepared_pdf_sha256_blob')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_signing_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_session')),
    sa.UniqueConstraint('code_sha256', name=op.f('uq_signing_session_code_sha256'))
    )
    with op.batch_alter_table('signing_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_session_minutes_id'), ['minutes_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signing_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_session_minutes_id'))
    op.drop_table('signing_session')
