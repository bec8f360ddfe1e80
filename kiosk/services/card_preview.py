"""The camera's preview frames count: advice on each frame, and the card's QR code kept when a
frame shows it readably, so that the photo taken afterwards need not show it again.

At the counter the camera sends about three frames a second while the customer moves the card;
the photo is taken when the advice turns good, and on real cards in real light the one photo
often misses a QR code that a frame a second earlier showed sharply (:mod:`preview_qr` keeps
it for the read that follows).
"""
from __future__ import annotations

from kiosk.core.models import Registration
from kiosk.domain.identity.qr_payload import QrPayloadError, parse_cccd_qr
from kiosk.services import preview_qr, vision_pool
from kiosk.vision import jobs


def advise(reg: Registration, frame: bytes) -> dict:
    """Advice on one preview frame ({"ok", "issues", "messages", "qr_read"}); a readable CCCD
    QR code in it is kept for the card read that follows. Raises ImageError for a frame that
    is not a usable image, VisionBusy when the vision pool is full (the next frame tries
    again)."""
    advice = vision_pool.run("preview", jobs.preview, frame)
    qr_read = False
    # personal data is kept only with the customer's consent to the scan (given at step 1
    # before the camera opens; a request without it is not the kiosk's own)
    if advice.qr_text and reg.consent_at is not None:
        try:
            parse_cccd_qr(advice.qr_text)
        except QrPayloadError:
            pass  # another QR code (a poster, a phone): not the card's
        else:
            qr_read = True
            preview_qr.keep(reg, advice.qr_text)
    return {"ok": advice.ok, "issues": list(advice.issues), "messages": list(advice.messages),
            "qr_read": qr_read}


