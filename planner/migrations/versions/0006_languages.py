"""languages: a member's locale and a group's language

Both nullable: NULL means "not chosen", so a member follows their browser and a group's feeds
follow the site's default (PLANNER_DEFAULT_LOCALE) until someone picks.

Revision ID: 0006_languages
Revises: 0005_belonging
Create Date: 2026-12-02 18:36:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006_languages'
down_revision: Union[str, Sequence[str], None] = '0005_belonging'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
