"""dlib face models, loaded lazily: once per process, on first use, thread-safe.

Importing this module (or ``kiosk.vision``) loads nothing and does not import
``face_recognition``: the weights come from the ``face_recognition_models`` package's data
folder, found with ``importlib.util.find_spec`` so that its ``pkg_resources`` import never
runs here. Only the models actually used are loaded (the web app needs the HOG detector,
one shape predictor and the ResNet encoder, ≈ 58 MiB of RSS; liveness adds the 68-point
predictor, ≈ 70 MiB; the CNN detector is never loaded unless asked for).

dlib's ResNet keeps per-call buffers inside the network object, so two threads must not run
the same network at once: every call goes through the model's own lock. A kiosk serves one
customer at a time, so serialising inference costs nothing in practice.
"""
from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODEL_FILES = {
    "shape_5": "shape_predictor_5_face_landmarks.dat",
    "shape_68": "shape_predictor_68_face_landmarks.dat",
    "encoder": "dlib_face_recognition_resnet_model_v1.dat",
    "cnn_detector": "mmod_human_face_detector.dat",
}
LANDMARK_MODELS = {"small": "shape_5", "large": "shape_68"}


class ModelsUnavailable(RuntimeError):
    """dlib or the face_recognition_models weights are not installed."""


_registry_lock = threading.Lock()
_models: dict[str, Any] = {}
_call_locks: dict[str, threading.Lock] = {}


def models_dir() -> Path:
    """Folder holding the .dat weights: $KIOSK_DLIB_MODELS_DIR, else face_recognition_models'."""
    override = os.environ.get("KIOSK_DLIB_MODELS_DIR")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelsUnavailable(
            "face_recognition_models is not installed (pip install face-recognition-models==0.3.0)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _dlib():
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ModelsUnavailable("dlib is not installed") from exc
    return dlib


def _weights(name: str) -> str:
    path = models_dir() / MODEL_FILES[name]
    if not path.is_file():
        raise ModelsUnavailable(f"missing model weights: {path}")
    return str(path)


def _factories() -> dict[str, Callable[[], Any]]:
    dlib = _dlib()
    return {
        "hog_detector": dlib.get_frontal_face_detector,
        "cnn_detector": lambda: dlib.cnn_face_detection_model_v1(_weights("cnn_detector")),
        "shape_5": lambda: dlib.shape_predictor(_weights("shape_5")),
        "shape_68": lambda: dlib.shape_predictor(_weights("shape_68")),
        "encoder": lambda: dlib.face_recognition_model_v1(_weights("encoder")),
    }


def get(name: str) -> tuple[Any, threading.Lock]:
    """The model called ``name`` and the lock to hold while calling it (loads it once)."""
    model = _models.get(name)
    if model is None:
        with _registry_lock:
            model = _models.get(name)
            if model is None:
                factories = _factories()
                if name not in factories:
                    raise KeyError(f"unknown face model {name!r}")
                model = factories[name]()
                _call_locks[name] = threading.Lock()
                _models[name] = model
    return model, _call_locks[name]


def loaded() -> list[str]:
    """Names of the models loaded so far in this process."""
    return sorted(_models)


def preload(landmark_model: str = "small", liveness: bool = True) -> list[str]:
    """Load what verification (and, if asked, liveness) needs, e.g. at app start-up."""
    get("hog_detector")
    get(LANDMARK_MODELS[landmark_model])
    get("encoder")
    if liveness:
        get("shape_68")
    return loaded()


def uses_blas() -> bool:
    """True when dlib was compiled against BLAS (several times faster encodings)."""
    return bool(getattr(_dlib(), "DLIB_USE_BLAS", False))


# ----------------------------------------------------------------------------- calls
# Thin wrappers that hold the model's lock. Images are uint8 RGB (H, W, 3), C-contiguous.


def detect_hog(rgb, upsample: int) -> list[tuple[Any, float]]:
    """HOG detections as (dlib.rectangle, score), best first."""
    detector, lock = get("hog_detector")
    with lock:
        rects, scores, _ = detector.run(rgb, upsample, 0.0)
    return sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[1])


def detect_cnn(rgb, upsample: int) -> list[tuple[Any, float]]:
    detector, lock = get("cnn_detector")
    with lock:
        found = detector(rgb, upsample)
    return sorted(((d.rect, d.confidence) for d in found), key=lambda rs: -rs[1])


def shape(rgb, rect, landmark_model: str = "small"):
    """dlib full_object_detection (5 or 68 points) for the face in ``rect``."""
    predictor, lock = get(LANDMARK_MODELS[landmark_model])
    with lock:
        return predictor(rgb, rect)


def descriptor(rgb, face_shape, num_jitters: int = 1):
    """The 128-d face descriptor (dlib.vector) of an aligned face."""
    encoder, lock = get("encoder")
    with lock:
        return encoder.compute_face_descriptor(rgb, face_shape, num_jitters)
