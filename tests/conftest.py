"""Flaskr-style fixtures: app (fresh migrated DB per test), client, runner, and a kiosk helper."""
from __future__ import annotations

import base64
import os

import pytest

from kiosk import create_app
from kiosk.credentials import configure_hasher
from kiosk.extensions import db
from kiosk.models import StaffUser


@pytest.fixture(autouse=True, scope="session")
def _fast_argon2():
    # Production parameters cost ~50 ms per hash; tests hash hundreds of times.
    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def app(tmp_path):
    from flask_migrate import upgrade

    from kiosk.seed import seed

    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'kiosk.sqlite'}",
        "PRINTER": "file",
    })
    with app.app_context():
        upgrade()
        seed()
        from kiosk.credentials import hash_secret

        db.session.add(StaffUser(username="nv.hoa", full_name="Nguyễn Thị Hoa",
                                 password_hash=hash_secret("Staff@2026")))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def kiosk(client):
    """Walks the wizard like the kiosk browser. It holds no app context between requests:
    an outer context would be shared by every request (and its `g`, e.g. the CSRF token)."""
    from tests.kiosk_driver import KioskDriver

    return KioskDriver(client)
