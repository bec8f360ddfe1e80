"""Issue 9, item 3: the kiosk keeps no derivative of the customer's password or PIN."""
from __future__ import annotations

import base64
import os
import sqlite3

from flask_migrate import upgrade
from sqlalchemy import inspect, text

from kiosk import create_app
from kiosk.core.extensions import db
from tests.kiosk_driver import PASSWORD, PIN


def _file_bytes(path):
    data = b""
    for suffix in ("", "-wal"):
        if os.path.exists(str(path) + suffix):
            data += open(str(path) + suffix, "rb").read()  # noqa: SIM115
    return data


def test_no_password_or_pin_derivative_anywhere_in_the_database(app, kiosk, tmp_path):
    kiosk.walk_to(10)
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("registration")}
        assert not {"password_hash", "pin_hash"} & columns
        assert {"password_set_at", "pin_set_at"} <= columns
        reg = kiosk.row()
        assert reg.password_set_at is not None and reg.pin_set_at is not None
        row = db.session.execute(text("SELECT * FROM registration WHERE id = :id"),
                                 {"id": reg.id}).mappings().one()
        assert not any(isinstance(v, str) and v.startswith("$argon2") for v in row.values())
        db.engine.dispose()
    raw = _file_bytes(tmp_path / "kiosk.sqlite")
    assert PASSWORD.encode() not in raw and PIN.encode() not in raw


def test_migration_drops_the_hashes_and_keeps_when_they_were_set(tmp_path):
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "i"), "SECRET_KEY": "k",
                      "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}"})
    marker = "$argon2id$v=19$m=19456,t=2,p=1$OLDPINHASHMARKER"
    with app.app_context():
        upgrade(revision="0003_help_request")
        db.session.execute(text(
            "INSERT INTO registration (token, number, kiosk_id, status, current_step, furthest_step,"
            " sandbox, otp_sends, otp_failed_attempts, face_attempts, created_at, updated_at,"
            " password_hash, pin_hash) VALUES ('t', 'N1', 'k', 'finished', 10, 10, 1, 1, 0, 0,"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00', :h, :h)"), {"h": marker})
        db.session.execute(text(
            "INSERT INTO audit_event (at, registration_id, actor, event) VALUES"
            " ('2026-01-01 08:00:00', 1, 'customer', 'password_created'),"
            " ('2026-01-01 08:05:00', 1, 'customer', 'pin_created')"))
        db.session.commit()
        upgrade()
        row = db.session.execute(text(
            "SELECT password_set_at, pin_set_at FROM registration")).one()
        assert str(row[0]).startswith("2026-01-01 08:00") and str(row[1]).startswith("2026-01-01 08:05")
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
        db.engine.dispose()
    con = sqlite3.connect(tmp_path / "old.sqlite")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert b"OLDPINHASHMARKER" not in _file_bytes(tmp_path / "old.sqlite")


def test_consent_notice_cites_the_law_in_force_and_says_how_long(kiosk, app):
    kiosk.start()
    page = kiosk.get(f"/r/{kiosk.token}/step/1/scan").get_data(as_text=True)
    assert "91/2025/QH15" in page and "356/2025/NĐ-CP" in page and "13/2023" not in page
    assert f"sau {app.config['RETENTION_DAYS']} ngày" in page
    assert "Mật khẩu và mã PIN không được lưu" in page
