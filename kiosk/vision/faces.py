"""Face identity: the model interface, dlib's encoder, and card-portrait ↔ live-face verification.

Two face models implement ``FaceModel`` (embed an image's largest face, distance between two
embeddings of *that* model): ``sface`` (OpenCV Zoo's YuNet + SFace, kiosk/vision/sface.py, the
default) and ``dlib`` (dlib's HOG detector + ResNet encoder, below, selectable as a fallback).
An ``Embedding`` carries the name of the model that made it, and ``FaceModel.distance`` refuses
an embedding of another model: the two models' distances live on different scales, so mixing
them would be silently wrong. ``get_model`` keeps one instance per model and folder per process
(models are loaded once, on first use or ``load()``).

dlib speed: HOG detection cost grows with the pixel count, so a big frame is shrunk to at most
``DETECT_MAX_SIDE`` pixels and searched without upsampling; only when that finds nothing is it
searched again at 2× (small or distant faces). The landmarks and the 128-d encoding are then
computed on a crop of the *original* image around the face, so shrinking for detection loses
no detail in the encoding. See docs/vision-faces.md for the measurements behind the defaults.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.domain.face_decision import DEFAULT_THRESHOLDS, FaceThresholds, decide
from kiosk.vision import dlib_models as models
from kiosk.vision.face_model import Embedding, FaceModel

DETECT_MAX_SIDE = 480  # frames larger than this are shrunk before HOG detection
# A live face found with less confidence than this (YuNet's score; a customer in front of the
# kiosk scores 0.9 and more) is checked against the search at any angle (``face_fallback``).
FALLBACK_BELOW = 0.85
CROP_MARGIN = 0.6  # crop around the detected box, as a share of its size, for landmarks
DEFAULT_LANDMARK_MODEL = "small"  # 5-point alignment; see docs/vision-faces.md

Location = tuple[int, int, int, int]  # (top, right, bottom, left), face_recognition's order


@dataclass(frozen=True)
class FaceResult:
    location: Location  # in the input image's pixel coordinates
    encoding: np.ndarray | None  # shape (128,), float64 (None when not asked for)
    landmarks: np.ndarray  # shape (5, 2) or (68, 2), int, input image coordinates (x, y)
    score: float = 0.0  # detector confidence

    @property
    def size(self) -> int:
        top, right, bottom, left = self.location
        return min(right - left, bottom - top)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """BGR, BGRA or grayscale uint8 array → C-contiguous RGB uint8 (what dlib wants)."""
    if image is None or not isinstance(image, np.ndarray) or image.size == 0:
        raise ValueError("expected a non-empty image array")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_GRAY2RGB))
    if image.ndim == 3 and image.shape[2] == 1:
        return np.ascontiguousarray(cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2RGB))
    if image.ndim == 3 and image.shape[2] == 4:
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGRA2RGB))
    if image.ndim == 3 and image.shape[2] == 3:
        return np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    raise ValueError(f"unsupported image shape {image.shape}")


def detect_faces(rgb: np.ndarray, upsample: int | None = None, model: str = "hog",
                 detect_max_side: int = DETECT_MAX_SIDE):
    """Face rectangles in ``rgb`` coordinates as [(left, top, right, bottom, score)], best first.

    The image is shrunk so that its longer side is at most ``detect_max_side``. With
    ``upsample=None`` (automatic) the detector first looks at that resolution and, only if it
    finds nothing, once more at twice the resolution (small or distant faces): a customer in
    front of the kiosk or a card portrait is found by the cheap pass.
    """
    if model not in ("hog", "cnn"):
        raise ValueError(f"unknown detector model {model!r}")
    height, width = rgb.shape[:2]
    scale = min(1.0, detect_max_side / max(height, width))
    small = rgb
    if scale < 1.0:
        small = np.ascontiguousarray(cv2.resize(
            rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
            interpolation=cv2.INTER_AREA))
    run = models.detect_cnn if model == "cnn" else models.detect_hog
    found = run(small, 0 if upsample is None else upsample)
    if not found and upsample is None:
        found = run(small, 1)
    out = []
    for rect, score in found:
        left, top = round(rect.left() / scale), round(rect.top() / scale)
        right, bottom = round(rect.right() / scale), round(rect.bottom() / scale)
        out.append((left, top, right, bottom, float(score)))
    return out


def _largest(boxes):
    return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))


def encode_face(rgb: np.ndarray, box, landmark_model: str = DEFAULT_LANDMARK_MODEL,
                num_jitters: int = 1, encode: bool = True) -> FaceResult:
    """Landmarks + encoding of the face in ``box`` (left, top, right, bottom[, score]).

    Works on a crop of ``rgb`` around the box, at the image's own resolution. With
    ``encode=False`` only the landmarks are computed (liveness frames).
    """
    import dlib

    left, top, right, bottom = (int(v) for v in box[:4])
    score = float(box[4]) if len(box) > 4 else 0.0
    height, width = rgb.shape[:2]
    mx = int((right - left) * CROP_MARGIN)
    my = int((bottom - top) * CROP_MARGIN)
    x0, y0 = max(0, left - mx), max(0, top - my)
    x1, y1 = min(width, right + mx), min(height, bottom + my)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    rect = dlib.rectangle(left - x0, top - y0, right - x0, bottom - y0)
    face_shape = models.shape(crop, rect, landmark_model)
    encoding = None
    if encode:
        encoding = np.array(models.descriptor(crop, face_shape, num_jitters), dtype=np.float64)
    points = np.array([(p.x + x0, p.y + y0) for p in face_shape.parts()], dtype=np.int32)
    location = (max(top, 0), min(right, width), min(bottom, height), max(left, 0))
    return FaceResult(location=location, encoding=encoding, landmarks=points, score=score)


def largest_face_encoding(image_bgr: np.ndarray, upsample: int | None = None, model: str = "hog",
                          landmark_model: str = DEFAULT_LANDMARK_MODEL, num_jitters: int = 1,
                          detect_max_side: int = DETECT_MAX_SIDE) -> FaceResult | None:
    """The largest face in a BGR (or grayscale/BGRA) image with its encoding, or None.

    ``upsample=None`` picks the detector resolution automatically (see ``detect_faces``).
    """
    rgb = to_rgb(image_bgr)
    boxes = detect_faces(rgb, upsample=upsample, model=model, detect_max_side=detect_max_side)
    if not boxes:
        return None
    return encode_face(rgb, _largest(boxes), landmark_model=landmark_model,
                       num_jitters=num_jitters)


def face_distance(a, b) -> float:
    """Euclidean distance between two 128-d encodings (FaceResult or arrays)."""
    va = np.asarray(a.encoding if isinstance(a, FaceResult) else a, dtype=np.float64)
    vb = np.asarray(b.encoding if isinstance(b, FaceResult) else b, dtype=np.float64)
    if va.shape != (128,) or vb.shape != (128,):
        raise ValueError("face encodings must have shape (128,)")
    return float(np.linalg.norm(va - vb))


# ----------------------------------------------------------------------------- models


class DlibFaceModel(FaceModel):
    """dlib's HOG detector, 5-point alignment and ResNet encoder; Euclidean distance."""

    name = "dlib"
    identity_threshold = 0.5  # unchanged from before SFace (docs/vision-faces.md, "Liveness")

    def load(self) -> None:
        models.get("hog_detector")
        models.get(models.LANDMARK_MODELS[DEFAULT_LANDMARK_MODEL])
        models.get("encoder")

    def embed(self, image_bgr: np.ndarray, portrait: bool = False) -> Embedding | None:
        # dlib's automatic 2× pass already covers small portraits: ``portrait`` changes nothing
        face = largest_face_encoding(image_bgr)
        if face is None:
            return None
        top, right, bottom, left = face.location
        return Embedding(model=self.name, vector=face.encoding, box=(left, top, right, bottom),
                         score=face.score)

    def _vector_distance(self, a: np.ndarray, b: np.ndarray) -> float:
        return face_distance(a, b)


