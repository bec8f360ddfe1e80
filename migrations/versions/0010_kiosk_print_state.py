"""kiosk.print_state: the last print's outcome, apart from what the kiosk reports of itself

Two writers shared kiosk.device_state: the kiosk's own state report (camera, screen, reader) and
the server noting each receipt's print. Each read the whole JSON value, changed its keys and
wrote the whole value back, so a report that read the row before a print and wrote after it
dropped the print's outcome (and a print could drop a report's camera the same way). Now each
writer has its own column. The outcomes already noted move across.

Revision ID: 0010_kiosk_print_state
Revises: 0009_offices_kiosks_findings
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_kiosk_print_state"
down_revision = "0009_offices_kiosks_findings"
branch_labels = None
depends_on = None

PRINT_KEYS = ("print", "print_at")


def _kiosks():
    return sa.table("kiosk", sa.column("id", sa.Integer), sa.column("device_state", sa.JSON),
                    sa.column("print_state", sa.JSON))


def upgrade():
    with op.batch_alter_table("kiosk", recreate="never") as batch:
        batch.add_column(sa.Column("print_state", sa.JSON(), nullable=True))
    bind = op.get_bind()
    kiosk = _kiosks()
    for kiosk_id, state in bind.execute(sa.select(kiosk.c.id, kiosk.c.device_state)).all():
        if not state or not any(key in state for key in PRINT_KEYS):
            continue
        printed = {key: state[key] for key in PRINT_KEYS if key in state}
        rest = {key: value for key, value in state.items() if key not in PRINT_KEYS}
        bind.execute(kiosk.update().where(kiosk.c.id == kiosk_id)
                     .values(print_state=printed, device_state=rest or None))


def downgrade():
    bind = op.get_bind()
    kiosk = _kiosks()
    rows = bind.execute(sa.select(kiosk.c.id, kiosk.c.device_state, kiosk.c.print_state)).all()
    for kiosk_id, state, printed in rows:
        if printed:
            bind.execute(kiosk.update().where(kiosk.c.id == kiosk_id)
                         .values(device_state={**(state or {}), **printed}))
    with op.batch_alter_table("kiosk", recreate="never") as batch:
        batch.drop_column("print_state")
