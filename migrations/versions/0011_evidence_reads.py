"""evidence.reads: the card reads made of a photo, carried to the later jobs that take it

Each web process has its own vision pool, so a face comparison often ran where the card photos
had never been read, and read them again. The photo's job now answers its reads and they are
stored with it (encrypted like the photo); photos taken before have none and are read again
once, as before.

Revision ID: 0011_evidence_reads
Revises: 0010_kiosk_print_state
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_evidence_reads"
down_revision = "0010_kiosk_print_state"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evidence", recreate="never") as batch:
        batch.add_column(sa.Column("reads", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("evidence", recreate="never") as batch:
        batch.drop_column("reads")
