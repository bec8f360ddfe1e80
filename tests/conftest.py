"""Flaskr-style fixtures: app (fresh migrated DB per test), client, runner, and a kiosk helper."""
from __future__ import annotations

import pytest

from kiosk.core.extensions import db
from kiosk.domain.credentials import configure_hasher
from tests.app_factory import TEST_DATABASE_URL, kiosk_client, make_app

# Tests that reach a database through these fixtures run in both passes of scripts/test.sh;
# the PostgreSQL pass deselects the rest (pure rules, vision, PDFs: nothing to learn twice).
DATABASE_FIXTURES = {"app", "client", "stranger", "runner", "kiosk", "pg_app", "live_app", "live_app_factory"}


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


@pytest.fixture(autouse=True)
def _fresh_photo_cache():
    # The vision engine keeps what it read off a photo per process (kiosk/vision/photo_cache):
    # each test starts without another test's reads (one may have patched the readers).
    from kiosk.vision import photo_cache

    photo_cache.clear_all()
    yield


@pytest.fixture
def app(request, tmp_path):
    # The scripted eKYC fake unless the test asserts what the real vision says (real_vision):
    # the real engine reads noise photos for seconds and answers what the fake answers.
    real = request.node.get_closest_marker("real_vision") is not None
    app = make_app(tmp_path, fake_vision=not real)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def fake_ekyc(app):
    """The app's scripted eKYC engine (tests/support/fake_ekyc.py), to set its answers."""
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import FakeEkycEngine

    engine = app.extensions[EXTENSION_KEY]
    assert isinstance(engine, FakeEkycEngine), "a real_vision test has the real engine"
    return engine


@pytest.fixture
def client(app):
    """The enrolled kiosk quay-01's browser (its device cookie set); the console tests sign in
    with it too, as a clerk may on any browser."""
    return kiosk_client(app)


@pytest.fixture
def stranger(app):
    """A browser that is no enrolled kiosk (no device cookie)."""
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def browser_printing(app):
    """The server prints through the kiosk's browser (PRINTER's shipped default): the done
    screen draws the receipt and prints it, and stays open to the browser until it times out."""
    from kiosk import providers

    app.config["PRINTER"] = "browser"
    providers.init_app(app)  # rebuild the printer from the new setting
    return app


@pytest.fixture
def jammed_printer(app, tmp_path):
    """The app prints through CUPS to a queue whose ``lp`` refuses every job: the printer-error
    paths (done screen, clerk called, the registration still finished)."""
    from kiosk import providers

    lp = tmp_path / "lp"
    lp.write_text("#!/bin/sh\necho 'lp: printer is jammed' >&2\nexit 1\n")
    lp.chmod(0o755)
    app.config.update(PRINTER="cups", PRINTER_QUEUE="quay01", PRINTER_LP_PATH=str(lp))
    providers.init_app(app)  # rebuild the printer from the new settings
    return lp


@pytest.fixture
def kiosk(client):
    """Walks the wizard like the kiosk browser. It holds no app context between requests:
    an outer context would be shared by every request (and its `g`, e.g. the CSRF token)."""
    from tests.kiosk_driver import KioskDriver

    return KioskDriver(client)
