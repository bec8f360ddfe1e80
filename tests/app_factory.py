"""One way to build a test kiosk: fresh migrated SQLite in tmp_path, seed data, one clerk."""
from __future__ import annotations

import base64
import os

from kiosk import create_app
from kiosk.core.extensions import db
from kiosk.core.models import StaffUser
from kiosk.domain.credentials import hash_secret

STAFF = ("nv.hoa", "Staff@2026")


def make_app(tmp_path, **overrides):
    from flask_migrate import upgrade

    from kiosk.core.seed import seed

    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'kiosk.sqlite'}",
        "PRINTER": "file",
        **overrides,
    })
    with app.app_context():
        upgrade()
        seed()
        db.session.add(StaffUser(username=STAFF[0], full_name="Nguyễn Thị Hoa",
                                 password_hash=hash_secret(STAFF[1])))
        db.session.commit()
    return app
