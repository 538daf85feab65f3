"""users.session_token: a per-account value every session cookie must carry

Revision ID: 0002_session_token
Revises: 4f712feae718
Create Date: 2026-12-01 22:30:00

Existing rows get NULL: their next log-in issues a token. Cookies signed before the upgrade
carry none and are refused, so everyone logs in once after upgrading.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002_session_token'
down_revision: Union[str, Sequence[str], None] = '4f712feae718'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('users', sa.Column('session_token', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('session_token')
