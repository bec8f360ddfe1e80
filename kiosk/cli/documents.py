"""`flask --app kiosk documents make-sandbox-cert | verify FILE`: the office's seal (docs/signing.md)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from kiosk.services import document_seal

documents_cli = AppGroup("documents", help="The office's seal on signed documents.")


@documents_cli.command("make-sandbox-cert")
@click.option("--force", is_flag=True, help="Replace an existing sandbox certificate.")
def make_sandbox_cert_command(force: bool):
    """Make the throw-away sandbox CA and office certificate in instance/signing/."""
    made = document_seal.make_sandbox_cert(current_app.instance_path, force=force)
    files = document_seal.sandbox_files(current_app.instance_path)
    if made is None:
        click.echo(f"Chứng thư số thử nghiệm đã có sẵn: {files.p12} (dùng --force để tạo lại).")
    else:
        click.echo(f"Đã tạo chứng thư số thử nghiệm: {files.p12}, chứng thư gốc {files.ca}.")
    if current_app.config.get("OFFICE_SIGNING_P12") or current_app.config.get(
            "OFFICE_SIGNING_PKCS11_LIB"):
        click.echo("Lưu ý: đơn vị đã cấu hình chứng thư số thật; bản thử nghiệm không được dùng.")


@documents_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(file: Path):
    """Check the office's seal on a PDF; exit 0 when valid, 1 when not."""
    result = document_seal.documents_verify(file.read_bytes())
    click.echo(result.text())
    raise SystemExit(0 if result.valid else 1)
