"""Processed updates remember which instance handles them and whether that finished: an update cut short by
a kill is handled again after the restart.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 13:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=32), nullable=True))
        # Updates recorded before this revision were handled to the end as far as anyone can tell.
        batch_op.add_column(sa.Column('finished', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.alter_column('finished', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('processed_updates', schema=None) as batch_op:
        batch_op.drop_column('finished')
        batch_op.drop_column('owner')
