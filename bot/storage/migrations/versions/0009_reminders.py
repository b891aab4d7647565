"""Reminders in the librarians' group and the out-of-hours digests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('reminders',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('batch', sa.String(length=64), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_reminders_ticket_id'), 'reminders', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_reminders_batch'), 'reminders', ['batch'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_reminders_batch'), table_name='reminders')
    op.drop_index(op.f('ix_reminders_ticket_id'), table_name='reminders')
    op.drop_table('reminders')
