"""Small per-process memories of work already done on a photo, keyed by the photo's sha256.

Step 6 reads the same card photos again and again: the front when it is taken, the front again
beside the back, both again for the face comparison (and for each further face attempt). Each
read of a side costs 0.25–1.4 s of CPU (the QR decoders, the zone's OCR, the portrait search at
every angle); the answer for the same bytes never changes (the day aside, which is part of the
key). So a side's read, and the face embedding of a card portrait, are kept here for a while.

Bounded (least recently used goes first) and thread-safe (waitress and gunicorn threads share
the process). Only what the bytes say is kept, never the bytes: the keys are digests. What is
handed out is a copy, so a caller that changes its answer cannot change the next caller's.
"""
from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


def digest(data: bytes | bytearray | memoryview) -> bytes:
    """The key of a photo's bytes."""
    return hashlib.sha256(data).digest()


def array_digest(image: np.ndarray) -> bytes:
    """The key of a decoded picture (its shape and type are part of it)."""
    h = hashlib.sha256(repr((image.shape, image.dtype.str)).encode())
    h.update(np.ascontiguousarray(image).data)
    return h.digest()


class LruCache:
    """At most ``size`` answers; the least recently used is dropped first."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """A copy of the answer kept under ``key``, or None."""
        with self._lock:
            if key not in self._items:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            value = self._items[key]
        return copy.deepcopy(value)

    def matching(self, wanted: Callable[[Hashable], bool]) -> list[tuple[Hashable, Any]]:
        """(key, the answer itself, not a copy) of every answer whose key is ``wanted``; the
        caller only reads them (carried_reads pickles them). Not counted as hits."""
        with self._lock:
            return [(key, value) for key, value in self._items.items() if wanted(key)]

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: Hashable, value: Any) -> None:
        value = copy.deepcopy(value)  # the caller goes on using (and may change) its own
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The kept answer, or ``compute()``'s, kept. Two threads missing together both compute
        (the same answer): no lock is held while computing."""
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        if value is not None:
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


# A registration has at most a few card photos in play (step 1's scan, step 6's front and back,
# retakes), and a server serves a few registrations at once: 64 sides is a few dozen kiosks'
# worth. A side's read is small: ~190 kB for a front of the kiosk's 1280×720 frames (its
# portrait crop), ~2 kB for a back; a 12-megapixel photo's portrait is bigger (~1 MB).
SIDE_READS = LruCache(64)
# Face embeddings of card portraits (128 floats each): a second face attempt compares the same
# card portrait with a new face.
PORTRAIT_EMBEDDINGS = LruCache(128)
# The console's portrait cut of a card front (a JPEG of a few kB), shown on every review page.
PORTRAIT_JPEGS = LruCache(64)


def clear_all() -> None:
    """Forget everything (tests, and a change of models)."""
    for cache in (SIDE_READS, PORTRAIT_EMBEDDINGS, PORTRAIT_JPEGS):
        cache.clear()
