"""The camera's preview frames count: advice on each frame, and the card's QR code kept when a
frame shows it readably, so that the photo taken afterwards need not show it again.

At the counter the camera sends about three frames a second while the customer moves the card;
the photo is taken when the advice turns good, and on real cards in real light the one photo
often misses a QR code that a frame a second earlier showed sharply (:mod:`preview_qr` keeps
it for the read that follows).

Once the card's QR code has been read off the photo of the side that carries it (the front of a
2021 chip card, the back of a 2024 căn cước: each has only that one), the frames of the other
side are judged without looking for one: on a side with no QR code the decoders found nothing
for ~65 ms a frame, three times a second. Step 6's screen works that out once, when it shows
the camera (:func:`card_qr_known`), and says so in the address its frames go to (``qr=0``):
the frames themselves do not look up the photos again, three times a second. A page that
asks for a QR search it does not need only costs the server what every frame cost before.
"""
from __future__ import annotations

from kiosk.core.models import Evidence, Registration
from kiosk.domain.identity.qr_payload import QrPayloadError, parse_cccd_qr
from kiosk.services import preview_qr, vision_pool
from kiosk.vision import jobs

# Where each card kind carries its only QR code (read_card.CARD_KINDS).
QR_SIDE = {"cccd_chip_2021": "card_front", "can_cuoc_2024": "card_back"}
OTHER_SIDE = {"card_front": "card_back", "card_back": "card_front"}


def advise(reg: Registration, frame: bytes, track: str | None = None,
           look_for_qr: bool = True) -> dict:
    """Advice on one preview frame ({"ok", "issues", "messages", "qr_read", "track"}); a
    readable CCCD QR code in it is kept for the card read that follows. ``track``: the last
    answer's ``track``, sent back by the browser with this frame (where the card was; only a
    place to look first, see kiosk.vision.card_track). ``look_for_qr=False``: the screen
    knows the card's QR code already (:func:`card_qr_known`). Raises ImageError for a frame
    that is not a usable image, VisionBusy when the vision pool is full (the next frame tries
    again)."""
    advice = vision_pool.run("preview", jobs.preview, frame, look_for_qr, track)
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
            "qr_read": qr_read, "track": advice.track}


def card_qr_known(captures: dict[str, Evidence], capturing: str | None) -> bool:
    """Whether one side is being taken of a card whose QR code the other side's photo gave,
    that side being where the card's kind carries its only QR code. The new photo is read
    beside that one (the card's fields come from it), so its frames need no QR code.
    ``captures``: the registration's latest photos by kind (evidence.latest_captures)."""
    other = OTHER_SIDE.get(capturing or "")
    if other is None:
        return False
    row = captures.get(other)
    card = ((row.findings or {}).get("card") or {}) if row is not None else {}
    return QR_SIDE.get(card.get("card_kind")) == other and bool(
        (card.get("quality") or {}).get("qr_valid"))


