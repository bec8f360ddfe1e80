"""Read the QR code of the chip CCCD front from a camera frame.

Strategy (``decode_card_qr``): when the card outline is known, cut the top-right region of the
straightened card out of the frame, upsampled 2–3× and sharpened (:data:`REGION_VARIANTS`: a
perspective-corrected small image with the webcam's blur partly undone — fast and easy for a
decoder), also for the card turned upside down (held the wrong way round); then the whole
frame, as is and sharpened (:data:`FRAME_VARIANTS`), for when the card outline was not found.
Decoders are tried in :data:`DECODER_ORDER`.

Two decoders are wrapped: zxing-cpp (``zxingcpp.read_barcodes``) and OpenCV's
``cv2.QRCodeDetector``. ``bench/bench_qr.py`` measures both and combinations on generated
scenes; :data:`DECODER_ORDER` is the result (docs/vision-card.md has the figures).

Payloads are decoded from the raw bytes as UTF-8 (the CCCD QR carries UTF-8 without an ECI
marker); text that is not valid UTF-8 is returned as the decoder's own transcoding, and
``identity.qr_payload.parse_cccd_qr`` undoes the usual mojibake.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.vision import card_outline

# zxing-cpp alone: on bench/bench_qr.py's scenes it decodes everything OpenCV decodes and
# more, 2–15× faster; OpenCV as a fallback rescued no scene and costs ~150 ms on every frame
# that has no readable QR code (docs/vision-card.md). OpenCV stays available by name.
# WeChat's reader (a CNN detector and a super-resolution network) comes second: on real
# photographs it reads codes that zxing-cpp misses (a card small in a big photo, a code in a
# plastic sleeve, soft crops), and it is tried only where zxing-cpp found nothing.
DECODER_ORDER: tuple[str, ...] = ("zxing", "wechat")


@dataclass(frozen=True)
class QrResult:
    text: str
    decoder: str  # "zxing" | "opencv"
    where: str  # "card" (top right of the card as found), "card_rotated" (upside down), "frame"
    points: np.ndarray | None  # symbol corners in frame pixels, TL, TR, BR, BL as it reads


def _bytes_to_text(raw: bytes | None, fallback: str | None) -> str | None:
    if raw:
        try:
            return raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    return fallback or None


def _zxing(gray: np.ndarray) -> tuple[str, np.ndarray] | None:
    import zxingcpp

    results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    for res in results:
        text = _bytes_to_text(bytes(res.bytes) if res.bytes is not None else None, res.text)
        if not text:
            continue
        pos = res.position
        points = np.array([[p.x, p.y] for p in (pos.top_left, pos.top_right, pos.bottom_right,
                                                 pos.bottom_left)], np.float32)
        return text, points
    return None


_opencv_detector: cv2.QRCodeDetector | None = None

# OpenCV's WeChat QR reader (opencv-contrib): a CNN finds QR symbols at any angle and scale and
# a super-resolution network enlarges small ones before its own ZXing port decodes them. Its
# four Caffe files (Apache-2.0, LICENSE beside them) are vendored and checked against these
# hashes before OpenCV reads them; a file that does not match disables the reader (it never
# silently loads something else).
WECHAT_DIR = Path(__file__).with_name("wechat_qrcode")
WECHAT_MODELS: dict[str, str] = {
    "detect.prototxt": "e8acfc395caf443a47f15686a9b9207b36cb8f7e6ceb8fbaf6466665e68a9466",
    "detect.caffemodel": "cc49b8c9babaf45f3037610fe499df38c8819ebda29e90ca9f2e33270f6ef809",
    "sr.prototxt": "8ae41acba97e8b4a8e741ee350481e49b8e01d787193f470a4c95ee1c02d5b61",
    "sr.caffemodel": "e5d36889d8e6ef2f1c1f515f807cec03979320ac81792cd8fb927c31fd658ae3",
}
_wechat_reader = None
_wechat_lock = threading.Lock()


class WeChatUnavailable(RuntimeError):
    """The WeChat reader cannot be built (no contrib module, or a model file altered)."""


def wechat_reader():
    """The process's WeChat QR reader, built once (thread-safe: OpenCV's dnn nets are not,
    so callers hold :data:`_wechat_lock` while decoding)."""
    global _wechat_reader
    if _wechat_reader is None:
        if not hasattr(cv2, "wechat_qrcode_WeChatQRCode"):
            raise WeChatUnavailable("opencv-contrib-python-headless is not installed")
        paths = {}
        for name, digest in WECHAT_MODELS.items():
            path = WECHAT_DIR / name
            try:
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as err:
                raise WeChatUnavailable(f"{path}: {err}") from err
            if actual != digest:
                raise WeChatUnavailable(f"{path}: sha256 {actual} is not the pinned {digest}")
            paths[name] = str(path)
        _wechat_reader = cv2.wechat_qrcode_WeChatQRCode(
            paths["detect.prototxt"], paths["detect.caffemodel"],
            paths["sr.prototxt"], paths["sr.caffemodel"])
    return _wechat_reader


def _wechat(gray: np.ndarray) -> tuple[str, np.ndarray] | None:
    try:
        reader = wechat_reader()
    except WeChatUnavailable:
        return None
    with _wechat_lock:
        try:
            texts, points = reader.detectAndDecode(gray)
        except cv2.error:
            return None
    for text, pts in zip(texts, points, strict=False):
        if text:
            # points: the symbol's TL, TR, BR, BL as it reads, like zxing-cpp's
            return text.removeprefix("\ufeff"), np.asarray(pts, np.float32).reshape(4, 2)
    return None


def _opencv(gray: np.ndarray) -> tuple[str, np.ndarray] | None:
    global _opencv_detector
    if _opencv_detector is None:
        _opencv_detector = cv2.QRCodeDetector()
    try:
        raw, points, _ = _opencv_detector.detectAndDecodeBytes(gray)
    except cv2.error:
        return None
    text = _bytes_to_text(bytes(raw) if raw is not None else None, None)
    if not text or points is None:
        return None
    return text, np.asarray(points, np.float32).reshape(4, 2)


DECODERS: dict[str, Callable[[np.ndarray], tuple[str, np.ndarray] | None]] = {
    "zxing": _zxing,
    "opencv": _opencv,
    "wechat": _wechat,
}


def decode_image(gray: np.ndarray, decoders: Sequence[str] = DECODER_ORDER
                 ) -> tuple[str, np.ndarray, str] | None:
    """(text, points in ``gray`` pixels, decoder) from the first decoder that reads a QR."""
    for name in decoders:
        found = DECODERS[name](gray)
        if found:
            return found[0], found[1], name
    return None


# (upsampling factor over the card's resolution in the frame, unsharp-mask sigma in frame px):
# the first is the best single variant on blurred webcam frames (bench/bench_qr.py).
REGION_VARIANTS: tuple[tuple[float, float], ...] = ((2.0, 1.5), (3.0, 1.5), (2.0, 0.0))
# whole-frame fallback (card outline not found): (upsampling, unsharp sigma in frame px)
FRAME_VARIANTS: tuple[tuple[float, float], ...] = ((1.0, 0.0), (1.0, 1.5), (2.0, 1.5))
_MAX_REGION_SIDE = 1000
_MAX_FRAME_SIDE = 2600  # upsampled whole frames stay below this


def _unsharp(image: np.ndarray, sigma: float) -> np.ndarray:
    soft = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.addWeighted(image, 2.0, soft, -1.0, 0)


def _region_scale(corners: np.ndarray, factor: float) -> float:
    """Output pixels per canonical pixel: ``factor`` × the card's own resolution in the frame."""
    top = float(np.linalg.norm(corners[1] - corners[0]))
    bottom = float(np.linalg.norm(corners[2] - corners[3]))
    scale = factor * max(top, bottom) / card_outline.CARD_SIZE[0]
    x0, y0, x1, y1 = card_outline.QR_SEARCH_BOX
    return min(scale, _MAX_REGION_SIDE / max(x1 - x0, y1 - y0))


