"""Migrations, seed data, encryption at rest, CLI commands."""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, select, text

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Evidence, Office, ServicePackage, StaffUser


def test_migrations_upgrade_a_fresh_database(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"registration", "service_package", "office", "staff_user", "evidence", "document",
            "sms_message", "audit_event", "alembic_version"} <= tables


def test_migrations_match_the_models(app):
    """An autogenerate diff against the migrated DB must be empty (no model change unmigrated)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_init_command_seeds_office_and_sample_packages(runner, app):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        office = db.session.scalar(select(Office))
        assert office.hotline == "18001260 nhánh 1"
        assert office.email == "hotrodichvu.tha@vnpt.vn"
        packages = list(db.session.scalars(select(ServicePackage)))
        assert len(packages) == 3 and all(p.is_sample for p in packages)


def test_init_command_is_idempotent(runner, app):
    runner.invoke(args=["init"])
    runner.invoke(args=["init"])
    with app.app_context():
        assert db.session.query(ServicePackage).count() == 3
        assert db.session.query(Office).count() == 1


def test_create_staff_hashes_the_password(runner, app):
    result = runner.invoke(args=["create-staff", "nv.binh", "--full-name", "Lê Văn Bình",
                                 "--password-stdin"], input="Binh@2026\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "nv.binh"))
        assert user.password_hash.startswith("$argon2id$")
        assert "Binh@2026" not in user.password_hash


def test_create_staff_refuses_a_weak_password(runner, app):
    result = runner.invoke(args=["create-staff", "nv.yeu", "--full-name", "Yếu", "--password-stdin"],
                           input="123\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.username == "nv.yeu")) is None


def test_personal_data_and_evidence_are_encrypted_at_rest(app, kiosk):
    kiosk.walk_to(7)
    with app.app_context():
        evidence = db.session.scalars(select(Evidence)).all()
        assert evidence and all(e.content[:3] == b"\xff\xd8\xff" for e in evidence
                                if e.kind != "signature_contract")
        # Plain SQL bypasses the encrypting column types: what is really stored (either database).
        raw = db.session.connection()
        blob = b"".join(bytes(row[0]) for row in raw.execute(text("select personal from registration")))
        contents = [bytes(row[0]) for row in raw.execute(text("select content from evidence"))]
        sms = b"".join(bytes(row[0]) for row in raw.execute(text("select body from sms_message")))
    assert "Nguyễn Văn An".encode() not in blob and b"038085012345" not in blob
    assert all(not c.startswith(b"\xff\xd8\xff") and b"JFIF" not in c[:64] for c in contents)
    assert b"Ma kich hoat" not in sms


def test_secrets_are_generated_into_the_instance_folder(tmp_path, monkeypatch):
    from kiosk import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    first = create_app()
    second = create_app()
    assert (tmp_path / "inst" / "secrets.py").stat().st_mode & 0o077 == 0
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["DATA_KEY"]) == 44  # base64 of 32 bytes


def test_listing_the_photos_leaves_their_bytes_in_the_database(app, kiosk):
    """Step 6's screen lists the photos taken (kind, id): their encrypted pictures are not
    read for that (on PostgreSQL each would cross the wire and be decrypted for nothing);
    the photo route still serves a picture."""
    from sqlalchemy import event

    kiosk.walk_to(6)
    kiosk.capture_all()
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        html = kiosk.get(kiosk.url(6)).get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    evidence_reads = [s for s in statements if "FROM evidence" in s]
    assert evidence_reads and not any("evidence.content" in s for s in evidence_reads)
    photo = re.search(r'src="(/r/[^"]+/evidence/(\d+))"', html)
    assert photo is not None
    statements.clear()
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = kiosk.get(photo.group(1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200 and response.data[:2] == b"\xff\xd8"
    # the thumbnail is the preview stored with the photo; the photo itself stays where it is
    with app.app_context():
        row = db.session.get(Evidence, int(photo.group(2)))
        assert row.preview and response.data == row.preview != row.content
    assert not any("evidence.content" in s for s in statements if "FROM evidence" in s)


def test_a_photo_without_a_stored_preview_is_shown_whole(app, kiosk):
    """A picture stored without a preview (a small liveness frame needs none): the kiosk's
    photo route answers the photo itself."""
    kiosk.walk_to(6)
    kiosk.capture_all()
    with app.app_context():
        row = db.session.scalar(select(Evidence).where(Evidence.kind == "face"))
        row.preview = None
        db.session.commit()
        evidence_id, content = row.id, row.content
    response = kiosk.get(f"/r/{kiosk.token}/evidence/{evidence_id}")
    assert response.status_code == 200 and response.data == content


def test_create_staff_resets_an_existing_account_and_ends_its_sessions(runner, app):
    from tests.app_factory import STAFF

    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == STAFF[0]))
        user.active = False
        nonce, old_hash = user.session_nonce, user.password_hash
        db.session.commit()
    result = runner.invoke(args=["create-staff", STAFF[0], "--full-name", "Nguyễn Thị Hoa",
                                 "--role", "admin", "--password-stdin"], input="Hoa@Moi2026\n")
    assert result.exit_code == 0, result.output
    assert "Đã cập nhật" in result.output
    with app.app_context():
        users = list(db.session.scalars(select(StaffUser).where(StaffUser.username == STAFF[0])))
        assert len(users) == 1
        user = users[0]
        assert user.active and user.role == "admin" and user.password_changed_at is not None
        assert user.session_nonce != nonce and user.password_hash != old_hash
        events = [(e.event, e.actor, e.details) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.event.like("staff_%")))]
    assert ("staff_password_reset", "system",
            {"username": STAFF[0], "role": "admin", "where": "cli"}) in events


def test_create_staff_audits_a_new_account(runner, app):
    result = runner.invoke(args=["create-staff", "NV.Chi", "--full-name", "  Trần   Chi ",
                                 "--password-stdin"], input="Chi@2026x\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == "nv.chi"))
        assert user is not None and user.full_name == "Trần Chi" and user.role == "clerk"
        created = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "staff_created"))
        assert created.actor == "system" and created.details["username"] == "nv.chi"


def test_create_staff_refuses_a_username_the_console_could_not_sign_in(runner, app):
    result = runner.invoke(args=["create-staff", "x y", "--full-name", "Ai Đó",
                                 "--password-stdin"], input="Staff@2026\n")
    assert result.exit_code != 0 and "Tên đăng nhập" in result.output
    assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(StaffUser).where(StaffUser.full_name == "Ai Đó")) is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "staff_created")) is None


def test_migration_drops_the_per_account_lockout_and_keeps_the_clerks(app):
    """0006 drops staff_user.failed_logins / locked_until on a database whose clerk has decided
    a case (a foreign key points at the row); the downgrade brings the columns back, empty."""
    from flask_migrate import downgrade, upgrade

    previous = "harden_0004_forget_secrets"
    with app.app_context():
        downgrade(revision=previous)
        columns = {c["name"] for c in inspect(db.engine).get_columns("staff_user")}
        assert {"failed_logins", "locked_until"} <= columns
        db.session.execute(text("UPDATE staff_user SET failed_logins = 4"))
        clerk = db.session.execute(text("SELECT id FROM staff_user")).scalar()
        db.session.execute(text(
            "INSERT INTO registration (token, number, kiosk_id, status, current_step, furthest_step,"
            " sandbox, otp_sends, otp_failed_attempts, face_attempts, created_at, updated_at,"
            " kyc_decided_by) VALUES ('t6', 'N6', 'k', 'finished', 10, 10, :yes, 1, 0, 0,"
            " '2026-01-01 00:00:00', '2026-01-01 00:00:00', :clerk)"),
            {"yes": True, "clerk": clerk})
        db.session.commit()
        try:
            upgrade()
            columns = {c["name"] for c in inspect(db.engine).get_columns("staff_user")}
            assert not {"failed_logins", "locked_until"} & columns
            assert db.session.execute(text(
                "SELECT r.kyc_decided_by, s.username FROM registration r"
                " JOIN staff_user s ON s.id = r.kyc_decided_by")).one() == (clerk, "nv.hoa")
            db.session.commit()  # PostgreSQL: the read's locks would make ALTER TABLE wait forever
            downgrade(revision=previous)
            assert db.session.execute(text(
                "SELECT failed_logins, locked_until FROM staff_user")).one() == (0, None)
            db.session.commit()
        finally:
            db.session.rollback()
            upgrade()
        columns = {c["name"] for c in inspect(db.engine).get_columns("staff_user")}
        assert not {"failed_logins", "locked_until"} & columns


def test_flask_create_staff_from_a_shell_signs_the_clerk_in(tmp_path):
    """The command as an operator types it (`flask --app kiosk …`), on a database `init` made:
    the account it creates signs in to the console."""
    import os
    import subprocess
    import sys

    from kiosk import create_app

    env = {**os.environ, "KIOSK_INSTANCE_PATH": str(tmp_path / "inst"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'shell.sqlite'}"}
    env.pop("KIOSK_DATA_KEY", None)

    def flask(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "kiosk", *args],
                              input=stdin, capture_output=True, text=True, env=env, timeout=120,
                              cwd=Path(__file__).resolve().parents[1])

    assert flask("init").returncode == 0
    made = flask("create-staff", "truongquay", "--full-name", "Phạm Văn Trưởng", "--role",
                 "admin", "--password-stdin", stdin="Truong@2026\n")
    assert made.returncode == 0, made.stderr
    assert "Đã tạo tài khoản nhân viên truongquay (admin)" in made.stdout
    weak = flask("create-staff", "nv.moi", "--full-name", "Mới", "--password-stdin", stdin="123\n")
    assert weak.returncode != 0 and "Mật khẩu chưa đạt" in weak.stderr
    assert "Traceback" not in weak.stderr

    from tests.staff_console import Clerk

    keys: dict = {}
    exec((tmp_path / "inst" / "secrets.py").read_text(), keys)  # what `init` generated
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "inst"),
                      "SECRET_KEY": keys["SECRET_KEY"], "DATA_KEY": keys["DATA_KEY"],
                      "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    try:
        assert "Quản trị" in Clerk(app, "truongquay", "Truong@2026").html("/staff/accounts")
    finally:
        with app.app_context():
            db.engine.dispose()


def test_purge_commits_then_leaves_no_deleted_picture_in_the_files(app, kiosk, runner, tmp_path):
    """`purge` commits what the service deleted, then checkpoints SQLite's log: the encrypted
    pictures are in neither the database file (secure_delete zeroes freed pages) nor the WAL."""
    import pytest

    from tests.app_factory import on_postgres

    if on_postgres():
        pytest.skip("SQLite's files")
    kiosk.walk_to(7)
    with app.app_context():
        reg_id = kiosk.row().id
        db.session.execute(text("UPDATE registration SET updated_at = '2001-01-01 00:00:00'"
                                " WHERE id = :id"), {"id": reg_id})
        db.session.commit()
        blobs = [bytes(row[0]) for row in db.session.execute(text(
            "SELECT content FROM evidence WHERE registration_id = :id"), {"id": reg_id})]
    assert blobs
    result = runner.invoke(args=["purge", "--older-than", "90"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(text("SELECT COUNT(*) FROM evidence")).scalar() == 0
    database = tmp_path / "kiosk.sqlite"
    wal = database.with_name("kiosk.sqlite-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    raw = database.read_bytes()
    assert not any(blob[-64:] in raw for blob in blobs)


def test_migration_takes_a_48_month_package_off_sale_and_says_why(app):
    """0007: a package longer than the decree's 36 months, saved before the rule, goes off
    sale with its reason; one a clerk retired by hand stays as it was; the downgrade puts back
    on sale only what the upgrade took off."""
    from flask_migrate import downgrade, upgrade

    previous = "0006_drop_staff_lockout"
    with app.app_context():
        downgrade(revision=previous)
        assert "retired_reason" not in {
            c["name"] for c in inspect(db.engine).get_columns("service_package")}
        db.session.execute(text(
            "INSERT INTO service_package (code, name, duration_months, price_vnd, description,"
            " active, is_sample, sort_order) VALUES"
            " ('CN-48', 'Bốn năm', 48, 800000, '', :yes, :no, 9),"
            " ('CN-60-OFF', 'Năm năm', 60, 900000, '', :no, :no, 10)"),
            {"yes": True, "no": False})
        db.session.commit()
        try:
            upgrade(revision="0007_package_max_months")
            rows = dict(((code, (active, reason)) for code, active, reason in db.session.execute(
                text("SELECT code, active, retired_reason FROM service_package"))))
            assert rows["CN-48"] == (False, "over_max_certificate_months")
            assert rows["CN-60-OFF"] == (False, None)
            assert rows["SMARTCA-CN-36"] == (True, None)
            db.session.commit()
            downgrade(revision=previous)
            rows = dict(db.session.execute(text("SELECT code, active FROM service_package")).all())
            assert rows["CN-48"] and not rows["CN-60-OFF"]
            db.session.commit()
        finally:
            db.session.rollback()
            upgrade()
        assert "retired_reason" in {
            c["name"] for c in inspect(db.engine).get_columns("service_package")}


def test_migration_moves_the_last_prints_outcome_to_its_own_column(app):
    """0010: the print's outcome, kept in the kiosk's reported state before, moves to
    print_state (the report's own keys stay); the downgrade puts it back."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    previous = "0009_offices_kiosks_findings"
    old = {"camera": "allowed", "print": "error", "print_at": "2026-12-01T08:00:00"}

    def columns():
        return [sa.column("code", sa.String), sa.column("name", sa.String),
                sa.column("printer", sa.String), sa.column("active", sa.Boolean),
                sa.column("created_at", sa.DateTime), sa.column("device_state", sa.JSON)]

    with app.app_context():
        downgrade(revision=previous)
        kiosk = sa.table("kiosk", *columns())
        for code, state in (("quay-m1", old), ("quay-m2", None)):
            db.session.execute(kiosk.insert().values(
                code=code, name=code, printer="", active=True,
                created_at=datetime(2026, 1, 1), device_state=state))
        db.session.commit()
        try:
            upgrade(revision="0010_kiosk_print_state")
            kiosk = sa.table("kiosk", *columns(), sa.column("print_state", sa.JSON))
            rows = {code: (state, printed) for code, state, printed in db.session.execute(
                sa.select(kiosk.c.code, kiosk.c.device_state, kiosk.c.print_state)
                .where(kiosk.c.code.like("quay-m%")))}
            assert rows["quay-m1"] == ({"camera": "allowed"},
                                       {"print": "error", "print_at": "2026-12-01T08:00:00"})
            assert rows["quay-m2"] == (None, None)
            db.session.commit()
            downgrade(revision=previous)
            kiosk = sa.table("kiosk", *columns())
            assert db.session.execute(sa.select(kiosk.c.device_state)
                                      .where(kiosk.c.code == "quay-m1")).scalar() == old
            db.session.commit()
        finally:
            db.session.rollback()
            upgrade()
        assert "print_state" in {c["name"] for c in inspect(db.engine).get_columns("kiosk")}
