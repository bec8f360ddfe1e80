"""Third attack pass, item 1: `rotate-key` while the app runs.

The running server used to keep the old key: a registration in progress answered 500 at its
next step (its rows were now under the new key), rows it wrote meanwhile were under the old
key, and after a restart the console answered 500 on them (InvalidTag). Now the key ring reads
instance/secrets.py again when it meets a key id it does not hold or when the file changed, the
old key stays readable until `rotate-key --retire` finds no row under it.

"The running server" here is the ``app`` fixture: its key was loaded before the rotation, which
runs in a second app instance (as the CLI would, in its own process).
"""
from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import create_app
from kiosk.core.config import read_secrets
from kiosk.core.crypto import DataCipher, blob_key_id, key_id
from kiosk.core.extensions import db
from tests.app_factory import kiosk_client
from tests.kiosk_driver import CUSTOMER, KioskDriver
from tests.staff_console import ADMIN, Clerk, add_admin

COLUMNS = (("registration", "personal"), ("evidence", "content"), ("document", "content"),
           ("sms_message", "to_number"), ("sms_message", "body"))


def _sibling(app, data_key: str):
    """Another app on the same database and instance folder (the CLI, or a restarted server)."""
    return create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path,
                       "SECRET_KEY": app.config["SECRET_KEY"], "DATA_KEY": data_key,
                       "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                       "PRINTER": "file"})


