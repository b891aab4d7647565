"""Suggested answers: a librarian's answer may be a knowledge-base entry, and each such answer keeps the
citizen's masked question as a suggested wording for that entry.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_messages') as batch:
        batch.add_column(sa.Column('entry_id', sa.String(length=80), nullable=True))
    op.create_table('suggested_variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.String(length=80), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'entry_id')
    )
    op.create_index(op.f('ix_suggested_variants_ticket_id'), 'suggested_variants', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_suggested_variants_ticket_id'), table_name='suggested_variants')
    op.drop_table('suggested_variants')
    with op.batch_alter_table('ticket_messages') as batch:
        batch.drop_column('entry_id')