def _region_to_frame(corners: np.ndarray, scale: float) -> np.ndarray:
    """3×3 matrix from QR-region pixels back to frame pixels."""
    x0, y0 = card_outline.QR_SEARCH_BOX[:2]
    to_card = card_outline.card_homography(corners)
    to_region = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale], [0, 0, 1]])
    return np.linalg.inv(to_region @ to_card)


def qr_region(gray: np.ndarray, corners: np.ndarray, factor: float = 2.0,
              sharpen: float = 0.0) -> tuple[np.ndarray, float]:
    """(straightened, upsampled top-right region of the card, its scale per canonical px).

    ``sharpen`` > 0 applies an unsharp mask of that sigma (in frame pixels), which undoes
    much of a webcam's blur before the decoder binarises the image.
    """
    scale = _region_scale(corners, factor)
    x0, y0, x1, y1 = card_outline.QR_SEARCH_BOX
    matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale], [0, 0, 1]]) \
        @ card_outline.card_homography(corners)
    region = cv2.warpPerspective(gray, matrix, (round((x1 - x0) * scale), round((y1 - y0) * scale)),
                                 flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    if sharpen > 0:
        per_frame_px = scale * card_outline.CARD_SIZE[0] / max(
            float(np.linalg.norm(corners[1] - corners[0])), 1.0)
        region = _unsharp(region, sharpen * per_frame_px)
    return region, scale


# The WeChat reader finds the code itself (any angle, any place) and enlarges small codes with
# its own network: the straightened region once, then the frame as it is.
WECHAT_REGION_VARIANTS: tuple[tuple[float, float], ...] = ((2.0, 0.0),)
WECHAT_FRAME_VARIANTS: tuple[tuple[float, float], ...] = ((1.0, 0.0),)


def _decode_card_with(gray: np.ndarray, corners: np.ndarray | None, name: str,
                      search_frame: bool, region_variants=None,
                      frame_variants=None) -> QrResult | None:
    wechat = name == "wechat"
    if corners is not None:
        for factor, sharpen in WECHAT_REGION_VARIANTS if wechat \
                else region_variants or REGION_VARIANTS:
            for turns, where in ((0, "card"), (2, "card_rotated")):
                oriented = card_outline.rotate_corners(corners, turns)
                region, scale = qr_region(gray, oriented, factor, sharpen)
                found = DECODERS[name](region)
                if found:
                    back = _region_to_frame(oriented, scale)
                    pts = cv2.perspectiveTransform(found[1][None].astype(np.float32), back)[0]
                    return QrResult(found[0], name, where, pts.astype(np.float32))
    if search_frame:
        variants = WECHAT_FRAME_VARIANTS if wechat else frame_variants or FRAME_VARIANTS
        for factor, sharpen in variants:
            if factor * max(gray.shape[:2]) > _MAX_FRAME_SIDE:
                continue
            image = gray if factor == 1.0 else cv2.resize(
                gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            if sharpen > 0:
                image = _unsharp(image, sharpen * factor)
            found = DECODERS[name](image)
            if found:
                return QrResult(found[0], name, "frame", (found[1] / factor).astype(np.float32))
    return None


def decode_card_qr(image: np.ndarray, corners: np.ndarray | None = None,
                   decoders: Sequence[str] = DECODER_ORDER, *,
                   search_frame: bool = True,
                   region_variants: Sequence[tuple[float, float]] | None = None,
                   frame_variants: Sequence[tuple[float, float]] | None = None
                   ) -> QrResult | None:
    """Decode the card's QR code with each decoder in turn: the card's top-right region
    (sharpened and upsampled variants, card either way up), then the whole frame
    (``region_variants``, ``frame_variants``: zxing-cpp's (upsampling, sharpening) tries on
    each; default :data:`REGION_VARIANTS`, :data:`FRAME_VARIANTS`)."""
    gray = card_outline.to_gray(image)
    for name in decoders:
        result = _decode_card_with(gray, corners, name, search_frame, region_variants,
                                   frame_variants)
        if result:
            return result
    return None



def decode_preview_qr(image: np.ndarray, corners: np.ndarray | None,
                      decoders: Sequence[str] = DECODER_ORDER, *,
                      region_variants: Sequence[tuple[float, float]] | None = None,
                      frame_variants: Sequence[tuple[float, float]] | None = None
                      ) -> QrResult | None:
    """A camera preview frame's QR code, cheapest try first: zxing-cpp on the frame as it is
    (~1.5 ms on 1280×720, and it reads most codes a preview shows), then on the card's
    straightened corner (~8 ms: a card far away), then WeChat's reader on the frame only — on
    the drawn evaluation frames (bench/bench_preview_ab.py) its try on the card's corner
    (~23 ms) read nothing its try on the frame (~13 ms) did not."""
    gray = card_outline.to_gray(image)
    tries = []
    for name in decoders:
        if name == "wechat":
            tries.append((name, None, True))
        else:
            tries.append((name, None, True))
            if corners is not None:
                tries.append((name, corners, False))
    for name, where, search_frame in tries:
        result = _decode_card_with(gray, where, name, search_frame, region_variants,
                                   frame_variants)
        if result:
            return result
    return None
