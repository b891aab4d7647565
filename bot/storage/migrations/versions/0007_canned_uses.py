"""Canned replies: which ready reply a librarian sent on which ticket (`/r ID`), for the statistics.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('canned_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.String(length=80), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('librarian', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_canned_uses_ticket_id'), 'canned_uses', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_canned_uses_created_at'), 'canned_uses', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_canned_uses_created_at'), table_name='canned_uses')
    op.drop_index(op.f('ix_canned_uses_ticket_id'), table_name='canned_uses')
    op.drop_table('canned_uses')
