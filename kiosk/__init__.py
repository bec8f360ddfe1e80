"""VNPT SmartCA counter kiosk: application factory."""
from __future__ import annotations

import os

from flask import Flask

from kiosk.core.config import DEFAULTS, database_uri, ensure_instance_secrets

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("KIOSK_INSTANCE_PATH")
        or os.path.join(_ROOT, "instance"),
        template_folder=os.path.join(_ROOT, "templates"),
        static_folder=os.path.join(_ROOT, "static"),
    )
    app.config.from_mapping(DEFAULTS)
    os.makedirs(app.instance_path, exist_ok=True)

    if test_config is None:
        ensure_instance_secrets(app.instance_path)
        app.config.from_pyfile("secrets.py")
        # Optional operator settings (providers, printer, kiosk id …), see docs/operations.md.
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("KIOSK")
    else:
        app.config.from_mapping(test_config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_uri(app.instance_path))

    _init_extensions(app)

    from kiosk import cli, providers, services, web

    providers.init_app(app)
    services.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from sqlalchemy import event

    from kiosk.core.crypto import DataCipher
    from kiosk.core.extensions import csrf, db, htmx, migrate

    app.extensions["kiosk_cipher"] = DataCipher.from_b64(app.config["DATA_KEY"])
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(_ROOT, "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            engine = db.engine
        busy_ms = int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10_000))

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL: readers never wait for the writer and the writer never waits for readers.
            # busy_timeout: a writer waits for SQLite's single write lock instead of failing at
            # once. Services keep write transactions to a few milliseconds (vision, PDFs and
            # hashing run before the first write, see services/ekyc.py), so 10 s is only
            # reached when something is wrong. No BEGIN IMMEDIATE: pysqlite opens the
            # transaction right before the first INSERT/UPDATE, so a write transaction never
            # starts with a read that it would later have to upgrade (the case where SQLite
            # fails at once without honouring busy_timeout); measured in docs/performance.md.
            # synchronous stays FULL: a finished registration must survive a power cut.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_ms:d}")
            cur.close()
