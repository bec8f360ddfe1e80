"""staff_user: drop the unused per-account lockout columns (failed_logins, locked_until)

Failed sign-ins are throttled per source in login_throttle (since console_0004): a lock per
account would let whoever stands at a kiosk lock a clerk out. Nothing has read these two
columns since (create-staff only reset them).

SQLite drops each column in place (ALTER TABLE … DROP COLUMN, SQLite ≥ 3.35): the batch runs
with recreate="never" because a "move and copy" would DROP TABLE staff_user, which the foreign
key registration.kyc_decided_by forbids once a clerk has decided a case (PRAGMA foreign_keys
cannot be turned off inside the migration's transaction). PostgreSQL gets the same ALTER TABLE.

Rolling upgrade: code older than this revision still selects the two columns whenever it loads
a clerk, so its console requests fail between `flask --app kiosk init` and the reload of each
app server (and so does a clerk's approval typed at a kiosk); reload right after `init`
(docs/deploy.md).

Revision ID: 0006_drop_staff_lockout
Revises: harden_0004_forget_secrets
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_drop_staff_lockout"
down_revision = "harden_0004_forget_secrets"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user", recreate="never") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")


def downgrade():
    # Back as 0001 made them (NOT NULL counter), empty: the per-source throttle is not copied.
    with op.batch_alter_table("staff_user", recreate="never") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
