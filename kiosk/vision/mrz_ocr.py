"""Find and read the machine-readable zone (MRZ) of an ID card back or a passport data page.

Pure OpenCV + Tesseract, no Flask. The zone is found wherever it is in the frame (the card's
outline is not needed): the classic morphology for dark OCR-B text on a light ground
(black-hat → horizontal gradient → closing into line blocks → a block 3–16 times wider than
high), each candidate straightened with its minimum-area rectangle, brought to a size where the
OCR-B characters are ~20 px wide, and read by the OCR-B grid reader, then by Tesseract
(``tesserocr``, in process; the ``eng`` model from Debian's ``tesseract-ocr-eng``) limited to
the MRZ alphabet. The lines are parsed and
their check digits verified by :mod:`kiosk.domain.identity.mrz`: a read counts only when every
check digit agrees, so an OCR slip never becomes data.

Why these readers (bench/bench_mrz.py, docs/vision-card.md): Tesseract alone (general English
model) reads only ~2 zones in 3 — it reads runs of the filler ``<`` as K/S/C and drops or adds
fillers, which shifts every check digit after them; the fixed-pitch OCR-B reader of
:mod:`kiosk.vision.mrz_grid` cannot drop a character and reads ~98 %, in tens of ms, so it goes
first and Tesseract (in process through tesserocr) is the second opinion. RapidOCR (bundled
PP-OCR ONNX models) read the lines well but took 8–16 s per zone on these 2-core machines;
pytesseract is Tesseract plus a process start and a model load per call.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import date

import cv2
import numpy as np

from kiosk.domain.identity.mrz import MrzData, parse_mrz

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata")
_WORK_SIDE = 1000  # the frame is searched at most this wide
_CHAR_PX = 20.0  # character pitch (px) the crops are brought to before OCR
_MAX_CANDIDATES = 4


class OcrUnavailable(RuntimeError):
    """Tesseract (tesserocr + Debian's tesseract-ocr-eng) is not installed."""


@dataclass(frozen=True)
class MrzRead:
    data: MrzData | None  # the best parse (valid if any candidate was valid)
    text: str  # what the OCR read (for diagnostics; never logged with personal data)
    found: bool  # a zone-like block was read as 2 or 3 MRZ lines
    box: np.ndarray | None  # the zone's 4 corners in frame pixels
    # whether the zone read turned half round: its first line is along the box's lower long
    # side (None when nothing was read)
    upside_down: bool | None = None

    @property
    def valid(self) -> bool:
        return self.data is not None and self.data.valid


# What a frame without a zone-like block reads as (:func:`read_mrz` finding nothing).
NOTHING_READ = MrzRead(None, "", False, None)


def tessdata_dir() -> str | None:
    env = os.environ.get("TESSDATA_PREFIX")
    for path in ((env,) if env else ()) + TESSDATA_DIRS:
        if path and os.path.isfile(os.path.join(path, "eng.traineddata")):
            return path
    return None


class _Tesseract:
    """One tesserocr API per thread (it is not thread-safe), created on first use."""

    def __init__(self):
        self._local = threading.local()

    def api(self):
        api = getattr(self._local, "api", None)
        if api is None:
            try:
                import tesserocr
            except ImportError as err:  # pragma: no cover - a dependency in setup.cfg
                raise OcrUnavailable("tesserocr is not installed") from err
            path = tessdata_dir()
            if path is None:
                raise OcrUnavailable("eng.traineddata not found (apt-get install tesseract-ocr)")
            api = tesserocr.PyTessBaseAPI(path=path, lang="eng", psm=tesserocr.PSM.SINGLE_BLOCK)
            api.SetVariable("tessedit_char_whitelist", ALPHABET)
            api.SetVariable("load_system_dawg", "0")
            api.SetVariable("load_freq_dawg", "0")
            self._local.api = api
        return api

    def __call__(self, gray: np.ndarray) -> str:
        from PIL import Image

        api = self.api()
        api.SetImage(Image.fromarray(gray))
        return api.GetUTF8Text()


def _pytesseract(gray: np.ndarray) -> str:
    import pytesseract

    return pytesseract.image_to_string(
        gray, config=f"--psm 6 -c tessedit_char_whitelist={ALPHABET}")


_tesseract = _Tesseract()
ENGINES = {"tesserocr": _tesseract, "pytesseract": _pytesseract}
DEFAULT_ENGINE = "tesserocr"


def available() -> bool:
    try:
        _tesseract.api()
    except OcrUnavailable:
        return False
    return True


# ---- locating the zone -------------------------------------------------------------------------

def locate(gray: np.ndarray, work_side: int = _WORK_SIDE) -> list[np.ndarray]:
    """Candidate zones, biggest first, as rotated rectangles' 4 corners in ``gray`` pixels.
    The morphology's kernels are a fixed share of ``work_side``: they join the characters of a
    zone that spans ~25–70 % of the frame (other sizes: :data:`WORK_SIDES`)."""
    h, w = gray.shape[:2]
    factor = min(1.0, work_side / max(h, w))
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) \
        if factor < 1 else gray
    side = max(small.shape[:2])
    kx = max(9, round(side * 0.014)) | 1
    blackhat = cv2.morphologyEx(cv2.GaussianBlur(small, (3, 3), 0), cv2.MORPH_BLACKHAT,
                                cv2.getStructuringElement(cv2.MORPH_RECT, (kx, max(5, kx // 2))))
    grad = np.abs(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=-1))
    grad = cv2.normalize(grad, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    # join the characters of a line, then the lines of the zone
    joined = cv2.morphologyEx(grad, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (2 * kx, max(3, kx // 3))))
    _, mask = cv2.threshold(joined, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (kx, round(kx * 1.6))))
    mask = cv2.erode(mask, None, iterations=1)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    # the same blocks with what is narrower than a few characters cut away: a signature's
    # stroke or a line of print touching the zone would otherwise leave it too ragged to pass
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (3 * kx, 1)))
    contours = list(contours) + list(cv2.findContours(opened, cv2.RETR_EXTERNAL,
                                                      cv2.CHAIN_APPROX_SIMPLE)[0])
    found = []
    for contour in contours:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        long_side, short_side = max(rw, rh), min(rw, rh)
        if short_side < 6 or long_side < 0.2 * side:
            continue
        if not 2.8 <= long_side / short_side <= 18:
            continue
        fill = cv2.contourArea(contour) / max(rw * rh, 1.0)
        if fill < 0.5:
            continue
        box = cv2.boxPoints(((cx, cy), (rw, rh), angle)) / factor
        if any(np.abs(box - other).max() < 2 * kx / factor for _, other in found):
            continue  # the same block from both masks
        found.append((long_side * short_side, box.astype(np.float32)))
    found.sort(key=lambda item: -item[0])
    return [box for _, box in found[:_MAX_CANDIDATES]]


def _order_box(box: np.ndarray) -> np.ndarray:
    """TL, TR, BR, BL with the long side as the top (text reads left to right, or upside down)."""
    from kiosk.vision.card_outline import order_corners

    return order_corners(box)


def crop_zone(gray: np.ndarray, box: np.ndarray, margin: float = 0.12) -> np.ndarray:
    """The zone straightened, with a margin, scaled so a character is ~_CHAR_PX wide."""
    tl, tr, br, bl = _order_box(box)
    width = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    lines_guess = 2 if width / max(height, 1) > 9 else 3
    chars = 44 if lines_guess == 2 else 30
    scale = _CHAR_PX * chars / max(width, 1.0)
    mx, my = margin * height + 4, margin * height + 4
    out_w, out_h = round((width + 2 * mx) * scale), round((height + 2 * my) * scale)
    dst = np.array([[mx, my], [mx + width, my], [mx + width, my + height], [mx, my + height]],
                   np.float32) * scale
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl], np.float32), dst)
    return cv2.warpPerspective(gray, matrix, (out_w, out_h), flags=cv2.INTER_AREA,
                               borderMode=cv2.BORDER_REPLICATE)


def _mrz_lines(text: str) -> list[str]:
    lines = [line.replace(" ", "") for line in text.splitlines()]
    lines = [line for line in lines if len(line) >= 20 or (line.count("<") >= 2 and len(line) >= 5)]
    if len(lines) > 3:  # text above the zone read with it: the zone is at the bottom
        lines = lines[-3:]
    return lines


def _name_line(line: str) -> str:
    # fillers after the name are often read as K or S: a run of 3 fillers ends the name
    head, sep, _ = line.partition("<<<")
    return head + sep if sep else line


def read_crop(crop: np.ndarray, engine: str = DEFAULT_ENGINE,
              today: date | None = None) -> tuple[MrzData | None, str]:
    text = ENGINES[engine](crop)
    lines = _mrz_lines(text)
    if len(lines) == 3:
        lines[2] = _name_line(lines[2])
    elif len(lines) == 2 and lines[0][:1] == "P":
        lines[0] = lines[0][:5] + _name_line(lines[0][5:])
    return parse_mrz(lines, today) if lines else None, text


def read_grid(crop: np.ndarray, today: date | None = None) -> tuple[MrzData | None, str]:
    """The fixed-pitch OCR-B reader (:mod:`kiosk.vision.mrz_grid`) on a straightened crop: its
    readings of the zone's cells — as read, then under the issuing state's narrower layout —
    the first whose check digits all agree, else the best."""
    from kiosk.vision import mrz_grid

    for chars in (30, 44):
        lines = mrz_grid.read_components(crop, chars)
        count = 3 if chars == 30 else 2
        if len(lines) < count:
            continue
        lines = lines[-count:]
        # the issuing state (line 1), else the nationality (the last line)
        at = 15 if chars == 30 else 10
        state = next((t for t in (lines[0].text[2:5], lines[-1].text[at:at + 3])
                      if (chars, t) in mrz_grid.NATIONAL), None)

        def parse(texts, chars=chars):
            texts = list(texts)
            if chars == 30:
                texts[2] = texts[2] or "<" * 30  # the name line has no check digit
            else:
                texts[0] = texts[0] or "P<<<<"
            return (parse_mrz(texts, today), texts) if all(texts) else (None, texts)

        best: tuple[MrzData | None, list[str]] = (None, [])
        for texts in mrz_grid.candidates(lines, chars, state):
            data, texts = parse(texts)
            if data is None:
                break
            if data.valid:
                return data, "\n".join(texts)
            if best[0] is None or sum(data.checks.values()) > sum(best[0].checks.values()):
                best = (data, texts)
        if best[0] is not None:
            return best[0], "\n".join(best[1])
    return None, ""


READERS = ("grid", "tesseract")


def _outside(boxes: list[np.ndarray], area: np.ndarray | None) -> list[np.ndarray]:
    """The candidate blocks whose centre is not inside ``area`` (a quadrilateral)."""
    if area is None:
        return boxes
    quad = np.asarray(area, np.float32).reshape(-1, 1, 2)
    return [box for box in boxes
            if cv2.pointPolygonTest(quad, tuple(float(v) for v in np.asarray(box).reshape(-1, 2)
                                                .mean(axis=0)), False) < 0]


def read_mrz(image: np.ndarray, engine: str = DEFAULT_ENGINE,
             today: date | None = None, readers: tuple[str, ...] = READERS,
             work_sides: tuple[int, ...] | None = None,
             not_inside: np.ndarray | None = None) -> MrzRead:
    """The zone in a camera frame (BGR or grey): its best parse, valid only when every check
    digit agrees. Tries each candidate block, each the right way up and upside down, with
    the OCR-B grid reader first (fast, never drops a filler) and Tesseract second; the frame
    at each of ``work_sides`` in turn (default :data:`WORK_SIDES`) until a zone reads.
    ``not_inside``: the corners of an area known to hold no zone (a card side without one):
    blocks there are not read (Tesseract costs ~70 ms a block)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    best: MrzRead = MrzRead(None, "", False, None)
    for work_side in work_sides or WORK_SIDES:
        if work_side != _WORK_SIDE and work_side >= max(gray.shape[:2]) * 1.2:
            continue  # the frame is small: the other scale would search the same pixels
        read = _read_at(gray, _outside(locate(gray, work_side), not_inside), engine, today,
                        readers)
        if read.valid:
            return read
        if read.data is not None and (best.data is None or sum(read.data.checks.values())
                                      > sum(best.data.checks.values())) or not best.found and read.found:
            best = read
    return best


# The zone is looked for at the usual scale first; then with the frame shrunk more (a card
# filling a big photo: its characters ~40 px, the kernels too small to join them) and less (a
# small card in a tall phone photo: its characters ~6 px at 1000 px). Only a miss pays for them.
WORK_SIDES = (_WORK_SIDE, 560, 1800)
FIRST_WORK_SIDES, OTHER_WORK_SIDES = WORK_SIDES[:1], WORK_SIDES[1:]


def _read_at(gray: np.ndarray, boxes: list[np.ndarray], engine: str, today: date | None,
             readers: tuple[str, ...]) -> MrzRead:
    best: MrzRead = MrzRead(None, "", False, None)
    crops = [(box, crop_zone(gray, box)) for box in boxes]
    attempts = []
    if "grid" in readers:  # cheap: every block both ways up before any Tesseract call
        for box, crop in crops:
            attempts += [(read_grid, box, crop, False),
                         (read_grid, box, cv2.rotate(crop, cv2.ROTATE_180), True)]
        # small characters (a TD3 zone in a 640×480 frame: 7–8 px each): the same block cut
        # again a fraction of a pixel off, so each glyph is resampled differently — each cut is
        # a whole new reading that must pass every check digit on its own (nothing is merged)
        for box in boxes:
            for crop in _shifted_crops(gray, box):
                attempts += [(read_grid, box, crop, False),
                             (read_grid, box, cv2.rotate(crop, cv2.ROTATE_180), True)]
    if "tesseract" in readers:
        for box, crop in crops:
            attempts += [(lambda c, t: read_crop(c, engine, t), box, v, turned)
                         for v, turned in _variants(crop)]
    for reader, box, variant, turned in attempts:
        data, text = reader(variant, today)
        if data is None:
            continue
        read = MrzRead(data, text, True, box, turned)
        if data.valid:
            return read
        if best.data is None or sum(data.checks.values()) > sum(best.data.checks.values()):
            best = read
    return best


# (dx, dy, scale) of the re-cut blocks, in frame pixels (bench/bench_mrz.py: 6 of the 8
# passport pages of generator "a" missed at 7–8 px per character read with them)
_SHIFTS = ((0.5, 0.5, 1.0), (-0.5, 0.25, 1.0), (0.0, 0.0, 0.99))
_SHIFT_BELOW_PX = 11.0  # only blocks whose characters are narrower than this (frame pixels)


def _shifted_crops(gray: np.ndarray, box: np.ndarray):
    tl, tr, br, bl = _order_box(box)
    width = float(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = float(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    chars = 44 if width / max(height, 1) > 9 else 30
    if width / chars >= _SHIFT_BELOW_PX:
        return
    centre = box.mean(axis=0)
    for dx, dy, scale in _SHIFTS:
        moved = (box - centre) * scale + centre + np.array([dx, dy], np.float32)
        yield crop_zone(gray, moved.astype(np.float32))


def _variants(crop: np.ndarray):
    """The crop as Tesseract is given it, each with whether it was turned half round."""
    yield crop, False
    yield cv2.rotate(crop, cv2.ROTATE_180), True
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(2, 8)).apply(crop)
    yield cv2.adaptiveThreshold(clahe, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                31, 10), False
