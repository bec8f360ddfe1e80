"""Image intake: every uploaded or camera image is checked here BEFORE anything decodes it.

Order of the checks (docs/security.md, "Image bombs"):

1. **Allow-list by content**, not by name or data-URL label: JPEG and PNG only. The webcam
   (camera.js, liveness.js, guidance.js) sends JPEG, the signature pad PNG; a WebP upload is
   refused rather than handing one more decoder to strangers (a 38-byte WebP can declare
   16383×16383).
2. **Dimensions from Pillow's header parser** (``Image.open`` is lazy: it reads the header and
   decodes no pixel). It handles what a hand-written scan got wrong (fill bytes ``FF FF FF``
   before a SOF marker, so a 1.6 kB file declaring 30000×30000 got through to OpenCV).
   Above the pixel limit the image is refused before any pixel is decoded.
   A progressive, arithmetic-coded or multi-scan JPEG is also costed by its **coefficient
   buffer** (:func:`jpeg_coefficient_bytes`): libjpeg keeps every DCT coefficient of such a
   file in memory whatever the output scale (a 469 kB progressive 6320×6320 JPEG cost 240 MB
   even at 1/8 scale), and above :data:`COEFFICIENT_MAX_BYTES` the file is refused. At most
   :data:`BUFFERED_DECODES_AT_ONCE` such files are decoded at once per process (the others
   wait their turn), so their buffers together stay under 256 MB.
3. **Decoder memory cap**: the decoded array may take at most :data:`DECODED_MAX_BYTES`.
   A JPEG bigger than that is decoded at 1/2, 1/4 or 1/8 scale by libjpeg's DCT scaling (the
   full-size pixels never exist in memory); a PNG that big is refused. OpenCV's own ceiling
   (``OPENCV_IO_MAX_IMAGE_PIXELS``) is lowered as a second fence for any OpenCV decode that
   forgets us (the one-pass decode of a camera JPEG is sized from the checked header, and its
   result must have that size).
4. **Integrity**: a JPEG must decode without a libjpeg warning (libjpeg-turbo through
   ``simplejpeg`` in strict mode): a truncated upload padded with ``FF D9`` decodes "fine" in
   OpenCV and Pillow, with a grey lower half. Where the pixels are wanted, a camera JPEG is
   checked by the strict decode that gives them (:func:`_checked_jpeg_decode`); otherwise the
   check decodes at 1/8 scale, which costs little. A PNG must pass Pillow's chunk CRC check.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import io
import os
import re
import struct
import threading
import warnings
from dataclasses import dataclass

# Read by OpenCV at its first decode: a hard ceiling (pixels) for any decode anywhere in the
# process, well above MAX_IMAGE_PIXELS so that our own, clearer refusal comes first.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(64_000_000))

import cv2
import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

_DATA_URL = re.compile(r"^data:(image/(?:jpeg|png|webp));base64,(.*)$", re.DOTALL)
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
_PIL_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
# Phone cameras write a JPEG with extra pictures in an APP2 segment (CIPA MPO): Pillow calls it
# "MPO"; the first picture is an ordinary JPEG and is what every decoder reads.
_PIL_ALIASES = {"MPO": "image/jpeg"}
_BENIGN_JPEG_WARNING = re.compile(r"^Corrupt JPEG data: \d+ extraneous bytes before marker 0x[0-9a-f]{2}$")

# Smaller than this cannot show a readable card or face. A tight crop of a card 336 px wide is
# 212 px high, and its QR code (~75 px) can still be read by a decoder that enlarges it (the
# WeChat reader's super-resolution) and its portrait's face is ~50 px: such a crop is tried.
MIN_SIDE = 160
# The biggest decoded array one image may become: 64 MB is a 21 MP colour picture. A bigger
# JPEG is decoded at a reduced scale; a bigger PNG is refused (PNG cannot be decoded reduced).
DECODED_MAX_BYTES = 64 * 1024 * 1024
# The DCT coefficients libjpeg holds for a whole progressive / multi-scan JPEG (2 bytes × 64 per
# 8×8 block, every component). 40 MB takes the commonest phone photo, 12 MP 4:2:0 (4032×3024:
# 36.6 MB; 32 MB refused three real photographs of 2024 cards saved progressive) and a
# scanner's A4 page at 300 dpi (8.7 MP). The kiosk's webcam and most cameras write baseline
# JPEGs, decoded a row of blocks at a time.
COEFFICIENT_MAX_BYTES = 40 * 1024 * 1024
# ...and at most this many such files are decoded at once in one process (the request threads of
# a web process, the threads of the command line): their buffers together stay under 256 MB,
# however many uploads arrive at the same moment. The others wait their turn.
BUFFERED_DECODES_AT_ONCE = (256 * 1024 * 1024) // COEFFICIENT_MAX_BYTES
_BUFFERED_DECODES = threading.BoundedSemaphore(BUFFERED_DECODES_AT_ONCE)
# A signature pad is a canvas of about 900×260; a few megapixels is already absurd.
SIGNATURE_MAX_PIXELS = 4_000_000

_REDUCED_COLOR = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
                  4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}

TOO_LARGE = "Ảnh quá lớn. Vui lòng chọn ảnh nhỏ hơn (tối đa {mp} megapixel)."
PROGRESSIVE_TOO_LARGE = ("Ảnh quá lớn để xử lý (ảnh JPEG dạng lũy tiến). Vui lòng chụp lại "
                         "bằng camera của máy hoặc chọn ảnh nhỏ hơn.")
TOO_SMALL = "Ảnh quá nhỏ, không nhìn rõ. Vui lòng chụp lại gần hơn."


class ImageError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ImageHeader:
    mime: str
    width: int
    height: int
    buffered_bytes: int = 0  # the coefficient buffer a decode holds (jpeg_coefficient_bytes)

    @property
    def pixels(self) -> int:
        return self.width * self.height


def sniff_mime(data: bytes) -> str | None:
    """The allowed type these bytes start like (JPEG or PNG), or None."""
    for magic, mime in _MAGIC.items():
        if data.startswith(magic):
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


_SOF_BUFFERED = {0xC2, 0xC3, 0xC6, 0xC7, 0xCA, 0xCB, 0xCE, 0xCF,  # progressive, lossless
                 0xC9, 0xCD}  # arithmetic-coded sequential (decoded through the same buffer)
_SOF_ALL = {0xC0, 0xC1} | _SOF_BUFFERED
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: markers without a length


def _ceil(a: int, b: int) -> int:
    return (a + b - 1) // b


def _header_segments(data: bytes):
    """The JPEG's header segments in order, as (marker, body), up to and including the first
    scan's header (SOS, 0xDA), after which nothing is a header; standalone markers are skipped.

    The walk stops early, without yielding a scan, where the headers cannot be walked: no
    marker where one must be, EOI before any scan, a length shorter than itself or running past
    the end of the file. Callers tell a finished walk from a broken one by whether the last
    segment was the scan. Bodies are views into ``data`` (an ICC profile is not copied)."""
    view, pos, n = memoryview(data), 2, len(data)
    while pos + 4 <= n and data[pos] == 0xFF:
        while pos < n and data[pos] == 0xFF:  # fill bytes before a marker (T.81 B.1.1.2)
            pos += 1
        if pos >= n:
            return
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker == 0xD9 or pos + 2 > n:  # EOI before any scan
            return
        length = int.from_bytes(data[pos:pos + 2], "big")
        body = view[pos + 2:pos + length]
        if length < 2 or len(body) < length - 2:
            return
        yield marker, body
        if marker == 0xDA:
            return
        pos += length


def jpeg_coefficient_bytes(data: bytes) -> int:
    """Bytes of DCT coefficients libjpeg must hold at once for this JPEG: 0 for a single-scan
    baseline file (decoded a row of blocks at a time), else the whole image's coefficients.

    Read from the segment headers up to the first scan (SOF: components and their sampling
    factors; SOS: whether the first scan carries every component). A file whose headers cannot
    be walked is left to the decoders' own checks (they refuse it)."""
    sof, frame = None, None
    for marker, body in _header_segments(data):
        if marker in _SOF_ALL and sof is None and len(body) >= 6:
            sof = marker
            height, width, count = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big"), body[5]
            comps = [(body[6 + 3 * i + 1] >> 4, body[6 + 3 * i + 1] & 15)
                     for i in range(count) if 6 + 3 * i + 2 < len(body)]
            frame = (width, height, comps)
        elif marker == 0xDA:  # the first scan
            if frame is None or not frame[2]:
                return 0
            width, height, comps = frame
            in_scan = body[0] if len(body) else 0
            if sof not in _SOF_BUFFERED and in_scan >= len(comps):
                return 0
            max_h = max(h for h, _ in comps) or 1
            max_v = max(v for _, v in comps) or 1
            blocks = 0
            for h, v in comps:
                h, v = max(h, 1), max(v, 1)
                # libjpeg's per-component size in blocks, rounded up to whole sampling units
                wide = _ceil(_ceil(_ceil(width * h, max_h), 8), h) * h
                high = _ceil(_ceil(_ceil(height * v, max_v), 8), v) * v
                blocks += wide * high
            return blocks * 64 * 2
    return 0


