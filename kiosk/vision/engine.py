"""The eKYC engine: one object, built at start-up from the settings, that the services call for
every computer-vision job (read a card, advise on a preview frame, compare faces, judge a
liveness recording). Bytes go in, plain results come out: callers never touch OpenCV.

It is the seam for swapping models and for tests: ``services.ekyc.init_app`` builds it from
config and keeps it in ``app.extensions["kiosk_ekyc"]``; the test app puts a scripted fake with
the same methods and signatures there (tests/support/fake_ekyc.py, held to this class by
tests/test_fake_ekyc.py). Pure: no Flask.
"""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.domain.face_decision import FaceThresholds
from kiosk.vision.images import ImageError, check_usable, decode_image, inspect

__all__ = ["EkycEngine", "ImageError", "LivenessVerdict", "PreviewAdvice", "model_thresholds"]

# Liveness frames are judged at most this wide: enough for 68 landmarks. Frames are decoded one
# at a time (a JPEG straight at a reduced scale), so memory stays at one frame whatever the count.
LIVENESS_MAX_SIDE = 640
# Guidance frames are judged at most this wide (a 12-megapixel photo would take seconds).
GUIDANCE_MAX_SIDE = 1280

# The per-request budget, checked on the headers before the first frame is decoded: a camera
# frame is at most Full HD, and the whole recording at most 80 MP (liveness.js sends 480-px
# frames at 8 fps: a 20 s recording is ~28 MP). Beyond that a "recording" is an attack on the
# CPU (240 frames of 40 MP each would be decoded one by one for minutes).
LIVENESS_FRAME_MAX_PIXELS = 2_100_000
LIVENESS_PIXEL_BUDGET = 80_000_000
# …and at most this many frames: liveness.js records 8 a second for the challenge's 20 s (160).
LIVENESS_MAX_FRAMES = 180
# Wall-clock seconds one recording may be judged for. A 240-frame recording once took 95 s on a
# loaded machine, and gunicorn kills a worker at 120 s (the customer then sees an error page and
# the other requests of that worker die with it). Past the budget the judge stops and the
# customer is asked to try again (liveness reason "busy").
LIVENESS_TIME_BUDGET_S = 45.0
BUDGET_MESSAGE = "Đoạn ghi hình quá lớn. Vui lòng thử lại."


def check_liveness_budget(blobs: Sequence[bytes],
                          frame_max_pixels: int = LIVENESS_FRAME_MAX_PIXELS,
                          budget: int = LIVENESS_PIXEL_BUDGET) -> None:
    """Refuse a recording whose frames (read from their headers only) exceed the budget, or
    that has more frames than a recording of the challenge can have."""
    if len(blobs) > LIVENESS_MAX_FRAMES:
        raise ImageError(BUDGET_MESSAGE)
    total = 0
    for blob in blobs:
        total += inspect(blob, frame_max_pixels).pixels
        if total > budget:
            raise ImageError(BUDGET_MESSAGE)


# A preview frame gets one try per place (the card's corner, the frame as it is), not the
# upsampled variants a single photo gets: the camera sends three a second, and the next frame
# is the next try (bench/bench_preview_qr.py measures the cost against the advice alone).
PREVIEW_REGION_VARIANTS = ((2.0, 1.5),)
PREVIEW_FRAME_VARIANTS = ((1.0, 0.0),)


@dataclass(frozen=True)
class PreviewAdvice:
    ok: bool
    issues: tuple[str, ...]
    messages: tuple[str, ...]
    qr_text: str | None  # the QR code's payload when this frame showed it readably
    track: str | None = None  # the card's corners, for the next frame's hint (card_track)


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
        image, _ = decode_image(self._blobs[index], self._max_pixels, max_side=LIVENESS_MAX_SIDE)
        side = max(image.shape[:2])
        if side > LIVENESS_MAX_SIDE:
            scale = LIVENESS_MAX_SIDE / side
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return self._stamps[index], image

    def __iter__(self) -> Iterator:
        for index in range(len(self)):
            yield self[index]


