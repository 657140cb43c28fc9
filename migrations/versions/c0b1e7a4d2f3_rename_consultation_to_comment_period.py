"""a draft opened for comments is a comment period; "consultation" is the written consultation

Revision ID: c0b1e7a4d2f3
Revises: 5b1d7c2e9a40
Create Date: 2026-12-03 16:10:00
"""
from alembic import op
import sqlalchemy as sa
import server.models.base


revision = 'c0b1e7a4d2f3'
down_revision = '5b1d7c2e9a40'
branch_labels = None
depends_on = None


def _periods(name: str, member: str, key: str) -> None:
    """Create the period and member tables under the given names (copying then drops the old)."""
    op.create_table(name,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('audience', sa.Enum('delegates', 'named', 'staff', name=f'{name.replace("_", "")}audience', native_enum=False, length=17), nullable=False),
    sa.Column('deadline', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_at', server.models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f(f'fk_{name}_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f(f'fk_{name}_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f(f'fk_{name}_opened_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f(f'fk_{name}_version_id_document_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f(f'ix_{name}_meeting_id'), ['meeting_id'], unique=False)
    op.create_table(member,
    sa.Column(key, sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint([key], [f'{name}.id'], name=op.f(f'fk_{member}_{key}_{name}'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f(f'fk_{member}_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(key, 'participant_id', name=op.f(f'pk_{member}'))
    )


def _move(old: str, old_member: str, old_key: str, new: str, new_member: str, new_key: str) -> None:
    _periods(new, new_member, new_key)
    columns = "id, meeting_id, document_id, version_id, title, audience, deadline, opened_at, opened_by_id"
    op.execute(f"INSERT INTO {new} ({columns}) SELECT {columns} FROM {old}")
    op.execute(f"INSERT INTO {new_member} ({new_key}, participant_id) "
               f"SELECT {old_key}, participant_id FROM {old_member}")
    if op.get_bind().dialect.name == "postgresql":  # copied ids do not move the sequence on
        op.execute(f"SELECT setval(pg_get_serial_sequence('{new}', 'id'), "
                   f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {new}")
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:
        batch_op.drop_constraint(f'fk_draft_comment_{old_key}_{old}', type_='foreignkey')
        batch_op.drop_index(f'ix_draft_comment_{old_key}')
        batch_op.alter_column(old_key, new_column_name=new_key, existing_type=sa.Integer(),
                              existing_nullable=False)
    with op.batch_alter_table('draft_comment', schema=None) as batch_op:  # after the rename
        batch_op.create_index(batch_op.f(f'ix_draft_comment_{new_key}'), [new_key], unique=False)
        batch_op.create_foreign_key(batch_op.f(f'fk_draft_comment_{new_key}_{new}'), new, [new_key],
                                    ['id'], ondelete='CASCADE')
    op.drop_table(old_member)
    with op.batch_alter_table(old, schema=None) as batch_op:
        batch_op.drop_index(f'ix_{old}_meeting_id')
        batch_op.drop_index(f'ix_{old}_document_id')
    op.drop_table(old)


def upgrade() -> None:
    _move('consultation', 'consultation_member', 'consultation_id',
          'comment_period', 'comment_period_member', 'comment_period_id')


def downgrade() -> None:
    _move('comment_period', 'comment_period_member', 'comment_period_id',
          'consultation', 'consultation_member', 'consultation_id')
