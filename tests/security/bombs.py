"""Hostile images for the intake tests: each declares far more pixels than it carries."""
from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np


def _small_jpeg(width=16, height=16) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 127, np.uint8))
    assert ok
    return buf.tobytes()


def jpeg_fill_bytes_bomb(width=30000, height=30000) -> bytes:
    """A real small JPEG whose SOF is patched to declare width×height, with fill bytes
    (``FF FF FF``) put before the SOF marker as the first attack pass did (1.6 kB)."""
    data = bytearray(_small_jpeg())
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    # Fill bytes: any number of 0xFF may precede a marker (ITU T.81 B.1.1.2).
    return bytes(data[:sof] + b"\xff\xff" + data[sof:])


def webp_bomb(width=16383, height=16383) -> bytes:
    """~34 bytes that OpenCV really decodes to width×height×3: a lossless WebP of one colour
    (a single-symbol Huffman code costs zero bits a pixel) with its VP8L size field patched."""
    ok, buf = cv2.imencode(".webp", np.zeros((16, 16, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert ok
    data = bytearray(buf.tobytes())
    head = data.find(b"VP8L") + 8 + 1  # chunk header, then the 0x2f signature byte
    bits = int.from_bytes(data[head:head + 4], "little")
    bits = (width - 1) | ((height - 1) << 14) | (bits >> 28 << 28)
    data[head:head + 4] = bits.to_bytes(4, "little")
    return bytes(data)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width=20000, height=20000, bit_depth=8, colour_type=0) -> bytes:
    """A valid PNG of zeros: a few hundred kB that inflate to width×height×channels bytes."""
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    # Filter byte 0 and zero samples: the whole inflated stream is zeros, compressed in chunks.
    remaining = height * (1 + width * channels * bit_depth // 8)
    packer, chunk, parts = zlib.compressobj(1), bytes(16 << 20), []
    while remaining:
        take = min(remaining, len(chunk))
        parts.append(packer.compress(chunk[:take]))
        remaining -= take
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b""))


def uniform_jpeg(width: int, height: int, value=127) -> bytes:
    """A legitimate but big JPEG: one colour, so a 40 MP picture is a small file."""
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), value, np.uint8),
                           [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    return buf.tobytes()


def truncated_jpeg_padded(seed=0) -> bytes:
    """A camera-like JPEG cut in half and closed with FF D9, as a half-finished upload."""
    rng = np.random.default_rng(seed)
    ok, buf = cv2.imencode(".jpg", rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
    assert ok
    data = buf.tobytes()
    return data[: len(data) // 2] + b"\xff\xd9"


def progressive_jpeg(width=6320, height=6320, subsampling=0) -> bytes:
    """A real progressive JPEG of one colour: 469 kB for 6320×6320 (under the 40 MP limit), but
    libjpeg holds every DCT coefficient of a progressive file at once — 240 MB at any scale."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "JPEG", progressive=True, subsampling=subsampling)
    return out.getvalue()


def _baseline_444(width: int, height: int) -> bytearray:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, "JPEG", subsampling=0)
    return bytearray(out.getvalue())


def arithmetic_jpeg(width=6320, height=6320) -> bytes:
    """The same size declared as arithmetic-coded sequential (SOF9): libjpeg decodes those
    through the whole-image coefficient buffer too."""
    data = _baseline_444(width, height)
    sof = data.find(b"\xff\xc0")
    data[sof + 1] = 0xC9
    return bytes(data)


def multiscan_baseline_jpeg(width=6320, height=6320) -> bytes:
    """Baseline, but its first scan carries one component of three (non-interleaved scans): the
    other components come in later scans, so libjpeg buffers the whole image's coefficients."""
    data = _baseline_444(width, height)
    sos = data.find(b"\xff\xda")
    length = int.from_bytes(data[sos + 2:sos + 4], "big")
    first = data[sos + 5:sos + 7]  # component id and its table selectors
    one = b"\xff\xda" + (8).to_bytes(2, "big") + b"\x01" + bytes(first) + b"\x00\x3f\x00"
    return bytes(data[:sos] + one + data[sos + 2 + length:])
