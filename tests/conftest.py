"""Flaskr-style fixtures: app (fresh migrated DB per test), client, runner, and a kiosk helper."""
from __future__ import annotations

import pytest

from kiosk.core.extensions import db
from kiosk.domain.credentials import configure_hasher
from tests.app_factory import make_app


@pytest.fixture(autouse=True, scope="session")
def _fast_argon2():
    # Production parameters cost ~50 ms per hash; tests hash hundreds of times.
    configure_hasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
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
