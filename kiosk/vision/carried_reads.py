"""A photo's card reads, carried from the process that made them to any other that needs them.

Step 6 reads each card photo once and keeps the read in its vision process (photo_cache): the
back's photo, each face comparison and the console's portrait cut all need the front read
already. Under gunicorn each web process has its own pool, and behind nginx (whose upstream
connections all kiosks share) a registration's requests land on either: the comparison often
ran where the card photos had never been read, and read them again (~60–100 ms a side). So the photo's job answers its reads packed (:func:`pack`), the
services store them with the photo (Evidence.reads, encrypted like the photo), and every later
job that takes the photo takes its reads with it (:func:`restore`): the worker it lands on then
finds them as if it had made them. A read is a function of the photo's bytes and the read's
options (both in its key, the day included), so a carried read is the read the worker would
make, but for one thing: a camera shot's outline may have been followed from where the
preview frames found the card held still (read_card.read_side), a few pixels from where a
search of the whole frame would put its sides. (A held card's side read after the other side's QR code read skips its own QR search,
as the process that made it would have done too.)

The packing is a pickle, because the reads are the engine's own objects (numpy arrays, the
vision's dataclasses). It is only ever unpacked from a column the server wrote and encrypted
with an authenticated cipher, and still through an allow-list: numpy's array reconstructors,
dates, and exactly the data classes a read is made of, with state set only on their
instances — never another function or class. Its header carries a fingerprint of those
classes' fields, so a packing made by code whose reads had another shape is refused. A
packing that does not unpack is dropped: the photo is simply read again. Pure: no Flask.
"""
from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import importlib
import io
import logging
import pickle
import zlib

import numpy as np

from kiosk.vision.photo_cache import SIDE_READS, digest

log = logging.getLogger(__name__)

# Level 1: the portrait crop in a front's read is most of its ~190 kB and barely compresses;
# a higher level costs CPU for nothing.
ZLIB_LEVEL = 1

# The classes a read is made of: exactly these, each where it is defined.
_DATA_CLASSES = (
    ("kiosk.vision.read_card", "SideRead"),
    ("kiosk.vision.qr_decode", "QrResult"),
    ("kiosk.vision.mrz_ocr", "MrzRead"),
    ("kiosk.domain.identity.mrz", "MrzData"),
    ("kiosk.vision.portrait_search", "PortraitHit"),
    ("kiosk.vision.portrait_search", "FaceAngle"),
    ("kiosk.vision.printed_number", "PrintedRead"),
)
# numpy's own reconstructors (an array pickles as one of these and its dtype) and dates
_OTHERS = {
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("datetime", "date"), ("datetime", "datetime"),
}


@functools.cache  # asked for each object a packing holds
def _data_classes() -> dict[tuple[str, str], type]:
    return {(module, name): getattr(importlib.import_module(module), name)
            for module, name in _DATA_CLASSES}


def _fingerprint() -> bytes:
    """The classes' fields: a packing made by code whose reads had other fields is not one
    this code can use (it would unpack into objects missing an attribute)."""
    shape = [(module, name, [f.name for f in dataclasses.fields(cls)])
             for (module, name), cls in sorted(_data_classes().items())]
    return hashlib.sha256(repr(shape).encode()).digest()[:8]


FORMAT = b"KR2" + _fingerprint()  # first in every packing


class _AllowListUnpickler(pickle._Unpickler):  # the Python one: its opcodes can be checked
    """Only the allowed classes and numpy's array reconstructors; state is set only on their
    instances (a pickle can also set attributes on a class itself: refused)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str):
        classes = _data_classes()
        if (module, name) in classes:
            found = classes[(module, name)]
            if found.__module__ == module:
                return found
        elif (module, name) in _OTHERS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not carried")

    def load_build(self):
        target = self.stack[-2]
        allowed = tuple(_data_classes().values()) + (np.ndarray, np.dtype)
        if isinstance(target, type) or not isinstance(target, allowed):
            raise pickle.UnpicklingError(f"no state is set on {type(target).__name__}")
        pickle._Unpickler.load_build(self)

    dispatch[pickle.BUILD[0]] = load_build


def photo_key(data: bytes, max_pixels: int) -> tuple:
    """The key the engine keeps a photo's reads under (its bytes and the decoder's limit)."""
    return (digest(data), max_pixels)


def pack(key: tuple) -> bytes | None:
    """Every read of the photo ``key`` kept in this process, packed with its full key; None
    when there is none."""
    reads = SIDE_READS.matching(lambda k: k[0] == key)
    if not reads:
        return None
    return FORMAT + zlib.compress(pickle.dumps(reads, protocol=5), ZLIB_LEVEL)


def unpack(blob: bytes) -> list[tuple[tuple, object]]:
    """(key, read) pairs of a packing; ValueError when it is not one this code made."""
    if not blob or not blob.startswith(FORMAT):
        raise ValueError("not a packing of card reads by this code")
    try:
        found = _AllowListUnpickler(io.BytesIO(zlib.decompress(blob[len(FORMAT):]))).load()
    except Exception as exc:  # any failure at all: the photo is read again
        raise ValueError(f"card reads that do not unpack: {type(exc).__name__}: {exc}") from None
    side_read = _data_classes()[("kiosk.vision.read_card", "SideRead")]
    if not isinstance(found, list) or not all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple)
            and len(item[0]) == 6 and isinstance(item[1], side_read) for item in found):
        raise ValueError("card reads of an unknown shape")
    return found


def restore(carried, photos, max_pixels: int) -> int:
    """Keep in this process the carried reads of ``photos`` (the job's own photo bytes) that it
    does not keep yet; how many were restored. A read keyed to none of ``photos``, or to
    another day (never looked up again), is ignored; a packing that does not unpack is dropped
    with a log line: those photos are read again. Never raises: carrying only saves work."""
    if not any(carried or ()):
        return 0
    keys = {photo_key(data, max_pixels) for data in photos}
    today = datetime.date.today()
    restored = 0
    for blob in carried or ():
        if not blob:
            continue
        try:
            for key, read in unpack(blob):
                if key[0] in keys and key[1] == today and key not in SIDE_READS:
                    SIDE_READS.put(key, read)
                    restored += 1
        except Exception as exc:  # e.g. a key that cannot be hashed
            log.info("card reads not restored (read again): %s", exc)
    return restored
