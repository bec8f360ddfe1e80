"""hardening: forget the customer's password and PIN hashes, claim rows for one-time actions,
image retention

- registration.password_hash / pin_hash are dropped WITH their data: the SmartCA backend owns
  those credentials; a 6-digit PIN hash falls to an offline search in hours. Only when each was
  set is kept (password_set_at / pin_set_at, filled from the audit trail's password_created /
  pin_created events). On SQLite, secure_delete makes the freed pages zeros, so the hashes do
  not linger in the file.
- action_claim: one row per one-time action (provision, sign, set PIN, finish), inserted before
  the provider work so parallel submits cannot do it twice.
- registration.images_purged_at: when retention deleted the card/face/signature images.

Revision ID: harden_0004_forget_secrets
Revises: console_0004  (the integrator re-chains; the brief's base was 0002)
"""
import sqlalchemy as sa
from alembic import op

revision = "harden_0004_forget_secrets"
down_revision = "console_0004"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("password_set_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("pin_set_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("images_purged_at", sa.DateTime(), nullable=True))
    for column, event in (("password", "password_created"), ("pin", "pin_created")):
        op.execute(
            f"UPDATE registration SET {column}_set_at = (SELECT MIN(a.at) FROM audit_event a "
            f"WHERE a.registration_id = registration.id AND a.event = '{event}') "
            f"WHERE {column}_hash IS NOT NULL")
        # Overwrite before dropping: on engines that keep dropped column data around until
        # a rewrite, what remains is NULL rather than the hash.
        op.execute(f"UPDATE registration SET {column}_hash = NULL")
    if bind.dialect.name == "sqlite":
        # Native DROP COLUMN (SQLite >= 3.35) rewrites the rows in place. A batch "move and
        # copy" would DROP TABLE registration, which the foreign keys of audit_event, evidence …
        # forbid on a database that has data (PRAGMA foreign_keys cannot be turned off inside
        # the migration's transaction).
        op.execute("ALTER TABLE registration DROP COLUMN password_hash")
        op.execute("ALTER TABLE registration DROP COLUMN pin_hash")
    else:
        op.drop_column("registration", "password_hash")
        op.drop_column("registration", "pin_hash")
    op.create_table(
        "action_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["registration_id"], ["registration.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("registration_id", "action"),
    )


def downgrade():
    # The hashes are gone for good: the columns come back empty.
    op.drop_table("action_claim")
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pin_hash", sa.String(length=255), nullable=True))
    for column in ("images_purged_at", "pin_set_at", "password_set_at"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE registration DROP COLUMN {column}")
        else:
            op.drop_column("registration", column)
