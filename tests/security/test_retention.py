"""Issue 9, item 6: retention purge and data-key rotation."""
from __future__ import annotations

import base64
import os
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from kiosk.core.crypto import DataCipher
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Document, Evidence, Registration, utcnow


def _age(app, kiosk, days):
    with app.app_context():
        reg = kiosk.row()
        reg.finished_at = utcnow() - timedelta(days=days)
        db.session.execute(text("UPDATE registration SET updated_at = :t WHERE id = :id"),
                           {"t": (utcnow() - timedelta(days=days)).replace(tzinfo=None), "id": reg.id})
        db.session.commit()
        return reg.id


def test_purge_deletes_images_and_keeps_audit_hashes_and_decision(app, kiosk, runner):
    kiosk.walk_to(10)
    reg_id = _age(app, kiosk, 100)
    with app.app_context():
        before = {e.sha256 for e in db.session.scalars(select(Evidence).where(Evidence.registration_id == reg_id))}
        docs = {d.kind: d.sha256 for d in db.session.scalars(select(Document).where(Document.registration_id == reg_id))}
    assert {"card_front", "card_back", "face"} <= {k for k in _kinds(app, reg_id)}
    result = runner.invoke(args=["purge", "--older-than", "90"])
    assert result.exit_code == 0, result.output
    assert "Đã xóa" in result.output
    with app.app_context():
        assert db.session.scalars(select(Evidence).where(Evidence.registration_id == reg_id)).all() == []
        reg = db.session.get(Registration, reg_id)
        assert reg.images_purged_at is not None and reg.kyc_decision == "staff_confirmed"
        assert {d.kind: d.sha256 for d in db.session.scalars(
            select(Document).where(Document.registration_id == reg_id))} == docs
        purged = db.session.scalar(select(AuditEvent).where(
            AuditEvent.registration_id == reg_id, AuditEvent.event == "images_purged"))
        assert {digest for _, digest in purged.details["hashes"]} == before


def _kinds(app, reg_id):
    with app.app_context():
        return [e.kind for e in db.session.scalars(select(Evidence).where(Evidence.registration_id == reg_id))]


def test_purge_keeps_recent_registrations(app, kiosk, runner):
    kiosk.walk_to(10)
    reg_id = _age(app, kiosk, 10)
    result = runner.invoke(args=["purge", "--older-than", "90"])
    assert result.exit_code == 0
    assert _kinds(app, reg_id)


def test_purge_deletes_the_unsigned_text_of_an_abandoned_registration(app, kiosk, runner):
    """A customer read the contract and walked away: past retention, the kept text to sign
    (their name, ID number and address in a PDF) goes with the images."""
    kiosk.walk_to(7)
    assert kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").status_code == 200
    reg_id = _age(app, kiosk, 100)
    result = runner.invoke(args=["purge", "--older-than", "90"])
    assert result.exit_code == 0, result.output
    assert "1 tài liệu chưa ký" in result.output
    with app.app_context():
        assert db.session.scalars(select(Document).where(Document.registration_id == reg_id)).all() == []


def test_purge_keeps_the_text_a_customer_is_reading_now(app, kiosk, runner):
    kiosk.walk_to(7)
    shown = kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data
    result = runner.invoke(args=["purge", "--older-than", "90"])
    assert result.exit_code == 0 and "0 tài liệu chưa ký" in result.output
    kiosk.sign(7)
    with app.app_context():
        signed = db.session.scalar(select(Document).where(Document.kind == "contract"))
        assert signed.content.startswith(shown)


def test_purge_default_comes_from_settings(app, kiosk, runner):
    kiosk.walk_to(7)
    reg_id = _age(app, kiosk, 5)
    app.config["RETENTION_DAYS"] = 3
    assert runner.invoke(args=["purge"]).exit_code == 0
    assert _kinds(app, reg_id) == []


def test_purge_refuses_negative_days(runner):
    assert runner.invoke(args=["purge", "--older-than", "-1"]).exit_code != 0


def test_rotate_key_reencrypts_everything_and_old_key_no_longer_reads(app, kiosk, runner):
    kiosk.walk_to(10)
    old_key = app.config["DATA_KEY"]
    with app.app_context():
        reg = kiosk.row()
        personal, digest = reg.personal, reg.id_digest
        images = {e.id: e.content for e in db.session.scalars(select(Evidence))}
    result = runner.invoke(args=["rotate-key", "--yes"])
    assert result.exit_code == 0, result.output
    secrets_file = os.path.join(app.instance_path, "secrets.py")
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    new_key = {}
    exec(Path(secrets_file).read_text(), new_key)  # our own generated file
    assert new_key["DATA_KEY"] != old_key and app.config["DATA_KEY"] == new_key["DATA_KEY"]
    with app.app_context():
        reg = kiosk.row()
        assert reg.personal == personal  # readable with the new key
        assert reg.id_digest != digest and reg.id_digest == DataCipher.from_b64(
            new_key["DATA_KEY"]).lookup_digest(personal["id_number"])
        assert {e.id: e.content for e in db.session.scalars(select(Evidence))} == images
        blob = db.session.execute(text("SELECT content FROM evidence LIMIT 1")).scalar()
    old = DataCipher(base64.b64decode(old_key))
    try:
        old.decrypt(bytes(blob))
        raise AssertionError("the old key still decrypts")
    except Exception as exc:
        assert "authentication" in str(exc)


def test_every_encrypted_column_is_re_encrypted_by_a_key_rotation():
    """Key rotation and its report walk ENCRYPTED_COLUMNS: a column encrypted in the models but
    missing there would keep the old key, and stop reading once that key is retired."""
    from kiosk.core.encrypted_types import EncryptedBytes, EncryptedJSON
    from kiosk.core.extensions import db as models_db
    from kiosk.services.retention import ENCRYPTED_COLUMNS

    encrypted = {(table.name, column.name)
                 for table in models_db.metadata.sorted_tables for column in table.columns
                 if isinstance(column.type, EncryptedBytes | EncryptedJSON)}
    assert ("evidence", "reads") in encrypted
    assert encrypted == set(ENCRYPTED_COLUMNS)
