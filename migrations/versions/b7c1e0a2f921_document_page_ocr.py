"""document_page.ocr: where a page's text came from (OCR of scanned pages)

Revision ID: b7c1e0a2f921
Revises: 7c3e1f0a9b21
Create Date: 2026-12-03 11:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7c1e0a2f921'
down_revision = '7c3e1f0a9b21'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('document_page', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document_page', schema=None) as batch_op:
        batch_op.drop_column('ocr')
