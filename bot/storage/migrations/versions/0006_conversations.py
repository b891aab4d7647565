"""Conversations: what the bot waits for from a citizen, button presses outside flood control, every piece
the bot posted in the librarians' group, and which group message a librarian's reply answered.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('citizens') as batch:
        batch.add_column(sa.Column('awaiting', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('awaiting_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('processed_updates') as batch:
        batch.add_column(sa.Column('counted', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('ticket_messages') as batch:
        batch.add_column(sa.Column('in_reply_to', sa.Integer(), nullable=True))
    op.create_table('group_messages',
    sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('is_card', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('message_id')
    )
    op.create_index(op.f('ix_group_messages_ticket_id'), 'group_messages', ['ticket_id'], unique=False)
    # Existing rows: cards and relayed messages are known by the ids already stored.
    op.execute("INSERT INTO group_messages (message_id, ticket_id, is_card) "
               "SELECT card_message_id, id, true FROM tickets WHERE card_message_id IS NOT NULL")
    op.execute("INSERT INTO group_messages (message_id, ticket_id, is_card) "
               "SELECT DISTINCT group_message_id, ticket_id, false FROM ticket_messages "
               "WHERE group_message_id IS NOT NULL AND direction = 'citizen' "
               "AND group_message_id NOT IN (SELECT message_id FROM group_messages)")


def downgrade() -> None:
    op.drop_index(op.f('ix_group_messages_ticket_id'), table_name='group_messages')
    op.drop_table('group_messages')
    with op.batch_alter_table('ticket_messages') as batch:
        batch.drop_column('in_reply_to')
    with op.batch_alter_table('processed_updates') as batch:
        batch.drop_column('counted')
    with op.batch_alter_table('citizens') as batch:
        batch.drop_column('awaiting_at')
        batch.drop_column('awaiting')
