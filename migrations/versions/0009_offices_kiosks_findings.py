"""offices own kiosks, clerks and registrations; kiosks are enrolled; photos keep their findings

- office: a unique ``code`` (the existing office becomes ``thanh-hoa``, any other ``office-<id>``)
  and ``active``.
- staff_user.office_id, kiosk.office_id, registration.office_id: every existing kiosk and
  registration, and every clerk, belongs to the first office (the only one there was).
  Administrators stay without an office: they see every office.
- kiosk: the one-time enrollment code and the device token (keyed digests), when it was
  enrolled or revoked, and what it last reported (camera, reader, printer). Kiosks that existed
  before are not enrolled: each kiosk PC is enrolled once from the console after the upgrade
  (docs/deploy.md).
- evidence: the vision's findings (encrypted JSON), a downscaled preview and the card portrait
  (encrypted bytes), computed once when the photo is taken. Older photos have none; the console
  computes them once, on first view, and stores them.

Columns are added in place (ALTER TABLE … ADD COLUMN) on both databases: registration and
staff_user are referenced by other tables' foreign keys, so SQLite's batch "move and copy"
would have to drop them.

Revision ID: 0009_offices_kiosks_findings
Revises: 0008_identity_attestation
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_offices_kiosks_findings"
down_revision = "0008_identity_attestation"
branch_labels = None
depends_on = None


def _add_office_id(table: str) -> None:
    # SQLite cannot add a constraint to an existing table: the REFERENCES clause is written
    # inline in its ADD COLUMN. PostgreSQL gets a named constraint.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN office_id INTEGER REFERENCES office (id)")
    else:
        op.add_column(table, sa.Column("office_id", sa.Integer(), nullable=True))
        op.create_foreign_key(f"fk_{table}_office_id", table, "office", ["office_id"], ["id"])


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table("office", recreate="never") as batch:
        batch.add_column(sa.Column("code", sa.String(length=50), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    office = sa.table("office", sa.column("id", sa.Integer), sa.column("code", sa.String))
    ids = [row[0] for row in bind.execute(sa.select(office.c.id).order_by(office.c.id))]
    for position, office_id in enumerate(ids):
        bind.execute(office.update().where(office.c.id == office_id)
                     .values(code="thanh-hoa" if position == 0 else f"office-{office_id}"))
    op.create_index("ix_office_code", "office", ["code"], unique=True)

    for table in ("staff_user", "kiosk", "registration"):
        _add_office_id(table)
        op.create_index(f"ix_{table}_office_id", table, ["office_id"])
    if ids:
        first = ids[0]
        for table in ("kiosk", "registration"):
            op.execute(sa.text(f"UPDATE {table} SET office_id = :o").bindparams(o=first))
        op.execute(sa.text("UPDATE staff_user SET office_id = :o WHERE role <> 'admin'")
                   .bindparams(o=first))

    with op.batch_alter_table("kiosk", recreate="never") as batch:
        batch.add_column(sa.Column("enrollment_code_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("enrollment_expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("device_token_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("enrolled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("device_state", sa.JSON(), nullable=True))
    op.create_index("ix_kiosk_enrollment_code_digest", "kiosk", ["enrollment_code_digest"],
                    unique=True)
    op.create_index("ix_kiosk_device_token_digest", "kiosk", ["device_token_digest"],
                    unique=True)

    with op.batch_alter_table("evidence", recreate="never") as batch:
        batch.add_column(sa.Column("findings", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("preview", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("portrait", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("evidence", recreate="never") as batch:
        batch.drop_column("portrait")
        batch.drop_column("preview")
        batch.drop_column("findings")
    op.drop_index("ix_kiosk_device_token_digest", "kiosk")
    op.drop_index("ix_kiosk_enrollment_code_digest", "kiosk")
    with op.batch_alter_table("kiosk", recreate="never") as batch:
        for column in ("device_state", "last_seen_at", "revoked_at", "enrolled_at",
                       "device_token_digest", "enrollment_expires_at",
                       "enrollment_code_digest"):
            batch.drop_column(column)
    for table in ("registration", "kiosk", "staff_user"):
        op.drop_index(f"ix_{table}_office_id", table)
        if op.get_bind().dialect.name != "sqlite":
            op.drop_constraint(f"fk_{table}_office_id", table, type_="foreignkey")
        # SQLite ≥ 3.35 drops a column in place unless a constraint names it: the inline
        # REFERENCES does, so this downgrade is PostgreSQL-only there (restore a backup).
        op.drop_column(table, "office_id")
    op.drop_index("ix_office_code", "office")
    with op.batch_alter_table("office", recreate="never") as batch:
        batch.drop_column("active")
        batch.drop_column("code")
