"""The one stand-in for the eKYC engine (kiosk.vision.engine.EkycEngine), installed through the
seam ``app.extensions["kiosk_ekyc"]``.

The ``app`` fixture installs it by default: a wizard test learns nothing from OpenCV reading a
noise photo, and the real engine costs seconds per request. Tests that assert what the real
vision says carry ``@pytest.mark.real_vision`` and get the real engine instead.

What it answers is scripted per test (attributes, or :meth:`script`); left alone it says what
the real engine says about a photo with no card and no face in it (the KioskDriver's noise
JPEGs): no card read, no face, liveness timed out. Image checks stay real (``check_image``,
the liveness budget): they are input validation, and cheap. ``FakeEkycEngine.around(real,
scripted={...})`` scripts only the named methods and passes the others to the real engine (a
real-vision face test whose liveness challenge is scripted to pass).

It does not inherit from EkycEngine on purpose: a method the fake forgot would otherwise fall
through to real vision silently. tests/test_fake_ekyc.py holds it to the engine's public
methods and signatures, and its blank answers to the real ones' shape.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from kiosk.domain.face_decision import FaceThresholds
from kiosk.vision.engine import (
    LIVENESS_FRAME_MAX_PIXELS,
    EkycEngine,
    LivenessVerdict,
    PreviewAdvice,
    check_liveness_budget,
    model_thresholds,
)
from kiosk.vision.images import ImageError, check_usable

NO_CARD_MESSAGE = "Chưa thấy giấy tờ trong khung"
TIMEOUT_MESSAGE = "Hết thời gian mà chưa làm xong các thao tác. Vui lòng thử lại."
FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender", "address",
          "issue_date")


def blank_quality() -> dict:
    """A read's ``quality`` when no card was seen (the real engine's keys)."""
    return {"ok": False, "issues": ["no_card"], "messages": [NO_CARD_MESSAGE],
            "frame_width": 640, "frame_height": 480, "brightness": 127.0,
            "card_located_by": None, "upside_down": False, "qr_found": False,
            "qr_decoder": None, "qr_valid": False, "qr_error": None, "mrz_found": False,
            "mrz_valid": False, "side": None, "printed_read": False, "printed_problems": []}


def blank_read(count: int = 1) -> dict:
    """The read-card object for ``count`` photos in which nothing was found."""
    quality = blank_quality()
    if count > 1:
        quality["images"] = [blank_quality() for _ in range(count)]
    return {"card_found": False, **dict.fromkeys(FIELDS), "portrait_found": False,
            "quality": quality, "card_kind": None, "expiry_date": None, "expiry_known": False,
            "sides": [None] * count,
            "mrz": {"found": False, "valid": False, "document_number": None,
                    "date_of_birth": None, "sex": None, "expiry_date": None},
            "mismatches": [], "field_sources": {}}


# The methods that do vision: scripted here, or passed to the real engine by a fake ``around`` it.
VISION_METHODS = ("read_card", "card_portrait_jpeg", "preview", "compare", "judge_liveness")


class FakeEkycEngine:
    """The engine's interface with scripted answers.

    Script (all optional, settable any time during a test):

    - ``card``: read-card fields laid over the blank read (``read_card``, and ``compare``'s
      ``card``), e.g. ``{"card_found": True, "id_number": "038085012345", ...}``;
    - ``decision`` ("match" | "review" | "no_match" | "no_face") and ``distance`` (None: a
      distance on the right side of this engine's thresholds), ``reference`` (None: the card's
      portrait when a face was compared, else "photo" as the real engine on a card-less photo);
    - ``liveness``: "passed" | "failed" (reason ``liveness_reason``), or a whole
      LivenessVerdict; a passed challenge keeps the first frame as the face photo;
    - ``portrait``: what ``card_portrait_jpeg`` returns (None: no portrait found);
    - ``advice``: the PreviewAdvice for every preview frame;
    - :meth:`on`: a callback run before a method answers (to block, count, or raise).

    ``calls`` lists ``(method, kwargs)`` of every vision call, for tests about what was asked.
    """

    def __init__(self, thresholds: FaceThresholds, max_pixels: int, mirrored: bool = False,
                 face_model: str = "sface", models_dir: str | Path | None = None,
                 shadow_model: str | None = None,
                 shadow_thresholds: FaceThresholds | None = None):
        self.thresholds = thresholds
        self.max_pixels = max_pixels
        self.mirrored = mirrored
        self.face_model = face_model
        self.models_dir = models_dir
        self.shadow_model = shadow_model
        self.shadow_thresholds = shadow_thresholds
        self.card: dict = {}
        self.decision = "no_face"
        self.distance: float | None = None
        self.reference: str | None = None
        self.liveness: str | LivenessVerdict = "failed"
        self.liveness_reason = "timeout"
        self.portrait: bytes | None = None
        self.advice = PreviewAdvice(ok=False, issues=("no_card",), messages=(NO_CARD_MESSAGE,),
                                    qr_text=None)
        self.calls: list[tuple[str, dict]] = []
        self._hooks: dict[str, Callable] = {}
        self._real: EkycEngine | None = None
        self._scripted: frozenset[str] = frozenset()

    # ---- building and scripting --------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping) -> FakeEkycEngine:
        model = config.get("FACE_MODEL") or "sface"
        shadow = config.get("FACE_SHADOW_MODEL") or None
        return cls(thresholds=model_thresholds(config, model),
                   max_pixels=config["MAX_IMAGE_PIXELS"],
                   mirrored=config["LIVENESS_MIRRORED"], face_model=model,
                   models_dir=config.get("FACE_MODELS_DIR") or None, shadow_model=shadow,
                   shadow_thresholds=model_thresholds(config, shadow) if shadow else None)

    @classmethod
    def like(cls, engine: EkycEngine | FakeEkycEngine) -> FakeEkycEngine:
        """A fake with ``engine``'s settings (thresholds, pixel limit, mirroring, models)."""
        return cls(engine.thresholds, engine.max_pixels, engine.mirrored, **engine.settings())

    @classmethod
    def around(cls, real: EkycEngine, *, scripted: set[str] | frozenset[str]) -> FakeEkycEngine:
        """The real engine, except for the methods named in ``scripted`` (e.g. a face test
        with real models whose liveness challenge is scripted to pass)."""
        unknown = set(scripted) - set(VISION_METHODS)
        if unknown:
            raise AttributeError(f"not vision methods of the engine: {sorted(unknown)}")
        fake = cls.like(real)
        fake._real, fake._scripted = real, frozenset(scripted)
        return fake

    def _passthrough(self, method: str) -> EkycEngine | None:
        """The real engine when ``method`` is not scripted (a fake made by :meth:`around`)."""
        if self._real is not None and method not in self._scripted:
            return self._real
        return None

    def script(self, **answers) -> FakeEkycEngine:
        """Set several answers at once: ``fake.script(decision="review", distance=0.5)``."""
        for name, value in answers.items():
            if name.startswith("_") or not hasattr(self, name) or callable(getattr(self, name)):
                raise AttributeError(f"the fake eKYC engine has no answer named {name!r}")
            setattr(self, name, value)
        return self

    def on(self, method: str, callback: Callable) -> None:
        """Run ``callback(*args, **kwargs)`` each time ``method`` is called, before it answers."""
        if not callable(getattr(type(self), method, None)):
            raise AttributeError(f"the eKYC engine has no method {method!r}")
        self._hooks[method] = callback

    def _called(self, method: str, *args, **kwargs) -> None:
        self.calls.append((method, kwargs))
        hook = self._hooks.get(method)
        if hook is not None:
            hook(*args, **kwargs)

    def settings(self) -> dict:
        return {"face_model": self.face_model, "models_dir": self.models_dir,
                "shadow_model": self.shadow_model, "shadow_thresholds": self.shadow_thresholds}

    # ---- models: none to load ----------------------------------------------------------------
    def face_model_instance(self, name: str | None = None):
        if self._real is not None:
            return self._real.face_model_instance(name)
        raise RuntimeError("the fake eKYC engine has no face model: mark the test "
                           "@pytest.mark.real_vision to use the real one")

    def model_problem(self) -> str | None:
        return self._real.model_problem() if self._real is not None else None

    def preload(self) -> None:
        self._called("preload")
        if self._real is not None:
            self._real.preload()

    # ---- images: the real checks --------------------------------------------------------------
    def check_image(self, data: bytes) -> str:
        return check_usable(data, self.max_pixels)

    def frame_hash(self, data: bytes) -> int:
        # the real hash: cheap, and tests of step 6 send the same bytes to mean the same frame
        from kiosk.vision.images import difference_hash

        return difference_hash(data, self.max_pixels)

    # ---- cards -------------------------------------------------------------------------------
    def _read(self, images: list[bytes]) -> dict:
        return {**blank_read(len(images)), **self.card}

    def read_card(self, images: list[bytes] | bytes, *, read_print: bool = True,
                  held_card: bool = False, hint: str | None = None) -> dict:
        if (real := self._passthrough("read_card")) is not None:
            return real.read_card(images, read_print=read_print, held_card=held_card, hint=hint)
        if isinstance(images, bytes | bytearray):
            images = [bytes(images)]
        for data in images:
            self.check_image(data)  # the real engine decodes each photo: ImageError alike
        # the hint is recorded only when one was given, so the calls without one read as before
        self._called("read_card", images, read_print=read_print, held_card=held_card,
                     **({"hint": hint} if hint is not None else {}))
        return self._read(list(images))

    def card_portrait_jpeg(self, data: bytes) -> bytes | None:
        if (real := self._passthrough("card_portrait_jpeg")) is not None:
            return real.card_portrait_jpeg(data)
        self.check_image(data)
        self._called("card_portrait_jpeg", data)
        return self.portrait

    def guidance(self, data: bytes) -> dict:
        advice = self.preview(data)
        return {"ok": advice.ok, "issues": list(advice.issues),
                "messages": list(advice.messages), "qr_read": advice.qr_text is not None}

    def preview(self, data: bytes, *, qr: bool = True, hint: str | None = None) -> PreviewAdvice:
        if (real := self._passthrough("preview")) is not None:
            return real.preview(data, qr=qr, hint=hint)
        self.check_image(data)
        self._called("preview", data, qr=qr, hint=hint)
        return self.advice if qr else replace(self.advice, qr_text=None)

    # ---- faces -------------------------------------------------------------------------------
    def _distance(self) -> float | None:
        if self.distance is not None or self.decision == "no_face":
            return self.distance
        accept, reject = self.thresholds.accept, self.thresholds.reject
        return {"match": accept * 0.8, "review": (accept + reject) / 2,
                "no_match": reject + 0.2}[self.decision]

    def compare(self, card_bytes: bytes | list[bytes], face_bytes: bytes, *,
                with_mrz: bool = True, held_card: bool = False) -> dict:
        if (real := self._passthrough("compare")) is not None:
            return real.compare(card_bytes, face_bytes, with_mrz=with_mrz, held_card=held_card)
        blobs = [card_bytes] if isinstance(card_bytes, bytes | bytearray) else list(card_bytes)
        self._called("compare", blobs, face_bytes, with_mrz=with_mrz, held_card=held_card)
        try:
            for data in [*blobs, face_bytes]:
                self.check_image(data)
        except ImageError:  # as the real engine: an unusable photo is "no face", not an error
            return {"decision": "no_face", "distance": None, "model": self.face_model,
                    "shadow": None, "reference": None, "card": {}}
        card = self._read(blobs)
        reference = self.reference or (
            "card_portrait" if self.decision != "no_face" or card["card_found"] else "photo")
        distance = self._distance()
        shadow = None
        if self.shadow_model:
            shadow = {"model": self.shadow_model, "decision": self.decision,
                      "distance": distance}
        return {"decision": self.decision, "distance": distance, "model": self.face_model,
                "shadow": shadow, "reference": reference, "card": card}

    # ---- liveness ----------------------------------------------------------------------------
    def new_challenge(self, rng) -> list[str]:
        from kiosk.vision.liveness import new_challenge

        return new_challenge(rng)

    @staticmethod
    def prompts() -> dict[str, str]:
        return EkycEngine.prompts()

    def judge_liveness(self, stamps: list[float], blobs: list[bytes],
                       challenge: list[str]) -> LivenessVerdict:
        if (real := self._passthrough("judge_liveness")) is not None:
            return real.judge_liveness(stamps, blobs, challenge)
        # the real engine refuses an over-budget or undecodable recording before judging it
        check_liveness_budget(blobs, min(self.max_pixels, LIVENESS_FRAME_MAX_PIXELS))
        for data in blobs:
            self.check_image(data)
        self._called("judge_liveness", stamps, blobs, challenge)
        if isinstance(self.liveness, LivenessVerdict):
            return self.liveness
        if self.liveness == "passed":
            return LivenessVerdict(state="passed", reason=None, message="ok", still=False,
                                   face_jpeg=blobs[0])
        return LivenessVerdict(state="failed", reason=self.liveness_reason,
                               message=TIMEOUT_MESSAGE, still=False, face_jpeg=None)
