"""The QR code a camera preview frame showed, kept a few seconds for the card read that follows
(see :mod:`kiosk.services.card_preview`).

The payload of the latest readable frame is kept in the registration's encrypted personal data
for :data:`PREVIEW_QR_SECONDS`; a card read that found no QR code takes it from there
(:func:`with_recent_qr`), saying so in ``field_sources`` ("qr_preview").
"""
from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.core.models import Registration, utcnow
from kiosk.vision.read_card import apply_qr_payload

PREVIEW_QR_SECONDS = 15  # a frame older than this may show another card (the next customer's)
_REWRITE_SECONDS = 3  # the same payload is written again at most this often


def _stored_at(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def keep(reg: Registration, text: str) -> None:
    now = utcnow()
    kept = reg.data.get("preview_qr") or {}
    at = _stored_at(kept.get("at"))
    if kept.get("text") == text and at and now - at < timedelta(seconds=_REWRITE_SECONDS):
        return  # three frames a second of the same card: one write every few seconds
    # Flushed with the request's other changes and committed by the request before its answer
    # leaves: the photo the browser takes after reading that answer finds the payload.
    reg.update_personal(preview_qr={"text": text, "at": now.isoformat()})


def recent_qr(reg: Registration, now: datetime | None = None) -> str | None:
    """The payload a preview frame showed within the last :data:`PREVIEW_QR_SECONDS`."""
    kept = reg.data.get("preview_qr") or {}
    at = _stored_at(kept.get("at"))
    now = now or utcnow()
    if not kept.get("text") or at is None or not timedelta(0) <= now - at \
            <= timedelta(seconds=PREVIEW_QR_SECONDS):
        return None
    return kept["text"]


def with_recent_qr(reg: Registration, result: dict, today=None) -> dict:
    """The read-card ``result``, with the fields of a QR code a preview frame showed just
    before when the photo itself gave none (a QR read always wins over the printed number)."""
    if result.get("quality", {}).get("qr_valid"):
        return result
    text = recent_qr(reg)
    if text is None:
        return result
    return apply_qr_payload(result, text, source="qr_preview", today=today)
