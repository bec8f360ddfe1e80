"""A photo's card reads, carried from the process that made them to any other that needs them.

Step 6 reads each card photo once and keeps the read in its vision process (photo_cache): the
back's photo, each face comparison and the console's portrait cut all need the front read
already. Under gunicorn each web process has its own pool, and a registration's requests land
on either: the comparison often ran where the card photos had never been read, and read them
again (~60–100 ms a side). So the photo's job answers its reads packed (:func:`pack`), the
services store them with the photo (Evidence.reads, encrypted like the photo), and every later
job that takes the photo takes its reads with it (:func:`restore`): the worker it lands on then
finds them as if it had made them. A read is a pure function of the photo's bytes and the read's
options (both in its key), so a carried read is exactly the read the worker would make.

The packing is a pickle, because the reads are the engine's own objects (numpy arrays, the
vision's dataclasses). It is only ever unpacked from a column the server wrote and encrypted
with an authenticated cipher, and still through an allow-list: arrays, dates and the plain
data classes of ``kiosk.vision`` and ``kiosk.domain`` — never a function or any other class. A
packing that does not unpack (another version's classes, say) is dropped: the photo is simply
read again. Pure: no Flask.
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
import io
import logging
import pickle
import zlib

from kiosk.vision.photo_cache import SIDE_READS, digest

log = logging.getLogger(__name__)

FORMAT = b"KR1"  # the packing's own version, first in every blob
# Level 1: the portrait crop in a front's read is most of its ~190 kB and barely compresses;
# a higher level costs CPU for nothing.
ZLIB_LEVEL = 1

# numpy's own reconstructors (an array pickles as one of these and its dtype)
_NUMPY = {
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
}
_PLAIN = {("datetime", "date"), ("datetime", "datetime"), ("builtins", "set"),
          ("builtins", "frozenset"), ("builtins", "bytearray")}
_DATA_MODULES = ("kiosk.vision.", "kiosk.domain.")


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _NUMPY or (module, name) in _PLAIN:
            return super().find_class(module, name)
        if module.startswith(_DATA_MODULES) and "." not in name:
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and (dataclasses.is_dataclass(found)
                                            or issubclass(found, enum.Enum)):
                return found
        if module == "numpy" and name.startswith(("float", "int", "uint", "bool")):
            return super().find_class(module, name)  # numpy's scalar types
        raise pickle.UnpicklingError(f"{module}.{name} is not carried")


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
        raise ValueError("not a packing of card reads")
    try:
        found = _AllowListUnpickler(io.BytesIO(zlib.decompress(blob[len(FORMAT):]))).load()
    except Exception as exc:  # any failure at all: the photo is read again
        raise ValueError(f"card reads that do not unpack: {type(exc).__name__}: {exc}") from None
    if not isinstance(found, list) or not all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], tuple)
            and item[0] for item in found):
        raise ValueError("card reads of an unknown shape")
    return found


def restore(carried, photos, max_pixels: int) -> int:
    """Keep in this process the carried reads of ``photos`` (the job's own photo bytes) that it
    does not keep yet; how many were restored. A read keyed to none of ``photos`` is ignored (it
    could only mislead), and a packing that does not unpack is dropped with a log line: those
    photos are read again."""
    if not any(carried or ()):
        return 0
    keys = {photo_key(data, max_pixels) for data in photos}
    restored = 0
    for blob in carried or ():
        if not blob:
            continue
        try:
            pairs = unpack(blob)
        except ValueError as exc:
            log.info("card reads not restored (read again): %s", exc)
            continue
        for key, read in pairs:
            if key[0] in keys and key not in SIDE_READS:
                SIDE_READS.put(key, read)
                restored += 1
    return restored
