"""staff console: session nonce on staff users, per-source login throttle, kiosks, resume codes

Revision ID: console_0004
Revises: 0003_help_request
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "console_0004"
# 0003_help_request is already on this branch; re-chain at merge if needed.
down_revision = "0003_help_request"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user") as batch:
        batch.add_column(sa.Column("session_nonce", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("last_login_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    # Every existing account gets its own nonce (a shared one would be guessable from the code).
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM staff_user"))]
    for staff_id in ids:
        conn.execute(sa.text("UPDATE staff_user SET session_nonce = :n WHERE id = :i"),
                     {"n": secrets.token_urlsafe(24), "i": staff_id})
    with op.batch_alter_table("staff_user") as batch:
        batch.alter_column("session_nonce", existing_type=sa.String(length=64), nullable=False)

    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("window_started_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "kiosk",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=50), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("printer", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("printer_queue", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("registration") as batch:
        batch.add_column(sa.Column("resume_code_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("resume_code_expires_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("registration") as batch:
        batch.drop_column("resume_code_expires_at")
        batch.drop_column("resume_code_digest")
    op.drop_table("kiosk")
    op.drop_table("login_throttle")
    with op.batch_alter_table("staff_user") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("last_login_at")
        batch.drop_column("session_nonce")
