"""One way to build a test kiosk: a fresh migrated database, seed data, one clerk.

The database is SQLite in tmp_path, or — when KIOSK_TEST_DATABASE_URL names a PostgreSQL
database (scripts/test.sh's second pass) — that database, emptied before each test. The
schema is migrated once per run there and emptied per test: dropping and migrating again
would cost ~1 s per test.
"""
from __future__ import annotations

import base64
import contextlib
import os

from kiosk import create_app
from kiosk.core.extensions import db
from kiosk.core.models import Office, StaffUser
from kiosk.domain.credentials import hash_secret

STAFF = ("nv.hoa", "Staff@2026")
# Every test app's seeded kiosk (quay-01) is enrolled with this device token: the `client`
# fixture and the browser tests carry it in the kiosk cookie, as an enrolled kiosk PC does.
KIOSK_DEVICE_TOKEN = "test-kiosk-device-token-quay-01-0123456789abcdef"
KIOSK_COOKIE = "kiosk_device"
TEST_DATABASE_URL = os.environ.get("KIOSK_TEST_DATABASE_URL") or None


def database_uri(tmp_path) -> str:
    return TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'kiosk.sqlite'}"


def on_postgres() -> bool:
    return (TEST_DATABASE_URL or "").startswith("postgresql")


def _empty_postgres() -> None:
    """Delete every row the models know and restart the id sequences (alembic_version stays).

    DELETE, not TRUNCATE: the tables hold a handful of rows, and TRUNCATE's new files cost
    ~300 ms per test where DELETE costs a few.
    """
    from sqlalchemy import inspect, text

    existing = set(inspect(db.engine).get_table_names())
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    if not tables:
        return
    with db.engine.begin() as conn:
        # A connection leaked by an earlier test would make this wait forever: fail instead.
        conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))
        sequences = conn.execute(text(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()")).scalars().all()
        for sequence in sequences:
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


def install_fake_ekyc(app):
    """Put the scriptable eKYC fake (tests/support/fake_ekyc.py) where the services look for
    the engine, with the app's face settings; returns it."""
    from kiosk.services.ekyc import EXTENSION_KEY
    from tests.support.fake_ekyc import FakeEkycEngine

    fake = FakeEkycEngine.from_config(app.config)
    app.extensions[EXTENSION_KEY] = fake
    return fake


_SANDBOX_SIGNING: dict[str, str] = {}


def sandbox_signing_dir() -> str:
    """A sandbox CA and office certificate made once per test process (what set-up makes in
    instance/signing/); every test app gets a copy, so none pays for making its own."""
    if "dir" not in _SANDBOX_SIGNING:
        import atexit
        import shutil
        import tempfile

        from kiosk.services.document_seal import make_sandbox_cert

        folder = tempfile.mkdtemp(prefix="kiosk-signing-")
        atexit.register(shutil.rmtree, folder, True)
        make_sandbox_cert(folder)
        _SANDBOX_SIGNING["dir"] = folder
    return _SANDBOX_SIGNING["dir"]


def copy_sandbox_signing(instance_path) -> None:
    import shutil

    from kiosk.services.document_seal import SANDBOX_DIR

    target = os.path.join(str(instance_path), SANDBOX_DIR)
    if not os.path.exists(target):
        shutil.copytree(os.path.join(sandbox_signing_dir(), SANDBOX_DIR), target)


def enroll_test_kiosk(code: str = "quay-01", token: str = KIOSK_DEVICE_TOKEN):
    """Enroll a kiosk with a known device token (inside an app context; the caller commits)."""
    from kiosk.services import kiosk_devices

    kiosk_devices.bind_device(kiosk_devices.by_code(code), token)


@contextlib.contextmanager
def data_key_rotated(app):
    """A new primary data key in force while inside, the old one kept to read with (what
    rotate-key does to a running app: core/crypto.KeyRing); the app's ring is put back after.
    Yields the new ring."""
    from kiosk.core.crypto import KeyRing

    old = app.extensions["kiosk_cipher"]
    ring = KeyRing(base64.b64encode(os.urandom(32)).decode(), [old.primary_b64])
    app.extensions["kiosk_cipher"] = ring
    try:
        yield ring
    finally:
        app.extensions["kiosk_cipher"] = old


def kiosk_client(app):
    """A test client that is the enrolled kiosk quay-01's browser (see KIOSK_DEVICE_TOKEN)."""
    client = app.test_client()
    client.set_cookie(KIOSK_COOKIE, KIOSK_DEVICE_TOKEN)
    return client


def make_app(tmp_path, *, fake_vision: bool = False, **overrides):
    """The kiosk as shipped (the real eKYC engine), or with ``fake_vision`` the scripted fake
    in its place. The ``app`` fixture asks for the fake unless the test is marked
    ``real_vision``; callers of make_app itself say which they want."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from kiosk.core.seed import seed

    copy_sandbox_signing(tmp_path / "instance")
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SQLALCHEMY_DATABASE_URI": database_uri(tmp_path),
        "PRINTER": "file",
        # photo analysis in the request thread (a test about the pool builds its own)
        "VISION_WORKERS": 0,
        **overrides,
    })
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _empty_postgres()
        upgrade()
        seed()
        enroll_test_kiosk()
        # The test clerk works at the seeded office, where the kiosk's registrations land.
        db.session.add(StaffUser(username=STAFF[0], full_name="Nguyễn Thị Hoa",
                                 password_hash=hash_secret(STAFF[1]),
                                 office_id=db.session.scalar(select(Office.id))))
        db.session.commit()
    if fake_vision:
        install_fake_ekyc(app)
    return app