def _key_ids(app) -> dict[bytes | None, int]:
    found: dict = {}
    with app.app_context():
        for table, column in COLUMNS:
            for blob in db.session.execute(
                    text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars():
                kid = blob_key_id(bytes(blob))
                found[kid] = found.get(kid, 0) + 1
    return found


def _console_pages(app) -> list[str]:
    with app.app_context():
        numbers = db.session.execute(text("SELECT number FROM registration")).scalars().all()
        evidence = db.session.execute(text(
            "SELECT e.id, r.number FROM evidence e JOIN registration r ON r.id = e.registration_id")).all()
        documents = db.session.execute(text(
            "SELECT d.id, r.number FROM document d JOIN registration r ON r.id = d.registration_id")).all()
    pages = ["/staff/", "/staff/board/live", "/staff/queue", "/staff/queue/badge", "/staff/outbox",
             "/staff/audit", "/staff/reports", "/staff/reports.csv", "/staff/settings",
             "/staff/accounts", "/staff/password", f"/staff/search?q={CUSTOMER['id_number']}"]
    for number in numbers:
        pages += [f"/staff/r/{number}", f"/staff/r/{number}/photos", f"/staff/review/{number}",
                  f"/staff/search?q={number}"]
    pages += [f"/staff/r/{number}/evidence/{eid}" for eid, number in evidence]
    pages += [f"/staff/r/{number}/evidence/{eid}/portrait" for eid, number in evidence]
    pages += [f"/staff/r/{number}/document/{did}" for did, number in documents]
    return pages


def _open_every_page(app) -> None:
    add_admin_once(app)
    admin = Clerk(app, *ADMIN, addr=f"10.7.{os.getpid() % 200}.{int(time.time()) % 200}")
    for path in _console_pages(app):
        response = admin.get(path)
        assert response.status_code < 500, (path, response.status_code)


def add_admin_once(app) -> None:
    with app.app_context():
        exists = db.session.execute(text("SELECT 1 FROM staff_user WHERE username = :u"),
                                    {"u": ADMIN[0]}).first()
    if not exists:
        add_admin(app)


def _continue(kiosk: KioskDriver, first: int, last: int) -> None:
    """Steps first..last-1 of the happy path, each answered without a server error."""
    actions = {
        4: lambda: [kiosk.provision()],
        5: lambda: [kiosk.activate(), kiosk.password()],
        6: lambda: [*(kiosk.capture(k) for k in ("card_front", "card_back", "face")),
                    kiosk.staff_confirm()],
        7: lambda: [kiosk.sign(7)],
        8: lambda: [kiosk.pin()],
        9: lambda: [kiosk.sign(9)],
    }
    for n in range(first, last):
        for response in actions[n]():
            assert response.status_code < 500, (n, response.status_code)


def test_rotation_while_the_app_runs_strands_nothing(app, kiosk, monkeypatch):
    old_key = app.config["DATA_KEY"]
    kiosk.walk_to(4)  # personal data, an SMS: all under the old key

    cli = _sibling(app, old_key)
    result = cli.test_cli_runner().invoke(args=["rotate-key", "--yes"])
    assert result.exit_code == 0, result.output
    secrets = read_secrets(Path(app.instance_path) / "secrets.py")
    new_key = secrets["DATA_KEY"]
    assert new_key != old_key and secrets["DATA_KEYS_RETIRING"] == [old_key]
    new_id = key_id(base64.b64decode(new_key))
    assert set(_key_ids(app)) == {new_id}

    # The running server (old key loaded) walks the registration to its end: no 500 …
    _continue(kiosk, 4, 10)
    assert kiosk.registration().finished_at is not None
    # … and a registration started now is written under the new key.
    second = KioskDriver(kiosk_client(app))
    second.walk_to(4)
    assert set(_key_ids(app)) == {new_id}

    # A server that had not yet noticed the new file wrote a row under the old key meanwhile.
    straggler = DataCipher.from_b64(old_key).encrypt(b"\xff\xd8\xff straggler")
    with app.app_context():
        db.session.execute(text("UPDATE evidence SET content = :c WHERE id = "
                                "(SELECT MIN(id) FROM evidence)"), {"c": straggler})
        db.session.commit()
    assert _key_ids(app).get(key_id(base64.b64decode(old_key))) == 1
    _open_every_page(app)

    # After a restart (the key from the file) every page still opens: the old key is still read.
    restarted = _sibling(app, new_key)
    _open_every_page(restarted)

    # --retire: refused right after the rotation (requests under way may still write old-key rows)
    runner = _sibling(app, new_key).test_cli_runner()
    refused = runner.invoke(args=["rotate-key", "--retire"])
    assert refused.exit_code != 0 and "phút" in refused.output
    monkeypatch.setattr("kiosk.cli.maintenance.RETIRE_AFTER_SECONDS", 0)
    retired = runner.invoke(args=["rotate-key", "--retire"])
    assert retired.exit_code == 0, retired.output
    assert "DATA_KEYS_RETIRING" not in read_secrets(Path(app.instance_path) / "secrets.py")
    assert set(_key_ids(app)) == {new_id}  # the straggler was re-encrypted before the key went
    fresh = _sibling(app, new_key)
    _open_every_page(fresh)
    _open_every_page(app)
    for extra in (cli, restarted, fresh):
        with extra.app_context():
            db.engine.dispose()


def test_retire_refuses_while_a_server_still_writes_under_the_old_key(app, kiosk, monkeypatch):
    """The second pass finds a row under the old key (a server never given the new file): the
    old key stays in the ring and nothing is stranded."""
    kiosk.walk_to(4)
    old_key = app.config["DATA_KEY"]
    runner = _sibling(app, old_key).test_cli_runner()
    assert runner.invoke(args=["rotate-key", "--yes"]).exit_code == 0
    monkeypatch.setattr("kiosk.cli.maintenance.RETIRE_AFTER_SECONDS", 0)
    from kiosk.services import key_rotation

    real = key_rotation.stale_count

    def a_server_writes_meanwhile(ring):
        with app.app_context():
            db.session.execute(text("UPDATE registration SET personal = :p"), {
                "p": DataCipher.from_b64(old_key).encrypt_json({**CUSTOMER})})
            db.session.commit()
        return real(ring)

    monkeypatch.setattr(key_rotation, "stale_count", a_server_writes_meanwhile)
    result = runner.invoke(args=["rotate-key", "--retire"])
    assert result.exit_code != 0 and "khóa cũ" in result.output
    assert read_secrets(Path(app.instance_path) / "secrets.py")["DATA_KEYS_RETIRING"] == [old_key]
    assert kiosk.registration().personal["id_number"] == CUSTOMER["id_number"]


def test_prepared_key_is_read_everywhere_before_it_writes(app, kiosk):
    """Several app servers: `--prepare` adds the next key (read only); copied to every server, it
    becomes the primary at `rotate-key`, so no server meets a key it has never seen."""
    kiosk.walk_to(4)
    old_key = app.config["DATA_KEY"]
    runner = _sibling(app, old_key).test_cli_runner()
    assert runner.invoke(args=["rotate-key", "--prepare"]).exit_code == 0
    secrets = read_secrets(Path(app.instance_path) / "secrets.py")
    assert secrets["DATA_KEY"] == old_key and secrets["DATA_KEY_NEXT"]
    assert set(_key_ids(app)) == {key_id(base64.b64decode(old_key))}  # nothing rewritten yet
    assert runner.invoke(args=["rotate-key", "--yes"]).exit_code == 0
    assert read_secrets(Path(app.instance_path) / "secrets.py")["DATA_KEY"] == secrets["DATA_KEY_NEXT"]
    _continue(kiosk, 4, 6)


def test_ciphertexts_without_a_key_id_still_decrypt():
    """Format 01 (before the key ring) names no key: every key of the ring is tried."""
    import json

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from kiosk.core.crypto import KeyRing

    old, new = os.urandom(32), os.urandom(32)
    nonce = os.urandom(12)
    legacy = b"\x01" + nonce + AESGCM(old).encrypt(nonce, json.dumps({"a": 1}).encode(), b"")
    ring = KeyRing(base64.b64encode(new).decode(), [base64.b64encode(old).decode()])
    assert ring.decrypt_json(legacy) == {"a": 1}
    assert blob_key_id(ring.encrypt(b"x")) == key_id(new)
    with pytest.raises(Exception, match="authentication"):
        KeyRing(base64.b64encode(new).decode()).decrypt(legacy)