MODEL_NAMES = ("sface", "dlib")
_instances: dict[tuple[str, str], FaceModel] = {}
_instances_lock = threading.Lock()


def get_model(name: str, models_dir: str | Path | None = None) -> FaceModel:
    """The process-wide instance of face model ``name`` (``models_dir``: SFace's folder)."""
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown face model {name!r} (expected one of {', '.join(MODEL_NAMES)})")
    key = (name, str(models_dir or "") if name == "sface" else "")
    with _instances_lock:
        model = _instances.get(key)
        if model is None:
            if name == "sface":
                from kiosk.vision.sface import SFaceModel

                model = SFaceModel(models_dir)
            else:
                model = DlibFaceModel()
            _instances[key] = model
    return model


def _reference_embedding(model: FaceModel, reference: np.ndarray, portrait: bool):
    """The reference's embedding, kept per process by the digest of its pixels: a second face
    attempt compares the same card portrait with a new face (photo_cache)."""
    from kiosk.vision.photo_cache import PORTRAIT_EMBEDDINGS, array_digest

    # the model object itself (hashed by identity): one entry per model instance and folder
    key = (model, portrait, array_digest(reference))
    return PORTRAIT_EMBEDDINGS.get_or_compute(key, lambda: model.embed(reference, portrait=portrait))


