"""Command-line tools: `flask --app kiosk init | create-staff | ...`."""
from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_migrate import upgrade


@click.command("init")
@with_appcontext
def init_command():
    """Create or upgrade the database to the latest migration and seed missing data."""
    from kiosk.core.seed import seed

    upgrade()
    added = seed()
    click.echo(
        f"Cơ sở dữ liệu đã sẵn sàng. Đã thêm: {added['office']} đơn vị, {added['kiosks']} quầy, "
        f"{added['packages']} gói mẫu."
    )


@click.command("create-staff")
@with_appcontext
@click.argument("username")
@click.option("--full-name", prompt="Họ và tên nhân viên")
@click.option("--role", type=click.Choice(["clerk", "admin"]), default="clerk", show_default=True)
@click.option("--office", "office_code", default=None,
              help="Mã đơn vị của nhân viên (bắt buộc khi có nhiều đơn vị).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_staff_command(username, full_name, role, office_code, password_stdin):
    """Create a staff account (or reset its password if it exists)."""
    from kiosk.services import staff_accounts, unit_of_work

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt="Nhập lại mật khẩu")
    try:
        user, created = staff_accounts.set_up_from_the_command_line(username, full_name, role,
                                                                    password, office_code)
    except staff_accounts.AccountError as err:
        unit_of_work.rollback()
        raise click.ClickException(str(err)) from None
    unit_of_work.commit()
    done = "Đã tạo" if created else "Đã cập nhật"
    click.echo(f"{done} tài khoản nhân viên {user.username} ({user.role}).")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(create_staff_command)

    from kiosk.cli.maintenance import purge_command, rotate_key_command
    from kiosk.cli.vision import vision_cli

    app.cli.add_command(purge_command)
    from kiosk.cli.kiosks import kiosks_cli

    app.cli.add_command(kiosks_cli)
    app.cli.add_command(rotate_key_command)

    app.cli.add_command(vision_cli)

    from kiosk.cli.chip import chip_cli

    app.cli.add_command(chip_cli)

    from kiosk.cli.documents import documents_cli

    app.cli.add_command(documents_cli)

    from kiosk.cli.offices import offices_cli

    app.cli.add_command(offices_cli)
