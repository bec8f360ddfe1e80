"""Decoding and checking uploaded images (camera frames, scans, signatures)."""
from __future__ import annotations

import base64
import binascii
import re

import cv2
import numpy as np

_DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|webp));base64,(.*)$", re.DOTALL)
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png", b"RIFF": "image/webp"}

MIN_SIDE = 240  # smaller than this cannot show a readable card or face


class ImageError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def sniff_mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC.items():
        if data.startswith(magic):
            if mime == "image/webp" and data[8:12] != b"WEBP":
                continue
            return mime
    return None


def bytes_from_data_url(value: str) -> bytes:
    match = _DATA_URL.match(value.strip())
    if not match:
        raise ImageError("Ảnh gửi lên không đúng định dạng. Vui lòng chụp lại.")
    try:
        return base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError("Ảnh gửi lên bị hỏng. Vui lòng chụp lại.") from exc


def decode_image(data: bytes, max_pixels: int, flags: int = cv2.IMREAD_COLOR) -> tuple[np.ndarray, str]:
    """Decode JPEG/PNG/WebP bytes fully (a truncated file fails here), within a pixel budget."""
    if not data:
        raise ImageError("Chưa có ảnh. Vui lòng chụp hoặc chọn ảnh.")
    mime = sniff_mime(data)
    if mime is None:
        raise ImageError("Tệp này không phải ảnh JPEG hoặc PNG. Vui lòng chọn ảnh khác.")
    width, height = _declared_size(data, mime)
    if width and height and width * height > max_pixels:
        raise ImageError("Ảnh quá lớn. Vui lòng chọn ảnh nhỏ hơn (tối đa 40 megapixel).")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise ImageError("Không đọc được ảnh (tệp bị hỏng hoặc không đầy đủ). Vui lòng chụp lại.")
    if mime == "image/jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        # libjpeg fills a truncated JPEG with grey and only warns: refuse it ourselves.
        raise ImageError("Ảnh bị thiếu dữ liệu (tải lên chưa hết). Vui lòng chụp lại.")
    if image.shape[0] * image.shape[1] > max_pixels:
        raise ImageError("Ảnh quá lớn. Vui lòng chọn ảnh nhỏ hơn (tối đa 40 megapixel).")
    if min(image.shape[:2]) < MIN_SIDE:
        raise ImageError("Ảnh quá nhỏ, không nhìn rõ. Vui lòng chụp lại gần hơn.")
    return image, mime


def _declared_size(data: bytes, mime: str) -> tuple[int, int]:
    """Read width/height from the header before decoding, so a decompression bomb is refused cheaply."""
    if mime == "image/png" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if mime == "image/jpeg":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height = int.from_bytes(data[i + 5 : i + 7], "big")
                width = int.from_bytes(data[i + 7 : i + 9], "big")
                return width, height
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return 0, 0


def signature_ink_ratio(png: bytes) -> float:
    """Share of the pad covered by strokes (non-transparent, or dark on an opaque pad)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError("Chữ ký gửi lên bị hỏng. Vui lòng ký lại.")
    if image.ndim == 3 and image.shape[2] == 4:
        ink = image[:, :, 3] > 32
    else:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        ink = gray < 128
    return float(np.count_nonzero(ink)) / ink.size


def check_signature(png: bytes, min_ink: float = 0.002) -> None:
    """A real signature covers some of the pad; a tap or an empty pad does not."""
    if sniff_mime(png) != "image/png":
        raise ImageError("Chữ ký gửi lên không đúng định dạng. Vui lòng ký lại.")
    if signature_ink_ratio(png) < min_ink:
        raise ImageError("Quý khách chưa ký, hoặc chữ ký quá ngắn. Vui lòng ký tên vào khung.")
