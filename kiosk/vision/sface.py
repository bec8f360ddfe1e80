"""Face identity with OpenCV Zoo's YuNet detector and SFace recognizer (pure, no Flask).

``distance = 1 − cosine(SFace(a), SFace(b))`` on 128-d SFace features of faces found by YuNet
and aligned by ``cv2.FaceRecognizerSF.alignCrop`` on YuNet's five landmarks. Both networks run
through OpenCV's own DNN module (``cv2.FaceDetectorYN`` / ``cv2.FaceRecognizerSF``): no
onnxruntime, no dlib. The two .onnx files are installed at set-up by scripts/install_models.py
(into ``<repo>/models/`` unless FACE_MODELS_DIR / $KIOSK_FACE_MODELS_DIR says otherwise) and
checked here — size and sha256 — before they are loaded: a missing or altered file is a
``ModelsMissing`` error naming the fix, never a silent fallback to another model.

Detection speed and card portraits (docs/vision-faces.md, "Card portraits through the webcam"):
a camera frame is shrunk to at most ``DETECT_MAX_SIDE`` before YuNet (its cost grows with the
pixel count) and the face is aligned on the original pixels. A printed card portrait seen by a
webcam is small (≈ 60–170 px wide in a 1280×720 frame) and blurred; the card reader hands
over the portrait rectified to a fixed 228×278 px, so the face in the crop is always about the
same size, and tightly framed. Measured on synthetic card scenes of the calibration photos
(bench/bench_card_faces.py --sweep): YuNet finds the face in every crop at any setting (no-face
0 %); what the setting changes is the landmark placement, hence the alignment and the
distance. Scaling the crop so its longer side is ``PORTRAIT_SIDE`` = 160 px (the face then
≈ 70 px, where YuNet is most at home — upscaling to 320–448 px did slightly worse), padding it
by a quarter with its own edge pixels (so the face does not touch the border) and accepting a
score of 0.5 (the crop is known to hold one face) gave the fewest same-person no-matches.
"""
from __future__ import annotations

import hashlib
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kiosk.vision.face_model import Embedding, FaceModel

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ModelFile:
    role: str
    size: int
    sha256: str
    licence: str


DETECTOR_FILE = "face_detection_yunet_2023mar.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec.onnx"
# OpenCV Zoo's published values (docs/dependencies.md, NOTICE); the installer checks the same.
MODEL_FILES = {
    DETECTOR_FILE: ModelFile("detector", 232_589,
                             "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
                             "MIT"),
    RECOGNIZER_FILE: ModelFile("recognizer", 38_696_353,
                               "0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
                               "Apache-2.0"),
}

DETECT_MAX_SIDE = 640  # frames are shrunk to this before YuNet (a 640×480 selfie is not)
SCORE_THRESHOLD = 0.6  # YuNet confidence for a camera frame or photo
PORTRAIT_SIDE = 160  # a card-portrait crop is scaled so its longer side is this
PORTRAIT_PAD = 0.25  # …and padded by this share of its size on every side
PORTRAIT_SCORE_THRESHOLD = 0.5  # a crop is known to hold one face: accept a weaker detection
NMS_THRESHOLD = 0.3
TOP_K = 50
FIX_HINT = "run scripts/setup.sh (it installs them with scripts/install_models.py)"


class ModelsMissing(RuntimeError):
    """The YuNet/SFace model files are missing or are not the expected files."""


def default_models_dir() -> Path:
    """$KIOSK_FACE_MODELS_DIR (the FACE_MODELS_DIR setting), else ``<repo>/models``."""
    override = os.environ.get("KIOSK_FACE_MODELS_DIR")
    return Path(override) if override else ROOT / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_problem(path: Path, name: str) -> str | None:
    """What is wrong with the model file at ``path`` (expected to be ``name``), or None."""
    expected = MODEL_FILES[name]
    if not path.is_file():
        return f"missing {path}"
    size = path.stat().st_size
    if size != expected.size:
        return f"{path} has {size:,} bytes, expected {expected.size:,}"
    if _sha256(path) != expected.sha256:
        return f"{path} is not the expected file (sha256 differs)"
    return None


def check_models(folder: Path) -> None:
    """Raise ModelsMissing naming the fix unless both files are in ``folder`` and intact."""
    problems = [p for name in MODEL_FILES if (p := file_problem(folder / name, name))]
    if problems:
        raise ModelsMissing("YuNet/SFace face models unavailable: " + "; ".join(problems)
                            + f" — {FIX_HINT}")


def _bgr(image: np.ndarray) -> np.ndarray:
    if image is None or not isinstance(image, np.ndarray) or image.size == 0:
        raise ValueError("expected a non-empty image array")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError(f"unsupported image shape {image.shape}")