def inspect(data: bytes, max_pixels: int) -> ImageHeader:
    """Type and size from the header only (no pixel decoded); refuses what must not be decoded."""
    if not data:
        raise ImageError("Chưa có ảnh. Vui lòng chụp hoặc chọn ảnh.")
    mime = sniff_mime(data)
    if mime is None:
        raise ImageError("Tệp này không phải ảnh JPEG hoặc PNG. Vui lòng chọn ảnh khác.")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and above 2× its own limit raises) on big images: we decide below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(_PIL_FORMATS)) as probe:
                fmt, (width, height) = probe.format, probe.size
    except Image.DecompressionBombError:
        raise ImageError(TOO_LARGE.format(mp=max_pixels // 1_000_000)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error):
        raise ImageError("Không đọc được ảnh (tệp bị hỏng hoặc không đầy đủ). Vui lòng chụp lại.") from None
    if (_PIL_FORMATS.get(fmt) or _PIL_ALIASES.get(fmt)) != mime or width <= 0 or height <= 0:
        raise ImageError("Không đọc được ảnh (tệp bị hỏng hoặc không đầy đủ). Vui lòng chụp lại.")
    if width * height > max_pixels:
        raise ImageError(TOO_LARGE.format(mp=max_pixels // 1_000_000))
    buffered = jpeg_coefficient_bytes(data) if mime == "image/jpeg" else 0
    if buffered > COEFFICIENT_MAX_BYTES:
        raise ImageError(PROGRESSIVE_TOO_LARGE)
    return ImageHeader(mime, width, height, buffered)


@contextlib.contextmanager
def _buffer_held(header: ImageHeader):
    """While inside, this decode holds one of the process's BUFFERED_DECODES_AT_ONCE places
    when its file is a buffered JPEG (progressive, arithmetic-coded, multi-scan); a baseline
    file or a PNG never waits. A decode takes a fraction of a second, so a wait is as short."""
    if not header.buffered_bytes:
        yield
        return
    with _BUFFERED_DECODES:
        yield


BROKEN = "Ảnh bị thiếu dữ liệu hoặc bị hỏng (tải lên chưa hết). Vui lòng chụp lại."


def check_integrity(data: bytes, header: ImageHeader) -> None:
    """Refuse a damaged or truncated file that decoders would silently patch up."""
    broken = ImageError(BROKEN)
    if header.mime == "image/jpeg":
        try:
            # 1/8 scale: every entropy-coded bit is still read, the output is 1/64 of the size.
            simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True, min_factor=8)
        except (ValueError, RuntimeError) as err:
            # Some phone cameras leave stray bytes between segments: libjpeg skips them and the
            # picture is whole, so that one warning is let through. Any other (premature end,
            # bad Huffman code …) means missing or garbled pixels.
            if not _BENIGN_JPEG_WARNING.search(str(err)):
                raise broken from None
    else:
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as probe:
                probe.verify()  # chunk CRCs and the IEND chunk, without inflating the pixels
        except Exception:  # Pillow raises several types for a broken PNG
            raise broken from None


def reduction_for(header: ImageHeader, max_side: int | None = None) -> int:
    """The JPEG DCT scale (1, 2, 4 or 8) to decode at: the smallest that fits the memory cap,
    or larger while the picture stays at least ``max_side`` on its long side."""
    if header.mime != "image/jpeg":
        return 1
    factor = 1
    while factor < 8 and header.pixels * 3 // (factor * factor) > DECODED_MAX_BYTES:
        factor *= 2
    if max_side:
        while factor < 8 and max(header.width, header.height) // (factor * 2) >= max_side:
            factor *= 2
    return factor


# One photo's analysis (a job of the vision pool) hands the same bytes to several readers: the
# card read, the portrait cut, the console's preview. Within :func:`decoding_once` the picture
# is checked and decoded once and each reader gets a copy (copying 1280×720 costs ~0.3 ms,
# checking and decoding it ~4.5 ms). Only pictures up to this size are kept, so that a big
# upload never sits in memory twice.
REUSED_DECODE_MAX_BYTES = 8 * 1024 * 1024
_DECODED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("decoded", default=None)


@contextlib.contextmanager
def decoding_once():
    """While inside (a ``with`` block, or a function decorated with ``@decoding_once()``),
    :func:`decode_image` decodes each bytes object once per set of arguments and answers
    copies (pixel for pixel what a fresh decode gives). Per thread and context: nothing is kept
    once the block ends."""
    token = _DECODED.set({})
    try:
        yield
    finally:
        _DECODED.reset(token)


def decode_image(data: bytes, max_pixels: int, flags: int = cv2.IMREAD_COLOR,
                 max_side: int | None = None) -> tuple[np.ndarray, str]:
    """Check, then decode JPEG/PNG bytes to a BGR array (or grey with IMREAD_GRAYSCALE).

    ``max_side``: the caller will shrink the picture to this long side anyway, so a big JPEG
    may be decoded reduced straight away.
    """
    kept = _DECODED.get()
    if kept is None:
        return _decode_image(data, max_pixels, flags, max_side)
    header = inspect(data, max_pixels)
    factor = reduction_for(header, max_side) if flags == cv2.IMREAD_COLOR else 1
    # the bytes object itself is part of the value, so its id is not reused while it is kept
    key = (id(data), len(data), max_pixels, flags, factor)
    if key in kept:
        image, mime, _ = kept[key]
        return image.copy(), mime
    image, mime = _decode_image(data, max_pixels, flags, max_side, header)
    if image.nbytes <= REUSED_DECODE_MAX_BYTES:
        kept[key] = (image.copy(), mime, data)
    return image, mime


def _decode_image(data: bytes, max_pixels: int, flags: int, max_side: int | None,
                  header: ImageHeader | None = None) -> tuple[np.ndarray, str]:
    header = header or inspect(data, max_pixels)
    if min(header.width, header.height) < MIN_SIDE:
        raise ImageError(TOO_SMALL)
    factor = reduction_for(header, max_side) if flags == cv2.IMREAD_COLOR else 1
    # Bytes per decoded pixel: 3 for a colour JPEG; a PNG may carry alpha.
    per_pixel = 3 if header.mime == "image/jpeg" else 4
    if header.pixels * per_pixel // (factor * factor) > DECODED_MAX_BYTES:
        raise ImageError(TOO_LARGE.format(mp=DECODED_MAX_BYTES // (per_pixel * 1_000_000)))
    with _buffer_held(header):
        image = _checked_jpeg_decode(data, header, flags, factor)
        if image is None:  # not a plain camera JPEG, or a broken one: checked, then OpenCV's
            check_integrity(data, header)
            image = cv2.imdecode(np.frombuffer(data, np.uint8),
                                 _REDUCED_COLOR[factor] if factor > 1 else flags)
    if image is None:
        raise ImageError("Không đọc được ảnh (tệp bị hỏng hoặc không đầy đủ). Vui lòng chụp lại.")
    if min(image.shape[:2]) < MIN_SIDE // factor:
        raise ImageError(TOO_SMALL)
    return image, header.mime


# The colour models a camera writes: libjpeg-turbo turns them into BGR or grey like OpenCV does.
_CAMERA_COLOURS = {"YCbCr", "Gray"}


def _exif_free(data: bytes) -> bool:
    """Whether the JPEG's header segments, walked up to the first scan, hold no EXIF block. A
    walk that does not reach the scan answers False: the file then goes OpenCV's way."""
    for marker, body in _header_segments(data):
        if marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            return False
        if marker == 0xDA:
            return True
    return False


def _checked_jpeg_decode(data: bytes, header: ImageHeader, flags: int,
                         factor: int) -> np.ndarray | None:
    """A camera JPEG checked and decoded in one strict pass (libjpeg-turbo through simplejpeg),
    or None when the other path must take it. ImageError for a broken file.

    The integrity check reads every coded bit at 1/8 scale, and OpenCV's decode then reads them
    all again: two decodes of each photo and preview frame (the check ~2–4 ms of ~6). A strict
    decode is the check itself. The pixels are OpenCV's to the bit (the same libjpeg-turbo
    scaled IDCT and upsampling; tests/security/test_image_bombs.py compares them). Left to the
    other path: a file with EXIF data (OpenCV turns the picture by its orientation tag; this
    decoder does not), a colour model other than a camera's, the one warning the check lets
    through (stray bytes between segments), and a decode of another size than the header's."""
    if header.mime != "image/jpeg" or flags not in (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE):
        return None
    try:
        colour = simplejpeg.decode_jpeg_header(data)[2]
    except (ValueError, RuntimeError):
        return None  # the check says what is wrong
    if colour not in _CAMERA_COLOURS or not _exif_free(data):
        return None
    grey = flags == cv2.IMREAD_GRAYSCALE
    size = (_ceil(header.height, factor), _ceil(header.width, factor))
    try:
        image = simplejpeg.decode_jpeg(
            data, colorspace="GRAY" if grey else "BGR", strict=True, min_factor=factor,
            min_height=size[0], min_width=size[1])
    except (ValueError, RuntimeError) as err:
        if _BENIGN_JPEG_WARNING.search(str(err)):
            return None
        raise ImageError(BROKEN) from None  # as the check would say, without a second decode
    if image.shape[:2] != size:
        return None
    return image[:, :, 0] if grey else image


def check_usable(data: bytes, max_pixels: int) -> str:
    """The MIME type of a picture :func:`decode_image` would accept, without keeping pixels.

    A JPEG is not decoded a second time: the integrity check has already read every coded bit
    (strictly, at 1/8 scale). A PNG is: its chunk checksums say nothing of the pixels inside."""
    if sniff_mime(data) != "image/jpeg":
        return decode_image(data, max_pixels, max_side=1600)[1]
    header = inspect(data, max_pixels)
    if min(header.width, header.height) < MIN_SIDE:
        raise ImageError(TOO_SMALL)
    with _buffer_held(header):
        check_integrity(data, header)
    return header.mime


def check_signature(png: bytes, min_ink: float = 0.002) -> Image.Image:
    """The pad's drawing, checked and decoded once: RGBA, for the signed documents to use
    (decoding a pad's PNG again would cost as much as everything else signing does).

    A real signature covers some of the pad (strokes: non-transparent pixels, or dark ones on
    an opaque pad); a tap or an empty pad does not."""
    if sniff_mime(png) != "image/png":
        raise ImageError("Chữ ký gửi lên không đúng định dạng. Vui lòng ký lại.")
    # The photo checks' refusals speak of photos («chụp lại»); a pad's drawing is signed again.
    broken = ImageError("Chữ ký gửi lên bị hỏng. Vui lòng ký lại.")
    try:
        check_integrity(png, inspect(png, SIGNATURE_MAX_PIXELS))  # no pixel decoded yet
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            image.load()
            picture = image.convert("RGBA")
            if "A" in image.getbands() or "transparency" in image.info:
                ink = np.asarray(picture.getchannel("A")) > 32
            else:
                ink = np.asarray(image.convert("L")) < 128
    except (ImageError, OSError, SyntaxError, ValueError, struct.error):
        raise broken from None
    if float(np.count_nonzero(ink)) / ink.size < min_ink:
        raise ImageError("Quý khách chưa ký, hoặc chữ ký quá ngắn. Vui lòng ký tên vào khung.")
    return picture


def difference_hash(data: bytes, max_pixels: int) -> int:
    """A 64-bit difference hash (dHash) of a picture: 9×8 grey, one bit per left/right pair.

    Step 6 compares a new card photo with the one stored for the same side: frames of a card
    held still differ by a few bits, a card turned over or moved by many
    (``kiosk.domain.step6.NEAR_IDENTICAL_BITS``). ImageError when the bytes are not a usable
    picture."""
    image, _ = decode_image(data, max_pixels, max_side=64)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)
