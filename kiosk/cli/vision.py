"""`flask --app kiosk vision read-card IMAGE` and `vision verify CARD_IMAGE FACE_IMAGE`.

A stable contract used by tests and outside checks (DESIGN.md): one JSON object on stdout.
Bad input gives {"error": code, "message": Vietnamese text} and exit status 2, never a traceback.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

MAX_FILE_BYTES = 50 * 1024 * 1024

vision_cli = AppGroup("vision", help="Computer-vision checks (JSON on stdout).")


class InputError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _emit(payload: dict, status: int = 0) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False))
    sys.exit(status)


def _load(path: str) -> bytes:
    """The file's bytes, once the engine has checked that they are a usable image."""
    from kiosk.services import ekyc
    from kiosk.vision.images import ImageError

    file = Path(path)
    if not file.is_file():
        raise InputError("not_found", f"Không tìm thấy tệp {path}.")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise InputError("too_large", "Tệp quá lớn (tối đa 50 MB).")
    data = file.read_bytes()
    try:
        ekyc.engine().check_image(data)
    except ImageError as err:
        raise InputError("bad_image", f"{file.name}: {err.message}") from None
    return data


def _run(work) -> None:
    started = time.perf_counter()
    try:
        result = work()
    except InputError as err:
        _emit({"error": err.code, "message": err.message}, 2)
    except Exception as exc:  # the contract promises JSON, even for a bug or a missing model
        current_app.logger.exception("vision command failed")
        _emit({"error": "internal", "message": f"Lỗi xử lý ảnh: {type(exc).__name__}"}, 3)
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    _emit(result)


@vision_cli.command("read-card")
@click.argument("images", nargs=-1, required=True, metavar="IMAGE [IMAGE]")
def read_card_command(images):
    """Read an ID card (or passport data page) from one or two photos: either side, any order."""
    from kiosk.services import ekyc

    def work():
        if len(images) > 2:
            raise InputError("too_many_images",
                             "Chỉ nhận tối đa 2 ảnh: mặt trước và mặt sau của giấy tờ.")
        return ekyc.engine().read_card([_load(image) for image in images])

    _run(work)


@vision_cli.command("verify")
@click.argument("card_image")
@click.argument("face_image")
def verify_command(card_image, face_image):
    """Match the face in FACE_IMAGE against the card portrait (or portrait photo) in CARD_IMAGE."""
    from kiosk.services import ekyc

    def work():
        result = ekyc.engine().compare(_load(card_image), _load(face_image))
        return {"decision": result["decision"], "distance": result["distance"]}

    _run(work)