def verify(card_or_portrait_bgr: np.ndarray, face_bgr: np.ndarray,
           thresholds: FaceThresholds = DEFAULT_THRESHOLDS,
           portrait_locator: Callable[[np.ndarray], np.ndarray | None] | None = None,
           model: FaceModel | None = None, reference_is_crop: bool = False,
           face_fallback: Callable[[np.ndarray], np.ndarray | None] | None = None) -> dict:
    """Compare the card portrait (or a portrait photo) with the live face.

    ``model`` defaults to dlib's (whose thresholds ``DEFAULT_THRESHOLDS`` are); pass the
    thresholds calibrated for the model you pass. ``portrait_locator`` (e.g.
    ``card_portrait.portrait_crop``) cuts the portrait out of a card frame; when it finds none the
    result is ``no_face`` — the whole frame is *not* searched instead, because a frame of a
    hand-held card may also show the holder's own face. ``reference_is_crop``: the first image
    already is a portrait cut from a card (implied by a locator). ``face_fallback``: where no
    upright face is found in ``face_bgr``, a search at any angle that returns an upright crop
    (a photo taken sideways, a card held on its side).
    Returns ``{"decision": "match"|"review"|"no_match"|"no_face", "distance": float|None}``.
    """
    model = model or get_model("dlib")
    reference = card_or_portrait_bgr
    if portrait_locator is not None:
        reference = portrait_locator(card_or_portrait_bgr)
        reference_is_crop = True
        if reference is None or getattr(reference, "size", 0) == 0:
            return {"decision": "no_face", "distance": None}
    ref_face = _reference_embedding(model, reference, reference_is_crop)
    if ref_face is None:
        return {"decision": "no_face", "distance": None}
    live_face = model.embed(face_bgr)
    if face_fallback is not None and (live_face is None
                                      or 0 < live_face.score < FALLBACK_BELOW):
        # no upright face, or only a doubtful one (a pattern in the background): the search
        # at any angle, whose face is taken when the detector is surer of it
        turned = face_fallback(face_bgr)
        other = model.embed(turned, portrait=True) if turned is not None else None
        if other is not None and (live_face is None or other.score > live_face.score):
            live_face = other
    if live_face is None:
        return {"decision": "no_face", "distance": None}
    distance = model.distance(ref_face, live_face)
    return {"decision": decide(distance, thresholds), "distance": round(distance, 4)}
