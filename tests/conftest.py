"""Flaskr-style fixtures: app (fresh migrated DB per test), client, runner, and a kiosk helper."""
from __future__ import annotations

import pytest

from kiosk.core.extensions import db
from kiosk.domain.credentials import configure_hasher
from tests.app_factory import TEST_DATABASE_URL, make_app

# Tests that reach a database through these fixtures run in both passes of scripts/test.sh;
# the PostgreSQL pass deselects the rest (pure rules, vision, PDFs: nothing to learn twice).
DATABASE_FIXTURES = {"app", "client", "runner", "kiosk", "pg_app", "live_app", "live_app_factory"}


def pytest_report_header(config):
    return f"test database: {TEST_DATABASE_URL or 'SQLite per test in tmp_path'}"


def pytest_collection_modifyitems(config, items):
    if not TEST_DATABASE_URL:
        return
    keep = [item for item in items if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))]
    dropped = [item for item in items if item not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


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
