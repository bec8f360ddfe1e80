"""VNPT SmartCA counter kiosk: application factory."""
from __future__ import annotations

import contextlib
import mimetypes
import os

from flask import Flask

from kiosk.core.config import DEFAULTS, database_uri, ensure_instance_secrets

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# PDF.js is an ES module (.mjs): browsers refuse a module script not served as JavaScript, and
# Python's guess for .mjs comes from the host (/etc/mime.types, the Windows registry).
mimetypes.add_type("text/javascript", ".mjs")


class KioskFlask(Flask):
    def log_exception(self, exc_info) -> None:
        # Flask's own line names the raw path, and a registration's token is in its URLs
        # (/r/<token>/…): name the route instead, as every other log line does.
        from flask import request

        rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(test_config: dict | None = None) -> Flask:
    app = KioskFlask(
        __name__,
        instance_relative_config=True,
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("KIOSK_INSTANCE_PATH")
        or os.path.join(_ROOT, "instance"),
        template_folder=os.path.join(_ROOT, "templates"),
        static_folder=os.path.join(_ROOT, "static"),
    )
    app.config.from_mapping(DEFAULTS)
    # instance/ holds the keys and the database: readable by the kiosk's own user only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    # An instance/ made by an older version (0755) is tightened too; one that is not ours
    # (a read-only mount) is left alone: the files inside are still 0600.
    with contextlib.suppress(OSError):
        os.chmod(app.instance_path, 0o700)

    if test_config is None:
        ensure_instance_secrets(app.instance_path)
        app.config.from_pyfile("secrets.py")
        # Optional operator settings (providers, printer, kiosk id …), see docs/operations.md.
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("KIOSK")
    else:
        app.config.from_mapping(test_config)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", database_uri(app.instance_path))
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])

    from kiosk.core import logs, metrics

    logs.init_app(app)  # before anything logs: start-up problems come out in the same format
    _init_extensions(app)
    metrics.init_app(app)

    from kiosk import cli, providers, services, web

    providers.init_app(app)
    services.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _private_sqlite_file(uri: str) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use 0644 under the usual umask);
    SQLite gives its -wal and -shm files the database file's mode."""
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    for path in (url.database, url.database + "-wal", url.database + "-shm"):
        if os.path.exists(path):
            os.chmod(path, 0o600)
    if not os.path.exists(url.database):
        os.close(os.open(url.database, os.O_WRONLY | os.O_CREAT, 0o600))


def _init_extensions(app: Flask) -> None:
    from sqlalchemy import event

    from kiosk.core.config import key_ring
    from kiosk.core.extensions import csrf, db, htmx, migrate

    # A key ring, not one key: rotate-key may run while this app serves (core/crypto.py).
    app.extensions["kiosk_cipher"] = key_ring(app.config, app.instance_path)
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
            # Deleted rows (purged images, dropped hashes) are overwritten, not left in free pages.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()
