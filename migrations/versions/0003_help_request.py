"""help request: a registration waiting for a clerk (customer pressed «Gọi nhân viên»,
or the machine could not decide)

Revision ID: 0003_help_request
Revises: 0002_automatic_ekyc
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_help_request"
down_revision = "0002_automatic_ekyc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("help_requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("help_reason", sa.String(length=40), nullable=True))
        batch.create_index("ix_registration_help_requested_at", ["help_requested_at"])


def downgrade():
    with op.batch_alter_table("registration") as batch:
        batch.drop_index("ix_registration_help_requested_at")
        batch.drop_column("help_reason")
        batch.drop_column("help_requested_at")
