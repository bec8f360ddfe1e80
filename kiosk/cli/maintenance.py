"""`flask --app kiosk purge --older-than DAYS` and `flask --app kiosk rotate-key`."""
from __future__ import annotations

import base64
import os
import re
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("purge")
@with_appcontext
@click.option("--older-than", "days", type=click.IntRange(min=0), default=None,
              help="Days after the end of a registration (default: RETENTION_DAYS).")
def purge_command(days):
    """Delete card, face and signature images past retention (audit, hashes, decision stay)."""
    from kiosk.services import retention, unit_of_work

    days = current_app.config["RETENTION_DAYS"] if days is None else days
    report = retention.purge(days)
    unit_of_work.commit()
    retention.reclaim()  # only once committed: the deleted pages leave the log
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(report.kinds.items())) or "không có"
    click.echo(f"Đã xóa {report.images} ảnh của {report.registrations} hồ sơ quá {days} ngày "
               f"({kinds}); {report.sms} tin nhắn thử nghiệm; {report.unsigned_texts} tài liệu "
               "chưa ký của hồ sơ bỏ dở.")


def _write_key(instance: Path, new_key_b64: str) -> Path:
    """Write secrets.py.new (0600) holding the new DATA_KEY and the existing SECRET_KEY."""
    current = instance / "secrets.py"
    text = current.read_text() if current.exists() else ""
    line = f"DATA_KEY = {new_key_b64!r}"
    if re.search(r"^DATA_KEY\s*=.*$", text, flags=re.M):
        text = re.sub(r"^DATA_KEY\s*=.*$", line, text, flags=re.M)
    else:
        if "SECRET_KEY" not in text:
            text += f"SECRET_KEY = {current_app.config['SECRET_KEY']!r}\n"
        text += line + "\n"
    staged = instance / "secrets.py.new"
    if staged.exists():
        staged.unlink()
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return staged


@click.command("rotate-key")
@with_appcontext
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def rotate_key_command(yes):
    """Re-encrypt all personal data and images under a new data key (instance/secrets.py)."""
    from kiosk.core.crypto import DataCipher
    from kiosk.services import retention, unit_of_work

    if os.environ.get("KIOSK_DATA_KEY"):
        raise click.ClickException("DATA_KEY đang lấy từ biến môi trường KIOSK_DATA_KEY: "
                                   "hãy xoay khóa ở nơi cấp biến đó.")
    if not yes:
        click.confirm("Mã hóa lại toàn bộ dữ liệu bằng khóa mới? Hãy sao lưu trước.", abort=True)
    instance = Path(current_app.instance_path)
    old = current_app.extensions["kiosk_cipher"]
    new_key = base64.b64encode(secrets.token_bytes(32)).decode()
    new = DataCipher.from_b64(new_key)
    # Order: stage the key, re-encrypt in one transaction, then swap the file. A crash before
    # the commit leaves everything under the old key; after it, secrets.py.new holds the key.
    staged = _write_key(instance, new_key)
    counts = retention.rotate_key(old, new)
    unit_of_work.commit()
    staged.replace(instance / "secrets.py")
    current_app.extensions["kiosk_cipher"] = new
    current_app.config["DATA_KEY"] = new_key
    total = sum(counts.values())
    click.echo(f"Đã mã hóa lại {total} giá trị bằng khóa mới (instance/secrets.py). "
               "Khởi động lại ứng dụng và sao lưu tệp khóa mới.")
