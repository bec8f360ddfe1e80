"""service_package: packages longer than 36 months go off sale, and the reason is kept

Decree 23/2025/NĐ-CP limits a public subscriber certificate to 3 years; the console now refuses
a longer package (domain.certificate.MAX_CERTIFICATE_MONTHS). A package saved before that rule
may be longer: this migration takes it off sale (active = false, so step 2 no longer offers it)
and records why in a new nullable column, retired_reason = 'over_max_certificate_months'.

Why a column rather than an audit row: the settings page shows the reason beside the package,
where the admin decides what to do with it (shorten it and sell it again, or leave it retired),
and the downgrade can put back on sale exactly the packages this migration took off — a
package a clerk had retired by hand has no reason and stays retired. Registrations that chose
such a package keep their snapshot (registration.package_snapshot) and are not touched.

Revision ID: 0007_package_max_months
Revises: 0006_drop_staff_lockout
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_package_max_months"
down_revision = "0006_drop_staff_lockout"
branch_labels = None
depends_on = None

MAX_MONTHS = 36  # a copy: a migration must not change when the code's constant does
REASON = "over_max_certificate_months"


def upgrade():
    with op.batch_alter_table("service_package", recreate="never") as batch:
        batch.add_column(sa.Column("retired_reason", sa.String(length=50), nullable=True))
    op.execute(sa.text(
        "UPDATE service_package SET active = :no, retired_reason = :reason"
        " WHERE duration_months > :max AND active = :yes"
    ).bindparams(no=False, yes=True, reason=REASON, max=MAX_MONTHS))


def downgrade():
    op.execute(sa.text(
        "UPDATE service_package SET active = :yes WHERE retired_reason = :reason"
    ).bindparams(yes=True, reason=REASON))
    with op.batch_alter_table("service_package", recreate="never") as batch:
        batch.drop_column("retired_reason")
