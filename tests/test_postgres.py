"""The same schema and a whole registration on PostgreSQL (DATABASE_URL deployments).

Uses the PostgreSQL server of the machine (KIOSK_TEST_POSTGRES, default the local trust-auth
server); each test gets a database of its own, dropped afterwards. Skipped with the reason when
no server answers — except under CI=true, where that is a failure.
"""
from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

from tests.app_factory import kiosk_client

from .faces_data import skip_or_fail

SERVER = os.environ.get("KIOSK_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url():
    try:
        admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT",
                                 connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:  # no driver, no server, no permission: all mean "not here"
        skip_or_fail(f"PostgreSQL not reachable at {SERVER}: {type(exc).__name__}: {exc}")
    name = "kiosk_test_" + secrets.token_hex(4)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_app(tmp_path, pg_url):
    from kiosk.core.extensions import db
    from tests.app_factory import make_app

    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=pg_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_migrations_build_the_model_schema_on_postgresql(pg_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kiosk.core.extensions import db

    with pg_app.app_context(), db.engine.connect() as conn:
        assert conn.dialect.name == "postgresql"
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []


def test_a_whole_registration_on_postgresql(pg_app):
    from tests.kiosk_driver import KioskDriver

    kiosk = KioskDriver(kiosk_client(pg_app))
    kiosk.walk_to(10)
    reg = kiosk.registration()
    assert reg.finished and reg.data["full_name"] == "Nguyễn Văn An"
    assert sorted(d.kind for d in reg.documents) == ["acceptance", "contract", "receipt"]
