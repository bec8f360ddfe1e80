"""`flask --app kiosk kiosks add CODE --name … [--office CODE] | enroll-code CODE [--url BASE]`:
the first kiosk of a new installation, and scripts, without the console."""
from __future__ import annotations

import re

import click
from flask.cli import AppGroup

from kiosk.services import kiosk_devices, unit_of_work

kiosks_cli = AppGroup("kiosks", help="Counter kiosks: add one, make its one-time enrollment code.")
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


@kiosks_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The kiosk's name shown to the clerks.")
@click.option("--office", "office_code", default=None,
              help="The office's code (e.g. thanh-hoa); default: the first office.")
def add_command(code: str, name: str, office_code: str | None):
    """Add a kiosk (not yet enrolled: see enroll-code)."""
    code = code.lower()
    if not _CODE.match(code):
        raise click.ClickException("Mã quầy: chữ thường, số, gạch ngang (ví dụ quay-02).")
    office = (kiosk_devices.office_by_code(office_code) if office_code
              else kiosk_devices.first_office())
    if office is None:
        raise click.ClickException("Không có đơn vị này (flask --app kiosk init tạo đơn vị đầu).")
    try:
        kiosk_devices.add(code, name.strip()[:200] or code, office, actor="cli")
    except kiosk_devices.KioskError as err:
        unit_of_work.rollback()
        raise click.ClickException(str(err)) from None
    unit_of_work.commit()
    click.echo(f"Đã thêm quầy {code} ({office.name}).")


@kiosks_cli.command("enroll-code")
@click.argument("code")
@click.option("--url", "base_url", default="http://127.0.0.1:8000", show_default=True,
              help="The address the kiosk browser opens the server at.")
@click.option("--unless-enrolled", is_flag=True,
              help="Print nothing when a browser is enrolled already (scripts/run.sh).")
def enroll_code_command(code: str, base_url: str, unless_enrolled: bool):
    """Make a one-time enrollment code (15 minutes) and print it with its link."""
    kiosk = kiosk_devices.by_code(code.lower())
    if kiosk is None:
        raise click.ClickException(f"Không có quầy {code}.")
    if unless_enrolled and kiosk.device_token_digest is not None:
        click.echo(f"Quầy {kiosk.code} đã được ghép với một máy.")
        return
    try:
        one_time = kiosk_devices.new_enrollment_code(kiosk, actor="cli")
    except kiosk_devices.KioskError as err:
        unit_of_work.rollback()
        raise click.ClickException(str(err)) from None
    unit_of_work.commit()
    click.echo(f"Mã ghép máy cho {kiosk.code}: {one_time} (dùng một lần, trong 15 phút)")
    click.echo(f"Mở một lần trên máy kiosk: {base_url.rstrip('/')}/kiosk/enroll?code={one_time}")
