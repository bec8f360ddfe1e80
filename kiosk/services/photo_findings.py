"""What the vision found in each photo, computed once — when the photo is taken, in the same
vision-pool job that checks it — and stored with it (Evidence.findings, encrypted JSON: it holds
the card's data; Evidence.preview, a downscaled JPEG; Evidence.portrait, the card portrait cut
out). The console's pages read these and never decode a photo: a clerk opening a case used to
cost as much CPU as the kiosk that took the photos.

A photo stored before findings existed has none: the first page that needs them computes them
once through the pool and stores them (the request commits them), then serves them.
"""
from __future__ import annotations

import json
from typing import NamedTuple

from kiosk.core.models import Evidence
from kiosk.services import vision_pool
from kiosk.vision import jobs

CARD_KINDS = ("card_front", "card_back")


def _plain(value):
    """numpy scalars and arrays (their .item() / .tolist()), else the text."""
    for name in ("item", "tolist"):
        method = getattr(value, name, None)
        if method is not None:
            try:
                return method()
            except (TypeError, ValueError):
                continue
    return str(value)


def as_json(value):
    """``value`` as plain JSON types (the engine's answers may carry numpy numbers)."""
    return json.loads(json.dumps(value, default=_plain))


class PhotoAnalysis(NamedTuple):
    """What a photo's vision job found, as stored with it (Evidence's columns of those names)."""
    findings: dict
    preview: bytes | None
    portrait: bytes | None
    reads: bytes | None = None  # the card reads, packed (vision/carried_reads)

    def stored(self) -> dict:
        """The keyword arguments of ``services.evidence.store``."""
        return self._asdict()


def from_card_job(found: dict, card: dict | None) -> PhotoAnalysis:
    """What to store for a card photo analysed by ``jobs.card_photo`` (``card``: the read as the
    kiosk used it, e.g. with a QR code kept from the preview)."""
    findings = {"frame_hash": found.get("frame_hash"), "card": as_json(card) if card else None,
                "portrait_found": found.get("portrait") is not None}
    return PhotoAnalysis(findings, found.get("preview"), found.get("portrait"),
                         found.get("reads"))


def from_face_job(found: dict) -> PhotoAnalysis:
    return PhotoAnalysis({"frame_hash": found.get("frame_hash")}, found.get("preview"), None)


def carried(rows) -> list[bytes]:
    """The card reads stored with these photos, for the jobs that take them (carried_reads)."""
    return [row.reads for row in rows if row is not None and row.reads]


def analysed(row: Evidence) -> Evidence:
    """``row`` with its findings; an older photo without them is analysed now (once, through
    the pool) and they are stored on it (flushed with the request)."""
    if row.findings is None:
        found = vision_pool.run("stored_photo", jobs.stored_photo, row.kind, row.content)
        row.findings = {"frame_hash": found["frame_hash"],
                        "card": as_json(found["card"]) if found["card"] else None,
                        "portrait_found": found["portrait"] is not None, "late": True}
        row.preview = found["preview"]
        row.portrait = found["portrait"]
    return row


def frame_hash(row: Evidence) -> int | None:
    value = (analysed(row).findings or {}).get("frame_hash")
    return int(value, 16) if value else None


def portrait(row: Evidence | None) -> bytes | None:
    """The portrait cut from a card-front photo when it was taken (JPEG), or None (another kind
    of photo, or no portrait found)."""
    if row is None or row.kind != "card_front":
        return None
    return analysed(row).portrait


def preview(row: Evidence) -> tuple[bytes, str]:
    """(bytes, MIME type) of the picture the console shows: the stored preview, or the photo
    itself when there is none (a small liveness frame needs none)."""
    stored = analysed(row).preview
    return (stored, "image/jpeg") if stored else (row.content, row.mime_type)


def card_reading(captures: dict[str, Evidence]) -> dict:
    """What the card's QR code (or MRZ) says, from the stored reads of the latest card photos
    (front, then back): a value the front gives is kept, the back fills the rest."""
    merged: dict = {}
    for kind in CARD_KINDS:
        row = captures.get(kind)
        if row is None:
            continue
        info = (analysed(row).findings or {}).get("card") or {}
        for key, value in info.items():
            if value and not merged.get(key):
                merged[key] = value
    return merged