@contextmanager
def _quiet_opencv():
    """OpenCV 5 warns on stderr that its new DNN engine ignores the (default) target when the
    networks are created: harmless, but it would land in the CLI's output. Silence it there."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    level = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        yield
    finally:
        logging.setLogLevel(level)


class SFaceModel(FaceModel):
    """YuNet + SFace, loaded once (on first use or ``load()``), one lock per network.

    OpenCV's DNN objects keep per-call state, so two threads must not run one at once; a kiosk
    serves one customer at a time, so serialising costs nothing in practice.
    """

    name = "sface"
    # Same person within one liveness recording, seconds apart, is far closer than this; the
    # calibrated accept threshold is the strictest value that still never refuses a genuine
    # customer on the test set (docs/vision-faces.md, "Liveness").
    identity_threshold = 0.58

    def __init__(self, models_dir: Path | str | None = None):
        self.models_dir = Path(models_dir) if models_dir else default_models_dir()
        self._lock = threading.Lock()
        self._detector = None
        self._recognizer = None
        self._detector_lock = threading.Lock()
        self._recognizer_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._recognizer is not None

    def load(self) -> None:
        if self._recognizer is not None:
            return
        with self._lock:
            if self._recognizer is not None:
                return
            check_models(self.models_dir)
            with _quiet_opencv():
                if self._detector is None:
                    self._detector = self._create_detector()
                self._recognizer = cv2.FaceRecognizerSF.create(
                    str(self.models_dir / RECOGNIZER_FILE), "")

    def load_detector(self) -> None:
        """Load YuNet alone (the card reader only looks for a portrait's face; SFace, 38 MB,
        loads on the first comparison). ModelsMissing if its file is missing or altered."""
        if self._detector is not None:
            return
        with self._lock:
            if self._detector is not None:
                return
            problem = file_problem(self.models_dir / DETECTOR_FILE, DETECTOR_FILE)
            if problem:
                raise ModelsMissing(f"YuNet face detector unavailable: {problem} — {FIX_HINT}")
            with _quiet_opencv():
                self._detector = self._create_detector()

    def _create_detector(self):
        return cv2.FaceDetectorYN.create(str(self.models_dir / DETECTOR_FILE), "", (320, 320),
                                         SCORE_THRESHOLD, NMS_THRESHOLD, TOP_K)

    # ---- detection -------------------------------------------------------------------------
    def detect(self, image_bgr: np.ndarray, portrait: bool = False,
               score_threshold: float | None = None, portrait_side: int = PORTRAIT_SIDE,
               portrait_pad: float = PORTRAIT_PAD, max_side: int = DETECT_MAX_SIDE
               ) -> np.ndarray:
        """YuNet rows in ``image_bgr`` coordinates, largest face first.

        Each row: x, y, w, h, five (x, y) landmarks (right eye, left eye, nose tip, mouth
        corners), score — the layout ``alignCrop`` expects. ``portrait=True`` for a tight crop
        of a (card) portrait: scaled to ``portrait_side`` and padded first (module docstring); the
        ``portrait_*`` and ``score_threshold`` overrides are for bench/bench_card_faces.py.
        ``max_side``: a frame is shrunk to this first (a card portrait small in a big photo
        needs more than a selfie's 640 px).
        """
        self.load_detector()
        image = _bgr(image_bgr)
        height, width = image.shape[:2]
        if portrait:
            scale = portrait_side / max(height, width)
            threshold = PORTRAIT_SCORE_THRESHOLD if score_threshold is None else score_threshold
        else:
            scale = min(1.0, max_side / max(height, width))
            threshold = SCORE_THRESHOLD if score_threshold is None else score_threshold
        work = image
        if abs(scale - 1.0) > 1e-3:
            work = cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                              interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        pad = round(portrait_pad * max(work.shape[:2])) if portrait else 0
        if pad:
            work = cv2.copyMakeBorder(work, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        with self._detector_lock:
            self._detector.setInputSize((work.shape[1], work.shape[0]))
            self._detector.setScoreThreshold(float(threshold))
            _, rows = self._detector.detect(work)
        if rows is None or len(rows) == 0:
            return np.zeros((0, 15), np.float32)
        rows = rows.astype(np.float32).copy()
        # back to the caller's pixels: undo the padding, then the scaling (not the score)
        rows[:, :14] -= pad
        rows[:, 2:4] += pad  # width and height are sizes, not positions
        rows[:, :14] /= scale
        order = np.argsort(-(rows[:, 2] * rows[:, 3]))
        return rows[order]

    # ---- identity --------------------------------------------------------------------------
    def feature(self, image_bgr: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Unit-length 128-d SFace feature of the face ``row`` (aligned on the original pixels)."""
        self.load()
        image = _bgr(image_bgr)
        with self._recognizer_lock:
            aligned = self._recognizer.alignCrop(image, row)
            vector = self._recognizer.feature(aligned).reshape(-1).astype(np.float64)
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm <= 0:
            raise ValueError("SFace returned an empty feature")
        return vector / norm

    def embed(self, image_bgr: np.ndarray, portrait: bool = False, **detect_options
              ) -> Embedding | None:
        rows = self.detect(image_bgr, portrait=portrait, **detect_options)
        if not len(rows):
            return None
        row = rows[0]
        x, y, w, h = (float(v) for v in row[:4])
        box = (round(x), round(y), round(x + w), round(y + h))
        return Embedding(model=self.name, vector=self.feature(image_bgr, row), box=box,
                         score=float(row[14]))

    def _vector_distance(self, a: np.ndarray, b: np.ndarray) -> float:
        # features are unit length; clip so that rounding never gives a distance below 0
        return float(np.clip(1.0 - float(np.dot(a, b)), 0.0, 2.0))
