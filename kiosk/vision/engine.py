"""The eKYC engine: one object, built at start-up from the settings, that the services call for
every computer-vision job (read a card, advise on a preview frame, compare faces, judge a
liveness recording). Bytes go in, plain results come out: callers never touch OpenCV.

It is the seam for swapping models and for tests: ``services.ekyc.init_app`` builds it from
config and keeps it in ``app.extensions["kiosk_ekyc"]``; tests that need no models put a fake
with the same methods there (tests/support/fake_ekyc.py). Pure: no Flask.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.domain.face_decision import FaceThresholds
from kiosk.vision.images import ImageError, decode_image

__all__ = ["EkycEngine", "ImageError", "LivenessVerdict"]

# Liveness frames are judged at most this wide: enough for 68 landmarks, and a 240-frame
# recording then holds ~70 MB decoded instead of gigabytes (frames are decoded one by one).
LIVENESS_MAX_SIDE = 640


@dataclass(frozen=True)
class LivenessVerdict:
    state: str  # "passed" | "failed" | "running"
    reason: str | None
    message: str | None
    still: bool
    face_jpeg: bytes | None  # the most frontal frame, kept as the face photo when passed


class _LazyFrames(Sequence):
    """A recording's frames, decoded (and shrunk) one at a time as the judge asks for them."""

    def __init__(self, stamps: list[float], blobs: list[bytes], max_pixels: int):
        self._stamps, self._blobs, self._max_pixels = stamps, blobs, max_pixels

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, index):
        image, _ = decode_image(self._blobs[index], self._max_pixels)
        side = max(image.shape[:2])
        if side > LIVENESS_MAX_SIDE:
            scale = LIVENESS_MAX_SIDE / side
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return self._stamps[index], image

    def __iter__(self) -> Iterator:
        for index in range(len(self)):
            yield self[index]


class EkycEngine:
    """Card reading, guidance, face comparison and liveness, with the settings they need."""

    def __init__(self, thresholds: FaceThresholds, max_pixels: int, mirrored: bool = False):
        self.thresholds = thresholds
        self.max_pixels = max_pixels
        self.mirrored = mirrored

    # ---- images ------------------------------------------------------------------------------
    def check_image(self, data: bytes) -> str:
        """The MIME type of a decodable image within the limits; ImageError (Vietnamese) if not."""
        return decode_image(data, self.max_pixels)[1]

    # ---- cards -------------------------------------------------------------------------------
    def read_card(self, images: list[bytes] | bytes) -> dict:
        """What the card in one or more photos says, each photo either side in any order
        (read-card contract fields, without elapsed_ms; docs/vision-card.md). ImageError when
        a photo is not a usable image."""
        from kiosk.vision.read_card import read_card

        if isinstance(images, bytes | bytearray):
            images = [bytes(images)]
        frames = [decode_image(data, self.max_pixels)[0] for data in images]
        return read_card(frames)

    def card_portrait_jpeg(self, data: bytes) -> bytes | None:
        """The portrait cut from a photo of a card front (any kind) or passport page, as JPEG,
        or None."""
        from kiosk.vision.card import portrait_from_frame
        from kiosk.vision.read_card import read_side

        image, _ = decode_image(data, self.max_pixels)
        portrait = portrait_from_frame(image)  # the 2021 front: its QR code places the photo
        if portrait is None:
            side = read_side(image, with_mrz=False)
            # only a portrait on a card: a plain photo of a face is not a card portrait
            on_card = side.corners is not None or side.qr_valid
            portrait = side.portrait if side.portrait_found and on_card else None
        if portrait is None:
            return None
        ok, buf = cv2.imencode(".jpg", portrait, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else None

    def guidance(self, data: bytes) -> dict:
        """Advice on one preview frame: {"ok", "issues", "messages"}."""
        from kiosk.vision.guidance import analyse_frame

        frame, _ = decode_image(data, self.max_pixels)
        result = analyse_frame(frame)
        return {"ok": bool(result.ok), "issues": list(result.issues),
                "messages": list(result.messages)}

    # ---- faces -------------------------------------------------------------------------------
    def compare(self, card_bytes: bytes | list[bytes], face_bytes: bytes) -> dict:
        """Card portrait (or a plain portrait photo) against the live face.

        ``card_bytes``: one photo, or the photos of both sides of the card in any order (the
        portrait comes from the front, the QR fields from whichever side carries the QR).
        ``{"decision", "distance", "reference": "card_portrait"|"photo"|None, "card": {...the
        read-card object...}}``. A frame where a card is found is compared through its portrait;
        with no card the first image is taken as a portrait photo (the services never accept
        that alone, since a frame of a hand-held card can also show the holder's own face).
        """
        from kiosk.vision import faces
        from kiosk.vision.read_card import read_card_and_portrait

        blobs = [card_bytes] if isinstance(card_bytes, bytes | bytearray) else list(card_bytes)
        try:
            cards = [decode_image(b, self.max_pixels)[0] for b in blobs]
            face, _ = decode_image(face_bytes, self.max_pixels)
        except ImageError:
            return {"decision": "no_face", "distance": None, "reference": None, "card": {}}
        info, portrait = read_card_and_portrait(cards)
        if info["card_found"]:
            reference, kind = portrait, "card_portrait"  # None: a card without a face (a back)
        else:
            reference, kind = cards[0], "photo"
        if reference is None:
            result = {"decision": "no_face", "distance": None}
        else:
            result = faces.verify(reference, face, self.thresholds)
        return {**result, "reference": kind, "card": info}

    # ---- liveness ----------------------------------------------------------------------------
    def new_challenge(self, rng) -> list[str]:
        from kiosk.vision.liveness import new_challenge

        return new_challenge(rng)

    @staticmethod
    def prompts() -> dict[str, str]:
        from kiosk.vision.liveness import PROMPTS

        return dict(PROMPTS)

    def judge_liveness(self, stamps: list[float], blobs: list[bytes],
                       challenge: list[str]) -> LivenessVerdict:
        """Judge a recorded challenge. Frames are decoded lazily, one at a time; a frame that is
        not a valid image raises ImageError before any judgement is returned."""
        from kiosk.vision.liveness import run_sequence

        frames = _LazyFrames(stamps, blobs, self.max_pixels)
        status, best = run_sequence(frames, challenge, mirrored=self.mirrored)
        face_jpeg = None
        if status.state == "passed" and best is not None:
            image = frames[best][1]
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image),
                                   [cv2.IMWRITE_JPEG_QUALITY, 92])
            face_jpeg = buf.tobytes() if ok else blobs[best]
        return LivenessVerdict(state=status.state, reason=status.reason, message=status.message,
                               still=bool(status.still), face_jpeg=face_jpeg)
