"""`flask --app kiosk offices list | add CODE --name ...`: the province's offices from the
server's terminal (the console's Settings page does the same, with the contact fields)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from kiosk.core.seed import OFFICE

offices_cli = AppGroup("offices", help="Các đơn vị (văn phòng) dùng chung máy chủ này.")


@offices_cli.command("list")
def list_command():
    """List the offices: code, active, name."""
    from kiosk.services import offices

    for office in offices.all_offices():
        state = "đang hoạt động" if office.active else "ngừng hoạt động"
        click.echo(f"{office.code}\t{state}\t{office.name}")


@offices_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Tên đơn vị, in trên phiếu.")
@click.option("--address", default=OFFICE["address"], show_default=True)
@click.option("--phone", default=OFFICE["phone"], show_default=True)
@click.option("--hotline", default=OFFICE["hotline"], show_default=True)
@click.option("--email", default=OFFICE["email"], show_default=True)
@click.option("--website", default=OFFICE["website"], show_default=True)
def add_command(code, **fields):
    """Add an office (contact fields default to the provincial office's; edit them in the
    console's Settings)."""
    from kiosk.services import offices, unit_of_work

    try:
        office = offices.create("system", {"code": code, **fields})
    except offices.OfficeError as err:
        unit_of_work.rollback()
        raise click.ClickException(str(err)) from None
    unit_of_work.commit()
    click.echo(f"Đã thêm đơn vị {office.code} ({office.name}).")
