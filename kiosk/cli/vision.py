"""`flask --app kiosk vision read-card IMAGE` and `vision verify CARD_IMAGE FACE_IMAGE`.

A stable contract used by tests and outside checks (docs/cli.md): one JSON object on stdout.
Bad input gives {"error": code, "message": Vietnamese text} and exit status 2, never a traceback;
face models that are not installed give {"error": "models_unavailable", …} and exit status 3.

``--jsonl`` (batch mode): one JSON request per line on stdin — ``{"card": PATH, "face": PATH}``
for verify, ``{"images": [PATH, …]}`` for read-card — and one result (or error) object per line
on stdout, in order; the models are loaded once, before the first line, and each result's
``elapsed_ms`` is that item's own work, model loading excluded. Exit status 0 when every line
succeeded, else that of the last failing line.
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


def _attempt(work) -> tuple[dict, int]:
    """(result with elapsed_ms, 0) or (JSON error, exit status) for one item of work."""
    from kiosk.vision.sface import ModelsMissing

    started = time.perf_counter()
    try:
        result = work()
    except InputError as err:
        return {"error": err.code, "message": err.message}, 2
    except ModelsMissing as exc:  # the message names the fix (scripts/setup.sh)
        return {"error": "models_unavailable", "message": f"Thiếu mô hình khuôn mặt: {exc}"}, 3
    except Exception as exc:  # the contract promises JSON, even for a bug
        current_app.logger.exception("vision command failed")
        return {"error": "internal", "message": f"Lỗi xử lý ảnh: {type(exc).__name__}"}, 3
    result["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result, 0


def _run(work) -> None:
    _emit(*_attempt(work))


# ------------------------------------------------------------------------------ --jsonl


def _request_paths(request, keys: dict[str, bool], number: int) -> dict:
    """The request's path fields: ``keys`` maps each field to whether it is a list of paths."""
    if not isinstance(request, dict):
        raise InputError("bad_request", f"Dòng {number}: cần một đối tượng JSON.")
    out = {}
    for key, is_list in keys.items():
        value = request.get(key)
        values = value if is_list else [value]
        if (not isinstance(values, list) or not values
                or not all(isinstance(v, str) and v for v in values)):
            kind = "danh sách đường dẫn tệp" if is_list else "đường dẫn tệp"
            raise InputError("bad_request", f"Dòng {number}: thiếu \"{key}\" ({kind}).")
        out[key] = values if is_list else values[0]
    return out


def _run_jsonl(handle, keys: dict[str, bool], warm_up=None) -> None:
    """Batch mode: ``handle(fields) -> result`` for each stdin line (module docstring)."""
    if warm_up is not None:
        try:
            warm_up()  # models load once, here, outside every item's elapsed_ms
        except Exception:  # each line then reports the error itself
            current_app.logger.warning("vision models could not be preloaded", exc_info=True)
    status = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue

        def work(line=line, number=number):
            try:
                request = json.loads(line)
            except ValueError:
                raise InputError("bad_request",
                                 f"Dòng {number}: không phải JSON hợp lệ.") from None
            return handle(_request_paths(request, keys, number))

        result, code = _attempt(work)
        status = code or status
        click.echo(json.dumps(result, ensure_ascii=False))
    sys.exit(status)


def _preload_faces() -> None:
    from kiosk.services import ekyc

    ekyc.engine().preload()


def _usage(needed: str) -> None:
    _emit({"error": "usage", "message": f"Cần {needed}, hoặc --jsonl với yêu cầu trên stdin."}, 2)


@vision_cli.command("read-card")
@click.argument("images", nargs=-1, metavar="IMAGE [IMAGE]")
@click.option("--jsonl", is_flag=True, help='Batch: {"images": [PATH, …]} per stdin line.')
def read_card_command(images, jsonl):
    """Read an ID card (or passport data page) from one or two photos: either side, any order."""
    from kiosk.services import ekyc

    def read(paths) -> dict:
        if len(paths) > 2:
            raise InputError("too_many_images",
                             "Chỉ nhận tối đa 2 ảnh: mặt trước và mặt sau của giấy tờ.")
        return ekyc.engine().read_card([_load(path) for path in paths])

    if jsonl:
        _run_jsonl(lambda fields: read(fields["images"]), {"images": True})
    if not images:
        _usage("IMAGE [IMAGE]")
    _run(lambda: read(images))


def _verify(card_path: str, face_path: str) -> dict:
    from kiosk.services import ekyc

    # the contract reports only the decision and the distance: no zone OCR needed for them
    result = ekyc.engine().compare(_load(card_path), _load(face_path), with_mrz=False)
    return {"decision": result["decision"], "distance": result["distance"]}


@vision_cli.command("verify")
@click.argument("card_image", required=False)
@click.argument("face_image", required=False)
@click.option("--jsonl", is_flag=True, help='Batch: {"card": PATH, "face": PATH} per stdin line.')
def verify_command(card_image, face_image, jsonl):
    """Match the face in FACE_IMAGE against the card portrait (or portrait photo) in CARD_IMAGE."""
    if jsonl:
        _run_jsonl(lambda fields: _verify(fields["card"], fields["face"]),
                   {"card": False, "face": False}, warm_up=_preload_faces)
    if card_image is None or face_image is None:
        _usage("CARD_IMAGE FACE_IMAGE")
    _run(lambda: _verify(card_image, face_image))


@vision_cli.command("guidance")
@click.argument("image")
def guidance_command(image):
    """Advice on one preview frame of a card held to the camera: ok, issue codes, messages."""
    from kiosk.services import ekyc

    _run(lambda: ekyc.engine().guidance(_load(image)))