def model_thresholds(config: Mapping, model: str) -> FaceThresholds:
    """``model``'s thresholds from the per-model settings FACE_ACCEPT_DISTANCE and
    FACE_REJECT_DISTANCE (``{"sface": 0.58, "dlib": 0.42}``).

    The two models' distances live on different scales (SFace: 1 − cosine; dlib: Euclidean),
    so a single number is refused: after a switch of FACE_MODEL it would silently be the other
    model's threshold. A model without its own entry is refused too (ValueError, at start-up).
    """
    values = []
    for key in ("FACE_ACCEPT_DISTANCE", "FACE_REJECT_DISTANCE"):
        setting = config.get(key)
        if not isinstance(setting, Mapping):
            raise ValueError(f"{key} must give each face model its own distance, e.g. "
                             "{'sface': 0.58, 'dlib': 0.42}: a single number would be used with "
                             "whichever model FACE_MODEL selects (docs/vision-faces.md)")
        if model not in setting:
            raise ValueError(f"{key} has no value for face model {model!r} "
                             "(calibrate it with bench/calibrate_faces.py)")
        values.append(setting[model])
    return FaceThresholds(accept=values[0], reject=values[1])


def _on_card(read) -> bool:
    """Whether a side read's portrait is a card's: its outline or its QR code was found (a plain
    photo of a face is not a card portrait)."""
    return read.corners is not None or read.qr_valid


