"""identity_attestation: a clerk's «Đã xem bản gốc giấy tờ» for a registration

The provider checks an applicant's documents (Decree 23/2025/NĐ-CP); at the kiosk the machine
may decide alone, so the clerk on duty attests afterwards, from the board (one by one or in
bulk), or with the approval of a reviewed case. One row per registration (unique): who, when,
how. The rows hold no personal data and are not purged with the images.

Revision ID: 0008_identity_attestation
Revises: 0007_package_max_months
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_identity_attestation"
down_revision = "0007_package_max_months"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "identity_attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("attested_at", sa.DateTime(), nullable=False),
        sa.Column("how", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"]),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registration_id"),
    )


def downgrade():
    op.drop_table("identity_attestation")
