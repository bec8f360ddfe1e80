"""automatic eKYC: face distance, attempts, liveness challenge

Revision ID: 0002_automatic_ekyc
Revises: 5f4a47502bed
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_automatic_ekyc"
down_revision = "5f4a47502bed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("face_distance", sa.Float(), nullable=True))
        batch.add_column(sa.Column("face_attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("liveness_challenge", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("liveness_passed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("registration") as batch:
        batch.drop_column("liveness_passed_at")
        batch.drop_column("liveness_challenge")
        batch.drop_column("face_attempts")
        batch.drop_column("face_distance")