def sharpness(image: np.ndarray) -> float:
    """How sharp a picture is: the variance of its Laplacian at a common height (200 px), so
    crops of different sizes compare fairly."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    if h == 0 or w == 0:
        return 0.0
    scaled = cv2.resize(grey, (max(1, round(w * 200 / h)), 200), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(scaled, cv2.CV_64F).var())


class EkycEngine:
    """Card reading, guidance, face comparison and liveness, with the settings they need.

    ``face_model`` ("sface" or "dlib") decides, with ``thresholds`` calibrated for it;
    ``shadow_model`` (the other one, optional) is only measured: its distance and decision go
    into the compare result's ``shadow`` for the audit trail, never into the decision.
    ``models_dir``: the YuNet/SFace folder (None: $KIOSK_FACE_MODELS_DIR or <repo>/models).
    """

    def __init__(self, thresholds: FaceThresholds, max_pixels: int, mirrored: bool = False,
                 face_model: str = "sface", models_dir: str | Path | None = None,
                 shadow_model: str | None = None,
                 shadow_thresholds: FaceThresholds | None = None):
        from kiosk.vision.faces import MODEL_NAMES

        if face_model not in MODEL_NAMES:
            raise ValueError(f"FACE_MODEL must be one of {', '.join(MODEL_NAMES)}, "
                             f"not {face_model!r}")
        if shadow_model is not None:
            if shadow_model not in MODEL_NAMES or shadow_model == face_model:
                raise ValueError(f"FACE_SHADOW_MODEL must be the other face model or None, "
                                 f"not {shadow_model!r}")
            if shadow_thresholds is None:
                raise ValueError("a shadow model needs its own thresholds")
        self.thresholds = thresholds
        self.max_pixels = max_pixels
        self.mirrored = mirrored
        self.face_model = face_model
        self.models_dir = models_dir
        self.shadow_model = shadow_model
        self.shadow_thresholds = shadow_thresholds
        self.liveness_time_budget_s = LIVENESS_TIME_BUDGET_S

    @classmethod
    def from_config(cls, config: Mapping) -> EkycEngine:
        """The engine the settings describe (ValueError naming the setting if they are wrong)."""
        model = config.get("FACE_MODEL") or "sface"
        shadow = config.get("FACE_SHADOW_MODEL") or None
        return cls(thresholds=model_thresholds(config, model),
                   max_pixels=config["MAX_IMAGE_PIXELS"],
                   mirrored=config["LIVENESS_MIRRORED"],
                   face_model=model,
                   models_dir=config.get("FACE_MODELS_DIR") or None,
                   shadow_model=shadow,
                   shadow_thresholds=model_thresholds(config, shadow) if shadow else None)

    def settings(self) -> dict:
        """The face settings, for copies of this engine (test fakes) and the audit trail."""
        return {"face_model": self.face_model, "models_dir": self.models_dir,
                "shadow_model": self.shadow_model, "shadow_thresholds": self.shadow_thresholds}

    def face_model_instance(self, name: str | None = None):
        """The (process-wide, lazily loaded) face model ``name`` (default: the deciding one)."""
        from kiosk.vision.faces import get_model

        return get_model(name or self.face_model, self.models_dir)

    def model_problem(self) -> str | None:
        """Why the deciding model cannot load (e.g. files missing: the fix), or None. Cheap:
        checks the files' presence and sizes, not their hashes (those are checked at load)."""
        if self.face_model != "sface":
            return None
        from kiosk.vision import sface

        folder = Path(self.models_dir) if self.models_dir else sface.default_models_dir()
        for name, expected in sface.MODEL_FILES.items():
            path = folder / name
            if not path.is_file() or path.stat().st_size != expected.size:
                return (f"YuNet/SFace face models unavailable: {path} is missing or incomplete"
                        f" — {sface.FIX_HINT}")
        return None

    def preload(self) -> None:
        """Load the deciding (and shadow) face model now instead of for the first customer."""
        self.face_model_instance().load()
        if self.shadow_model:
            self.face_model_instance(self.shadow_model).load()

    # ---- images ------------------------------------------------------------------------------
    def check_image(self, data: bytes) -> str:
        """The MIME type of a decodable image within the limits; ImageError (Vietnamese) if not.

        The decode is real (a file that only looks right is refused): a JPEG's strict
        integrity decode at 1/8 scale, a PNG's full one. The pixels are not kept."""
        return check_usable(data, self.max_pixels)

    def frame_hash(self, data: bytes) -> int:
        """A 64-bit difference hash of a photo, to tell a near-identical frame (step 6)."""
        from kiosk.vision.images import difference_hash

        return difference_hash(data, self.max_pixels)

    # ---- cards -------------------------------------------------------------------------------
    def read_card(self, images: list[bytes] | bytes, *, read_print: bool = True,
                  held_card: bool = False, hint: str | None = None) -> dict:
        """What the card in one or more photos says, each photo either side in any order
        (read-card contract fields, without elapsed_ms; docs/vision-card.md). ImageError when
        a photo is not a usable image. ``read_print=False``: a front without a readable QR code
        is not read by OCR (0.3–1 s; where a printed number could not vouch anyway).
        ``held_card``: the photos are camera shots of one card held up, one side each (the
        kiosk's camera: read_card.read_side says what that spares). ``hint``: where the preview
        frames just before this shot found the card (the ``track`` of :meth:`preview`, in the
        first photo's pixels): the first photo's card is looked for there first."""
        from kiosk.vision.read_card import merge_sides

        if isinstance(images, bytes | bytearray):
            images = [bytes(images)]
        return merge_sides(self._read_sides(images, with_mrz=True, read_print=read_print,
                                            held_card=held_card, hint=hint))[0]

    def _read_sides(self, blobs: Sequence[bytes], *, with_mrz: bool,
                    read_print: bool, held_card: bool = False,
                    hint: str | None = None) -> list:
        """Each photo's side read (read_card.SideRead), kept per process by the digest of its
        bytes (photo_cache): step 6 reads the front again beside the back and both again for
        each face comparison. A photo is decoded only when its read is not kept; ImageError
        when one is not a usable image (a kept one was).

        ``held_card``: camera shots of one card, one side each (read_card.read_side). The
        reads kept are taken first, so that a side whose QR code read (a card has one only)
        spares the other photos the search for one, whatever order they come in. ``hint``:
        where to look for the first photo's card first (:meth:`read_card`)."""
        from kiosk.vision.photo_cache import digest
        from kiosk.vision.read_card import (
            kept_side_read,
            print_added_cached,
            print_would_be_read,
            read_side_cached,
        )

        if not blobs:
            raise ValueError("read_card needs at least one image")
        keys = [(digest(data), self.max_pixels) for data in blobs]
        options = dict(with_mrz=with_mrz, models_dir=self.models_dir, read_print=read_print,
                       held_card=held_card)
        # Several photos: a front's print is read only when no photo's QR code read, since a
        # QR read always wins (merge_sides) and the OCR costs 0.3–1 s. A 2024 card carries its
        # code on the back: its front used to be read by OCR for every face comparison. So
        # all are read without the print first, and it is added where it is still wanted.
        # One photo (step 1's scan, the command line's single image) is read as asked.
        several = len(blobs) > 1 and read_print and with_mrz  # without the zone: no print
        plain = dict(options, read_print=False) if several else options
        reads = [kept_side_read(key, **options) or kept_side_read(key, **plain) for key in keys]

        def load(data):
            return lambda: decode_image(data, self.max_pixels)[0]

        for i, (key, data) in enumerate(zip(keys, blobs, strict=True)):
            if reads[i] is None:
                card_qr_read = held_card and any(
                    r is not None and r.side in ("front", "back") and r.qr_valid for r in reads)
                reads[i] = read_side_cached(key, load(data), card_qr_read=card_qr_read,
                                            hint=hint if i == 0 else None, **plain)
        if plain is not options and not any(r.qr_valid for r in reads):
            for i, (key, data) in enumerate(zip(keys, blobs, strict=True)):
                if print_would_be_read(reads[i]):  # only the print is read: not the whole side
                    reads[i] = print_added_cached(key, reads[i], load(data),
                                                  models_dir=self.models_dir,
                                                  held_card=held_card)
        return reads

    def card_portrait_jpeg(self, data: bytes) -> bytes | None:
        """The portrait cut from a photo of a card front (any kind) or passport page, as JPEG,
        UPRIGHT and the sharpest of the cuts found, or None.

        A clerk decides on this picture: a cut lying on its side (the card's outline read the
        wrong way round in a blurred frame) or smeared is no evidence. So the cut placed by the
        card's outline (or its QR code) is turned upright by the face in it (looked at upright
        first, then every 30°). Unless that face stood sure and upright in the cut, the frame
        is also searched for the portrait at any angle (``portrait_search.find_portrait``), and
        the sharper upright cut is answered."""
        from kiosk.vision.photo_cache import PORTRAIT_JPEGS, digest

        # kept per process: the review page asks for it each time it is shown (a None too)
        key = (digest(data), self.max_pixels, str(self.models_dir or ""))
        return PORTRAIT_JPEGS.get_or_compute(key, lambda: (self._card_portrait_jpeg(data),))[0]

    def _card_portrait_jpeg(self, data: bytes) -> bytes | None:
        from kiosk.vision import portrait_search
        from kiosk.vision.card_outline import to_bgr
        from kiosk.vision.card_portrait import face_detector
        from kiosk.vision.photo_cache import digest
        from kiosk.vision.read_card import kept_read_of_photo, portrait_from_frame, read_side

        detector = face_detector(self.models_dir)
        candidates = []
        # The photo's card read, when this process made one (a photo's analysis reads the card
        # first), already cut the portrait where the card lies: finding the card and its QR
        # code again cost a front photo ~30 ms.
        read = kept_read_of_photo((digest(data), self.max_pixels), models_dir=self.models_dir)
        if read is not None and read.portrait_found and _on_card(read):
            placed, image = read.portrait, None
        else:
            image, _ = decode_image(data, self.max_pixels)
            # the 2021 front: its QR code places the photo
            placed = portrait_from_frame(image, models_dir=self.models_dir)
            if placed is None:
                side = read_side(image, with_mrz=False, models_dir=self.models_dir)
                placed = side.portrait if side.portrait_found and _on_card(side) else None
        if placed is not None:
            # the face in the cut, looked at every 30°: the cut turned so that it stands up
            # (kept as cut only when no face is seen anywhere: the clerk still sees the card)
            h, w = placed.shape[:2]
            found = (portrait_search.face_angle(to_bgr(placed), (w / 2, h / 2), min(h, w) * 0.5,
                                                detector, expected=0)
                     if detector is not None else None)
            if found is not None:
                candidates.append(portrait_search.upright_portrait(
                    placed, found.centre, found.size, found.angle))
            # the frame searched at any angle too when the cut showed no sure face (the
            # outline's cut may miss the face in a smeared frame; ~0.35 s of YuNet passes);
            # only where a card was found: a plain photo of a face is not a card portrait
            if not portrait_search.sure_and_upright(found):
                if image is None:
                    image, _ = decode_image(data, self.max_pixels)
                hit = portrait_search.find_portrait(image, detector)  # None without a detector
                if hit is not None:
                    candidates.append(hit.crop)
        if not candidates:  # no face seen: the card's cut as it is, or nothing
            candidates = [placed] if placed is not None else []
        if not candidates:
            return None
        # the sharper of the upright cuts with a face (a smeared frame gives a smeared cut)
        best = max(candidates, key=sharpness)
        ok, buf = cv2.imencode(".jpg", best, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else None

    def guidance(self, data: bytes) -> dict:
        """Advice on one preview frame: {"ok", "issues", "messages", "qr_read"} (ImageError if
        the bytes are not a usable image); see :meth:`preview`."""
        advice = self.preview(data)
        return {"ok": advice.ok, "issues": list(advice.issues),
                "messages": list(advice.messages), "qr_read": advice.qr_text is not None}

    def preview(self, data: bytes, *, qr: bool = True, hint: str | None = None) -> PreviewAdvice:
        """Advice on one preview frame, and the card's QR code when this frame shows it readably.
        ``qr=False``: the advice only (the card's QR code is already known). ``hint``: the
        ``track`` of the previous frame's advice, as the browser sent it back (untrusted: see
        :mod:`card_track`); the card is looked for there first, except after
        ``card_track.FOLLOW_AT_MOST`` frames followed in a row.

        A frame bigger than a webcam's is judged at 1280 px wide: the limits are shares of the
        frame, and the analysis then stays within its time budget. The QR code is looked for
        on every frame the advice leaves worth it (:func:`guidance.preview_decoders`: nothing on a
        blurred card; else zxing-cpp on the frame and on the card's straightened corner, then
        WeChat's slower reader on the frame; ``decode_preview_qr``), so
        that the camera's many frames count, not only the one photo taken when the advice turns
        good."""
        from kiosk.vision import card_track
        from kiosk.vision.guidance import analyse_frame, preview_decoders
        from kiosk.vision.qr_decode import decode_preview_qr

        # a photo twice the judged size or more is decoded reduced (JPEG scaling, no resize)
        frame, _ = decode_image(data, self.max_pixels, max_side=GUIDANCE_MAX_SIDE)
        side = max(frame.shape[:2])
        if side > GUIDANCE_MAX_SIDE:
            scale = GUIDANCE_MAX_SIDE / side
            frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        given = card_track.parse_hint(hint, frame.shape[1], frame.shape[0])
        # every few frames followed, one searched whole (card_track.FOLLOW_AT_MOST)
        near = card_track.corners_to_follow(given)
        result = analyse_frame(frame, hint=near)
        decoders = preview_decoders(result) if qr else ()
        found = decode_preview_qr(frame, result.corners, decoders,
                                  region_variants=PREVIEW_REGION_VARIANTS,
                                  frame_variants=PREVIEW_FRAME_VARIANTS) if decoders else None
        return PreviewAdvice(ok=bool(result.ok), issues=tuple(result.issues),
                             messages=tuple(result.messages),
                             qr_text=found.text if found is not None else None,
                             track=card_track.format_hint(
                                 result.corners, given.followed + 1 if result.followed else 0))

    # ---- faces -------------------------------------------------------------------------------
    def compare(self, card_bytes: bytes | list[bytes], face_bytes: bytes, *,
                with_mrz: bool = True, held_card: bool = False) -> dict:
        """Card portrait (or a plain portrait photo) against the live face.

        ``with_mrz=False``: the card's machine-readable zone is not read (``vision verify``
        reports only the decision and the distance; the kiosk reads the zone to cross-check it).
        ``held_card``: the card photos are camera shots of one side each (:meth:`read_card`).

        ``card_bytes``: one photo, or the photos of both sides of the card in any order (the
        portrait comes from the front, the QR fields from whichever side carries the QR).
        ``{"decision", "distance", "model", "shadow", "reference": "card_portrait"|"photo"|None,
        "card": {...the read-card object...}}``. A frame where a card is found is compared
        through its portrait; with no card the first image is taken as a portrait photo (the
        services never accept that alone, since a frame of a hand-held card can also show the
        holder's own face). ``shadow`` is None, or the shadow model's ``{"model", "decision",
        "distance"}`` (``{"model", "error"}`` if it failed): recorded, never deciding.
        """
        from kiosk.vision import faces, portrait_search
        from kiosk.vision.card_portrait import face_detector as card_face_detector
        from kiosk.vision.read_card import merge_sides

        blobs = [card_bytes] if isinstance(card_bytes, bytes | bytearray) else list(card_bytes)
        try:
            face, _ = decode_image(face_bytes, self.max_pixels)
            # each card photo read once per process (step 6 has read them already, mostly)
            sides = self._read_sides(blobs, with_mrz=with_mrz, read_print=True,
                                     held_card=held_card)
        except ImageError:
            return {"decision": "no_face", "distance": None, "model": self.face_model,
                    "shadow": None, "reference": None, "card": {}}
        info, portrait = merge_sides(sides)
        if info["card_found"] or portrait is not None:
            # a card, or a card-sized face at any angle (a card filling the frame, on its side)
            reference, kind = portrait, "card_portrait"  # None: a card without a face (a back)
        else:
            reference, kind = decode_image(blobs[0], self.max_pixels)[0], "photo"
        detector = card_face_detector(self.models_dir)

        def upright_face(image):
            hit = portrait_search.find_portrait(image, detector, min_card_share=0.0)
            return hit.crop if hit is not None else None

        def run(name, thresholds):
            if reference is None:
                return {"decision": "no_face", "distance": None}
            return faces.verify(reference, face, thresholds,
                                model=self.face_model_instance(name),
                                reference_is_crop=kind == "card_portrait",
                                face_fallback=upright_face)

        result = run(self.face_model, self.thresholds)
        shadow = None
        if self.shadow_model:
            try:
                shadow = {"model": self.shadow_model,
                          **run(self.shadow_model, self.shadow_thresholds)}
            except Exception as exc:  # the shadow only measures: it must never stop a decision
                shadow = {"model": self.shadow_model, "error": type(exc).__name__}
        return {**result, "model": self.face_model, "shadow": shadow, "reference": kind,
                "card": info}

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
        not a valid image raises ImageError before any judgement is returned, and so does a
        recording over the budget (frames × pixels), before any frame is decoded."""
        from kiosk.vision.card_portrait import face_detector
        from kiosk.vision.liveness import run_sequence

        deadline = time.monotonic() + self.liveness_time_budget_s
        check_liveness_budget(blobs, min(self.max_pixels, LIVENESS_FRAME_MAX_PIXELS))
        frames = _LazyFrames(stamps, blobs, self.max_pixels)
        # the identity check inside the challenge uses the deciding model (never the other).
        # YuNet finds the face in each frame (dlib's HOG took 15–75 ms a frame: 12–23 s for a
        # recording on a loaded two-core kiosk); dlib's HOG only where YuNet's model is missing.
        status, best = run_sequence(frames, challenge, mirrored=self.mirrored,
                                    model=self.face_model_instance(), deadline=deadline,
                                    detector=face_detector(self.models_dir))
        face_jpeg = None
        if status.state == "passed" and best is not None:
            image = frames[best][1]
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image),
                                   [cv2.IMWRITE_JPEG_QUALITY, 92])
            face_jpeg = buf.tobytes() if ok else blobs[best]
        return LivenessVerdict(state=status.state, reason=status.reason, message=status.message,
                               still=bool(status.still), face_jpeg=face_jpeg)
