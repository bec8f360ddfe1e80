"""`flask --app kiosk purge --older-than DAYS` and `flask --app kiosk rotate-key`."""
from __future__ import annotations

import base64
import os
import re
import secrets
import time
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


# A row written under the old key by a request that had started before the new secrets file
# appeared can only come from a request still running: gunicorn kills a worker at 120 s, so ten
# minutes after the rotation no such request is left, and `--retire` may drop the old key once a
# pass finds no row under it.
RETIRE_AFTER_SECONDS = 600


def _write_secrets(instance: Path, values: dict) -> None:
    """Replace instance/secrets.py atomically (0600): its other lines as they were, the key
    names from ``values`` (None removes one). Running servers see the new file at their next
    write (a new inode) and load it."""
    from kiosk.core.config import KEY_NAMES

    current = instance / "secrets.py"
    lines = current.read_text().splitlines() if current.exists() else []
    kept = [line for line in lines
            if not re.match(r"^({})\s*=".format("|".join(KEY_NAMES)), line)]
    if not any(re.match(r"^SECRET_KEY\s*=", line) for line in kept):
        kept.append(f"SECRET_KEY = {current_app.config['SECRET_KEY']!r}")
    for name in KEY_NAMES:
        if values.get(name):
            kept.append(f"{name} = {values[name]!r}")
    staged = instance / "secrets.py.new"
    if staged.exists():
        staged.unlink()
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(kept) + "\n")
    staged.replace(current)


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _reencrypt_all(ring) -> tuple[dict[str, int], int]:
    """One pass: every value not under the primary key, batch by batch, each batch committed
    (SQLite's write lock is held for one batch, not the whole database's worth)."""
    from kiosk.services import key_rotation, unit_of_work

    counts: dict[str, int] = {}
    for table, column in key_rotation.ENCRYPTED_COLUMNS:
        ids = key_rotation.stale_ids(ring, table, column)
        done = 0
        for start in range(0, len(ids), key_rotation.BATCH):
            done += key_rotation.reencrypt(ring, table, column,
                                           ids[start:start + key_rotation.BATCH])
            unit_of_work.commit()
        counts[f"{table}.{column}"] = done
    digests = 0
    ids = key_rotation.registration_ids()
    for start in range(0, len(ids), key_rotation.BATCH):
        digests += key_rotation.refresh_digests(ring, ids[start:start + key_rotation.BATCH])
        unit_of_work.commit()
    return counts, digests


@click.command("rotate-key")
@with_appcontext
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--prepare", is_flag=True,
              help="Only add the next key (read, not yet written): copy secrets.py to every "
                   "app server, then run rotate-key.")
@click.option("--retire", is_flag=True,
              help="Drop the old keys once no value is left under them.")
def rotate_key_command(yes, prepare, retire):
    """Re-encrypt all personal data and images under a new data key, while the app runs."""
    from kiosk.core.config import read_secrets
    from kiosk.services import key_rotation, unit_of_work

    if os.environ.get("KIOSK_DATA_KEY"):
        raise click.ClickException("DATA_KEY đang lấy từ biến môi trường KIOSK_DATA_KEY: "
                                   "hãy xoay khóa ở nơi cấp biến đó.")
    instance = Path(current_app.instance_path)
    ring = current_app.extensions["kiosk_cipher"]
    ring.reload()
    values = read_secrets(instance / "secrets.py") if (instance / "secrets.py").exists() else {}
    values.setdefault("DATA_KEY", ring.primary_b64)
    retiring = [k for k in values.get("DATA_KEYS_RETIRING") or () if isinstance(k, str)]

    if prepare:
        if not values.get("DATA_KEY_NEXT"):
            values["DATA_KEY_NEXT"] = _new_key()
            _write_secrets(instance, values)
            ring.reload()
        click.echo("Đã thêm khóa kế tiếp vào instance/secrets.py. Chép tệp này sang mọi máy chủ "
                   "ứng dụng, rồi chạy: flask --app kiosk rotate-key")
        return

    if retire:
        if not retiring:
            click.echo("Không có khóa cũ nào cần bỏ.")
            return
        rotated_at = values.get("DATA_KEY_ROTATED_AT")
        waited = (time.time() - float(rotated_at)) if isinstance(rotated_at, (int, float)) else None
        if waited is not None and waited < RETIRE_AFTER_SECONDS:
            raise click.ClickException(
                f"Khóa vừa được xoay {int(waited)} giây trước. Chờ ít nhất "
                f"{RETIRE_AFTER_SECONDS // 60} phút (các yêu cầu đang chạy có thể vẫn ghi bằng "
                "khóa cũ) rồi chạy lại.")
        counts, _ = _reencrypt_all(ring)
        left = {k: v for k, v in key_rotation.stale_count(ring).items() if v}
        if left:
            raise click.ClickException(
                "Vẫn còn dữ liệu mã hóa bằng khóa cũ (" + ", ".join(f"{k}: {v}" for k, v in left.items())
                + "): có máy chủ ứng dụng chưa dùng tệp khóa mới. Chép instance/secrets.py sang "
                "mọi máy chủ rồi chạy lại.")
        values["DATA_KEYS_RETIRING"] = None
        _write_secrets(instance, values)
        key_rotation.record("data_key_retired", keys=len(retiring), columns=counts)
        unit_of_work.commit()
        click.echo(f"Đã bỏ {len(retiring)} khóa cũ; mọi dữ liệu dùng khóa hiện tại.")
        return

    if not yes:
        click.confirm("Mã hóa lại toàn bộ dữ liệu bằng khóa mới? Hãy sao lưu trước.", abort=True)
    old = values["DATA_KEY"]
    new_key = values.get("DATA_KEY_NEXT") or _new_key()
    # Order: the new file first (the old key stays readable as "retiring"), then the passes.
    # A crash anywhere leaves every value readable: under the old key or the new one, both in
    # the ring; running rotate-key again (or --retire) finishes the job.
    values.update(DATA_KEY=new_key, DATA_KEY_NEXT=None, DATA_KEY_ROTATED_AT=time.time(),
                  DATA_KEYS_RETIRING=[old, *(k for k in retiring if k != old)])
    _write_secrets(instance, values)
    ring.reload()
    current_app.config["DATA_KEY"] = new_key
    counts, digests = _reencrypt_all(ring)
    key_rotation.record("data_key_rotated", columns=counts, digests=digests)
    unit_of_work.commit()
    total = sum(counts.values())
    click.echo(f"Đã mã hóa lại {total} giá trị bằng khóa mới (instance/secrets.py). Các máy chủ "
               "đang chạy tự đọc khóa mới; khóa cũ vẫn được giữ để đọc. Sau ít nhất "
               f"{RETIRE_AFTER_SECONDS // 60} phút, chạy: flask --app kiosk rotate-key --retire")
