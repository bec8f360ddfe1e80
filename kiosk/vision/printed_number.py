"""Read the printed 12-digit number, date of birth and sex off the front of a 2021 chip CCCD.

For when the QR code of the front cannot be read. Pure numpy/OpenCV + Tesseract (in process
through ``tesserocr``, Debian's ``eng`` model, the pattern and :class:`OcrUnavailable` of
:mod:`kiosk.vision.mrz_ocr`); no Flask.

``card`` is the straightened front (``card_outline.warp_card``, 856×540 canonical pixels) — but a real
warp may be off by ±5 % in position and scale, so nothing is cut from a fixed box:

1. layout: one Tesseract pass in sparse-text mode over the part of the card right of the
   portrait gives words with their boxes; the words are regrouped into lines;
2. the number: the run of digit-like words (O→0, l→1, …) closest to 12 digits, preferring
   tall print high on the card; the date of birth, in this order: the ``dd/mm/yyyy`` word the
   layout pass read below the number, the stretch right of «Date of birth:» (or under it; a
   label misread as «Dete of ont» is known by its other words, Ngày/sinh/Date, and the date
   sought right of its last word of letters), and where the 2021 layout puts the date
   relative to a 12-digit number (its labels unread on a small or blurred card); the sex: the
   word after «Sex», told by its text and its shape measured on its ink (the ``eng`` model
   reads «Nữ» as No/Nir/N@/Na…; «Nam» is much wider than «Nữ»);
3. each found box is read again, cut with a margin from the grey card at two scales, grey and
   binarised, by Tesseract limited to digits (and ``/`` for the date; its box cut to the first
   stretch of print, without the background after the date) — independent readings;
4. the number is kept only when the readings agree — three the same, or two with no other
   12-digit reading (the six random digits 7–12 have no check digit: agreement is all that
   vouches for them; on the real fronts two-against-others was wrong once) — and the date
   the same way (two agreeing, no other half as frequent), and then only when the domain rule
   (:func:`kiosk.domain.identity.printed_id.printed_id_problems`) finds its province code,
   century/sex digit and birth-year digits consistent with the separately read date of birth
   and sex (and with the back's MRZ personal number, when given).

If nothing number-like is found the layout pass is repeated at two smaller scales (it sometimes
makes letters of a clear number at one scale), then the card is tried upside down once. A card
image larger than 856×540 (``warp_card(..., size=...)`` at the photo's own resolution) is laid
out at 856×540 but re-read from its full resolution.
"""
from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import cv2
import numpy as np

from kiosk.domain.identity.printed_id import printed_id_problems
from kiosk.vision import mrz_ocr
from kiosk.vision.card_outline import CARD_SIZE, PORTRAIT_BOX, to_gray
from kiosk.vision.mrz_ocr import OcrUnavailable

__all__ = ["PrintedRead", "read_printed_front", "available", "OcrUnavailable",
           "NO_NUMBER", "UNSTABLE_READ", "SEARCH_BOX"]

# vision-side problem codes (the domain adds its own, see printed_id.PROBLEMS)
NO_NUMBER = "no_number"  # no 12-digit-like run was found
UNSTABLE_READ = "unstable_read"  # the readings of the number do not agree

# where the text is searched, canonical pixels: right of the portrait (its right edge is
# x 236; 5 % of slack), from under the title down to the residence lines
SEARCH_BOX = (PORTRAIT_BOX[2] - 30, 110, CARD_SIZE[0], 480)
_LAYOUT_SCALE = 1.25  # the search box is enlarged this much for the layout pass
# when that pass finds nothing number-like it is run again at these scales (the sparse-text
# pass sometimes makes letters of a clear number at one scale and reads it at another)
_RETRY_SCALES = (1.0, 0.8)
_MIN_AGREE = 2  # readings that must agree on the number

DIGITS = "0123456789"
_DIGIT_LIKE = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "U": "0", "I": "1",
                             "l": "1", "|": "1", "i": "1", "!": "1", "]": "1", "[": "1",
                             "J": "1", "Z": "2", "z": "2", "S": "5", "s": "5", "$": "5",
                             "B": "8", "G": "6", "b": "6", "g": "9", "q": "9", "T": "7",
                             "A": "4", "?": "7"})
_DATE = re.compile(r"(\d{1,2})\s*[/\-.,1l|I]?\s*(\d{1,2})\s*[/\-.,1l|I]?\s*((?:19|20)\d\d)")
_DATE_STRICT = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


@dataclass(frozen=True)
class PrintedRead:
    id_number: str | None  # 12 digits, only when consistent (see the module docstring)
    date_of_birth: date | None
    sex: str | None  # "Nam" | "Nữ" | None
    raw_id: str | None  # what OCR read, before the checks (for diagnostics; never log it)
    problems: tuple[str, ...]  # why the number was not accepted (codes)
    readings: int = field(default=0, compare=False)  # number readings made / agreeing
    agreeing: int = field(default=0, compare=False)

    @property
    def accepted(self) -> bool:
        return self.id_number is not None


# ---- Tesseract ---------------------------------------------------------------------------------

class _Apis:
    """Tesseract APIs per thread (tesserocr is not thread-safe), one per (mode, whitelist)."""

    def __init__(self):
        self._local = threading.local()

    def get(self, psm: str, whitelist: str | None):
        apis = self._local.__dict__.setdefault("apis", {})
        key = (psm, whitelist)
        if key not in apis:
            try:
                import tesserocr
            except ImportError as err:
                raise OcrUnavailable("tesserocr is not installed") from err
            path = mrz_ocr.tessdata_dir()
            if path is None:
                raise OcrUnavailable("eng.traineddata not found (apt-get install tesseract-ocr)")
            api = tesserocr.PyTessBaseAPI(path=path, lang="eng", psm=getattr(tesserocr.PSM, psm))
            if whitelist:
                api.SetVariable("tessedit_char_whitelist", whitelist)
                api.SetVariable("load_system_dawg", "0")
                api.SetVariable("load_freq_dawg", "0")
            apis[key] = api
        return apis[key]


_apis = _Apis()


def available() -> bool:
    try:
        _apis.get("SINGLE_LINE", DIGITS)
    except OcrUnavailable:
        return False
    return True


@dataclass
class _Word:
    text: str
    conf: float
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in card pixels

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2


def _layout_words(gray: np.ndarray, scale: float = _LAYOUT_SCALE) -> list[_Word]:
    """Words (with boxes in card pixels) of the search box, by a sparse-text pass."""
    api = _apis.get("SPARSE_TEXT", None)  # raises OcrUnavailable first
    import tesserocr
    from PIL import Image

    x0, y0, x1, y1 = SEARCH_BOX
    region = gray[y0:y1, x0:x1]
    s = scale
    region = cv2.resize(region, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    api.SetImage(Image.fromarray(region))
    api.Recognize()
    words: list[_Word] = []
    level = tesserocr.RIL.WORD
    iterator = api.GetIterator()
    if iterator is None:
        return words
    for item in tesserocr.iterate_level(iterator, level):
        try:
            text = item.GetUTF8Text(level)
            box = item.BoundingBox(level)
        except RuntimeError:  # "No text returned": an empty page
            break
        if not text or box is None:
            continue
        bx0, by0, bx1, by1 = box
        words.append(_Word(unicodedata.normalize("NFC", text.strip()), item.Confidence(level),
                           (round(bx0 / s) + x0, round(by0 / s) + y0,
                            round(bx1 / s) + x0, round(by1 / s) + y0)))
    return words


def _lines(words: list[_Word]) -> list[list[_Word]]:
    """Words grouped into lines (vertical centres close), each left to right, top to bottom."""
    lines: list[list[_Word]] = []
    for word in sorted(words, key=lambda w: w.cy):
        for line in lines:
            ref = np.median([w.cy for w in line])
            href = np.median([w.height for w in line])
            if abs(word.cy - ref) < 0.5 * max(href, word.height, 8):
                line.append(word)
                break
        else:
            lines.append([word])
    return [sorted(line, key=lambda w: w.box[0]) for line in lines]


def _digit_like(text: str) -> str | None:
    """The word as digits when it is mostly digits (letters that look like digits mapped)."""
    core = text.strip(".,:;'\"`~-_()")
    if not core:
        return None
    mapped = core.translate(_DIGIT_LIKE)
    digits = sum(ch.isdigit() for ch in mapped)
    if digits < 0.8 * len(mapped):
        return None
    if sum(ch.isdigit() for ch in core) < 0.5 * len(core):
        return None
    return "".join(ch for ch in mapped if ch.isdigit())


@dataclass
class _Candidate:
    digits: str  # as read by the layout pass (digit-like mapped)
    exact: bool  # the layout pass read only real digits
    box: tuple[int, int, int, int]
    score: float


def _union(boxes) -> tuple[int, int, int, int]:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Vertical overlap of two boxes as a share of the lower one's height."""
    inter = min(a[3], b[3]) - max(a[1], b[1])
    return inter / max(1, min(a[3] - a[1], b[3] - b[1]))


def _number_candidates(words: list[_Word]) -> list[_Candidate]:
    """Runs of digit-like words side by side (the layout pass may cut the number in two, or
    put its halves on different lines when something taller stands next to it)."""
    digit_words = sorted(((w, d) for w in words if (d := _digit_like(w.text))),
                         key=lambda item: item[0].box[0])
    found: list[_Candidate] = []
    for start, (word, digits) in enumerate(digit_words):
        run = [(word, digits)]
        for other, more in digit_words[start + 1:]:
            last = run[-1][0]
            gap = other.box[0] - last.box[2]
            if -4 <= gap <= 1.2 * max(last.height, other.height, 8) and \
                    _overlap(last.box, other.box) >= 0.5 and \
                    len("".join(d for _, d in run)) + len(more) <= 13:
                run.append((other, more))
        found.extend(_candidate(run))
    found.sort(key=lambda c: -c.score)
    kept: list[_Candidate] = []
    for candidate in found:  # drop runs inside a better one
        if not any(_overlap(candidate.box, k.box) > 0.5 and candidate.box[0] >= k.box[0] - 4
                   and candidate.box[2] <= k.box[2] + 4 for k in kept):
            kept.append(candidate)
    return kept[:2]


def _candidate(run) -> list[_Candidate]:
    if not run:
        return []
    digits = "".join(d for _, d in run)
    if not 9 <= len(digits) <= 14:
        return []
    box = _union(w.box for w, _ in run)
    height = box[3] - box[1]
    exact = all(w.text.strip(".,:;") == d for w, d in run)
    # 12 digits, tall (the number is the largest print right of the portrait), high up
    score = 3.0 - abs(len(digits) - 12) * 0.8 + height / 25.0 + (0.5 if exact else 0.0)
    score -= max(0.0, box[1] - 300) / 100.0
    return [_Candidate(digits, exact, box, score)]


def _date_words(lines: list[list[_Word]]) -> list[tuple[_Word, date, float]]:
    """Words that read as a plausible date, with a preference score (birth-line bonus)."""
    out = []
    for index, line in enumerate(lines):
        text = " ".join(w.text for w in line).lower()
        birth_line = "birth" in text or "sinh" in text
        prev = " ".join(w.text for w in lines[index - 1]).lower() if index else ""
        birth_below = "birth" in prev or "sinh" in prev
        for word in line:
            parsed = _parse_date(word.text.translate(_DIGIT_LIKE))
            if parsed is None:
                continue
            score = 2.0 if birth_line else 1.0 if birth_below else 0.0
            out.append((word, parsed, score))
    return out


def _parse_date(text: str) -> date | None:
    match = _DATE.search(text)
    if match is None:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


_SEX_NAM = re.compile(r"^n[aáàâăạ4][mn]$", re.IGNORECASE)
_SEX_LABEL = re.compile(r"^s[eéc][xkcen]\W*$", re.IGNORECASE)
_SEX_LABEL_VI = re.compile(r"^t[iíì]nh\W*$", re.IGNORECASE)


def _sex_word(word: _Word, gray: np.ndarray | None = None) -> str | None:
    """«Nam» / «Nữ» from what the ``eng`` model makes of them («Nữ» comes out as No, Nir, Nit,
    N@, Na, …) and the word's shape: «Nam» is three letters, 3 to 4 times as wide as its line
    of print is high on the drawn and printed fronts, «Nữ» two letters, under 2. The shape is
    measured on the word's ink (``gray``: the card), not its layout box, which may take in a
    neighbour above or below (then a «Nam» read as N@M looks as narrow as a «Nữ»)."""
    core = unicodedata.normalize("NFC", word.text.strip(".,:;'\"`~-_()")).replace("rn", "m")
    if not (2 <= len(core) <= 3 and core[0] in "Nn"):
        return None
    box = _tighten(gray, word.box) if gray is not None else word.box
    aspect = (box[2] - box[0]) / max(1, box[3] - box[1])
    if _SEX_NAM.match(core):
        return "Nam" if aspect >= 2.5 else None
    if core.lower() in ("na", "nà", "ná"):  # «Nữ», or «Nam» without its m
        return "Nữ" if aspect <= 2.3 else "Nam" if aspect >= 2.8 else None
    if core.lower() == "nữ" or core[1].lower() not in "aáàâăạ4":
        return "Nữ" if aspect <= 2.3 else None
    return None


def _read_sex(lines: list[list[_Word]], gray: np.ndarray | None = None) -> str | None:
    """The word after «Giới tính / Sex:» on its line (the 2021 front), else the first word of
    the next line (layouts with the value under its label)."""
    for index, line in enumerate(lines):
        texts = [w.text for w in line]
        at = next((k for k, t in enumerate(texts) if _SEX_LABEL.match(t)), None)
        if at is None:
            at = next((k for k, t in enumerate(texts) if _SEX_LABEL_VI.match(t)), None)
        if at is None:
            continue
        after = line[at + 1:at + 4]
        for word in after:
            text = word.text
            if text.strip(":;.,/|") == "" or _SEX_LABEL.match(text):
                continue
            if text[:1] in "Qq" or text.lower().startswith("nat") or len(text) > 4:
                break
            sex = _sex_word(word, gray)
            if sex:
                return sex
        if not after and index + 1 < len(lines):  # the value under its label
            below = lines[index + 1][0]
            if abs(below.box[0] - line[0].box[0]) < 2 * below.height:
                sex = _sex_word(below, gray)
                if sex:
                    return sex
    return None


# ---- re-reading a box --------------------------------------------------------------------------

def _tighten(gray: np.ndarray, box) -> tuple[int, int, int, int]:
    """The box cut down to the line of print in it with the most ink (a layout box may span
    two lines), and to where that line's ink is left to right."""
    x0, y0, x1, y1 = box
    H, W = gray.shape[:2]
    h = max(y1 - y0, 6)
    ya, yb = max(0, int(y0 - 0.25 * h)), min(H, int(y1 + 0.25 * h))
    xa, xb = max(0, x0), min(W, x1)
    region = gray[ya:yb, xa:xb]
    if region.size == 0 or yb - ya < 6 or xb - xa < 6:
        return box
    _, ink = cv2.threshold(cv2.GaussianBlur(region, (3, 3), 0), 0, 1,
                           cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rows = ink.mean(axis=1)
    active = rows > 0.25 * max(float(rows.max()), 1e-6)
    runs, start = [], None
    for y, on in enumerate(np.append(active, False)):
        if on and start is None:
            start = y
        elif not on and start is not None:
            runs.append((start, y))
            start = None
    merged: list[list[int]] = []
    for a, b in runs:  # close gaps of a pixel or two (thin strokes, diacritics)
        if merged and a - merged[-1][1] <= 2:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    merged = [r for r in merged if r[1] - r[0] >= 5]
    if not merged:
        return box
    a, b = max(merged, key=lambda r: float(rows[r[0]:r[1]].sum()))
    cols = np.flatnonzero(ink[a:b].any(axis=0))
    if cols.size == 0:
        return box
    return (xa + int(cols[0]), ya + a, xa + int(cols[-1]) + 1, ya + b)


def _crop(gray: np.ndarray, box, cap_px: float) -> np.ndarray:
    """The line of print in ``box`` (tightened) with a margin, the lines above and below it
    painted over with the paper's shade, scaled so its height is ``cap_px``."""
    x0, y0, x1, y1 = box
    h = max(y1 - y0, 6)
    H, W = gray.shape[:2]
    ya, yb = max(0, int(y0 - 0.4 * h)), min(H, int(y1 + 0.4 * h))
    xa, xb = max(0, int(x0 - 0.5 * h)), min(W, int(x1 + 0.5 * h))
    crop = gray[ya:yb, xa:xb].copy()
    paper = np.percentile(crop, 90)
    keep = int(0.12 * h)
    crop[:max(0, y0 - ya - keep)] = paper
    crop[max(0, y1 - ya + keep):] = paper
    scale = cap_px / h
    return cv2.resize(crop, None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)


def _stretch(crop: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(crop, (1, 99))
    out = (crop.astype(np.float32) - lo) * (255.0 / max(float(hi - lo), 1.0))
    return np.clip(out, 0, 255).astype(np.uint8)


def _sharpen(crop: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.addWeighted(crop, 1.8, cv2.GaussianBlur(crop, (0, 0), sigma), -0.8, 0)


@dataclass
class _Page:
    """The card at the canonical size (layout pass) and as given (re-reads: a card warped
    larger than 856×540 keeps its detail)."""
    gray: np.ndarray  # CARD_SIZE
    full: np.ndarray  # as given, grey
    kx: float = 1.0  # full pixels per canonical pixel
    ky: float = 1.0

    @classmethod
    def of(cls, full: np.ndarray) -> _Page:
        h, w = full.shape[:2]
        if (w, h) == CARD_SIZE:
            return cls(full, full)
        gray = cv2.resize(full, CARD_SIZE, interpolation=cv2.INTER_AREA
                          if w > CARD_SIZE[0] else cv2.INTER_CUBIC)
        if w < CARD_SIZE[0]:  # nothing to gain from the smaller original
            return cls(gray, gray)
        return cls(gray, full, w / CARD_SIZE[0], h / CARD_SIZE[1])

    def turned(self) -> _Page:
        return _Page(cv2.rotate(self.gray, cv2.ROTATE_180), cv2.rotate(self.full, cv2.ROTATE_180),
                     self.kx, self.ky)

    def to_full(self, box) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = box
        return (round(x0 * self.kx), round(y0 * self.ky), round(x1 * self.kx), round(y1 * self.ky))


def _variants(page: _Page, box):
    """Independent renderings of the line for Tesseract: sizes, sharpening, binarisation."""
    gray = page.full
    box = _tighten(gray, page.to_full(box))
    yield _stretch(_crop(gray, box, 34))
    yield _stretch(_sharpen(_crop(gray, box, 26), 1.0))
    yield cv2.adaptiveThreshold(_crop(gray, box, 34), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                cv2.THRESH_BINARY, 41, 12)
    yield _stretch(_crop(gray, box, 20))


def _ocr_line(image: np.ndarray, whitelist: str) -> str:
    from PIL import Image

    api = _apis.get("SINGLE_LINE", whitelist)
    api.SetImage(Image.fromarray(image))
    return api.GetUTF8Text().strip()


def _read_number(page: _Page, candidate: _Candidate) -> list[str]:
    readings = [candidate.digits] if candidate.exact and len(candidate.digits) == 12 else []
    x0, y0, x1, y1 = candidate.box
    missing = 12 - len(candidate.digits)
    if missing > 0:  # the rest of the number was not seen as digits: look further right
        x1 = min(CARD_SIZE[0], x1 + round((x1 - x0) / len(candidate.digits) * (missing + 0.5)))
    for variant in _variants(page, (x0, y0, x1, y1)):
        text = re.sub(r"\s+", "", _ocr_line(variant, DIGITS))
        if text:
            readings.append(text)
    return readings


_BIRTH_LABEL = re.compile(r"^(b[il1i]?r?t[hn]|bir|date)", re.IGNORECASE)
# «Ngày sinh / Date of birth:» as the ``eng`` model misreads it (Ngiy, Noly, sirh, Dete, …)
_BIRTH_LINE = re.compile(r"^(s[il1i][rn]h|ng[aàáăâi1l]?[yv]|d[ae]t[ec]|b[il1i]?r?t[hn])\W*$",
                         re.IGNORECASE)


def _wordy(text: str) -> bool:
    """A word of the label (letters), not a piece of the date."""
    core = text.strip(".,:;'\"`~-_()/|!")
    return len(core) >= 2 and sum(ch.isalpha() for ch in core) > 0.6 * len(core)


def _dob_boxes(lines: list[list[_Word]], number_box) -> list[tuple[int, int, int, int]]:
    """Where the date should be: right of «Date of birth:» on its line (the 2021 front), or
    the line under that label (layouts with the value under it). When the English label is
    misread («Dete of ont») the line is known by any of its label words (Ngày, sinh, Date) and
    the date sought right of its last word of letters."""
    boxes = []
    for index, line in enumerate(lines):
        if number_box is not None and not number_box[3] - 5 < line[0].box[1] < number_box[3] + 200:
            continue
        labels = [k for k, w in enumerate(line) if _BIRTH_LABEL.match(w.text.strip("/:;,."))]
        if not labels:
            if not any(_BIRTH_LINE.match(w.text) for w in line):
                continue
            labels = [k for k, w in enumerate(line) if _wordy(w.text)
                      and w.box[2] < 0.7 * CARD_SIZE[0]][-1:]
            if not labels:
                continue
        anchor = line[labels[-1]]
        h = float(np.median([w.height for w in line]))
        rest = line[labels[-1] + 1:]
        y0 = min([anchor.box[1]] + [w.box[1] for w in rest[:2]])
        y1 = max([anchor.box[3]] + [w.box[3] for w in rest[:2]])
        x0 = anchor.box[2] + round(0.2 * h)
        if rest or anchor.box[2] < 0.7 * CARD_SIZE[0]:
            boxes.append((x0, y0, min(CARD_SIZE[0], x0 + round(18 * h)), y1))
        if not rest and index + 1 < len(lines):  # the value under its label
            below = lines[index + 1]
            boxes.append(_union(w.box for w in below[:3]))
    return boxes[:2]


# where the date of birth lies relative to the 12-digit number on the 2021 front, in widths of
# the number (measured on real fronts: its left end 0.47–0.57 of the width right of the number's,
# its right end 0.96–1.06, its centre 0.30–0.40 below the number's centre)
_DOB_FROM_NUMBER = (0.40, 0.29, 1.12, 0.42)


def _dob_box_from_number(number_box) -> tuple[int, int, int, int]:
    """Where the date of birth should be from the number's place alone (its labels unread)."""
    x0, y0, x1, y1 = number_box
    w, cy = x1 - x0, (y0 + y1) / 2
    fx0, fy0, fx1, fy1 = _DOB_FROM_NUMBER
    return (round(x0 + fx0 * w), round(cy + fy0 * w),
            min(CARD_SIZE[0], round(x0 + fx1 * w)), min(CARD_SIZE[1], round(cy + fy1 * w)))


def _first_run(gray: np.ndarray, box) -> tuple[int, int, int, int]:
    """The tightened line cut to its first stretch of print at least three line-heights wide
    (the date; what follows it after a wide gap is the card's background or its edge)."""
    x0, y0, x1, y1 = box
    h = max(y1 - y0, 6)
    region = gray[y0:y1, x0:x1]
    if region.size == 0:
        return box
    _, ink = cv2.threshold(cv2.GaussianBlur(region, (3, 3), 0), 0, 1,
                           cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    cols = np.flatnonzero(ink.sum(axis=0) >= max(2, 0.08 * h))
    if cols.size == 0:
        return box
    runs = [[cols[0], cols[0] + 1]]
    for c in cols[1:]:
        if c - runs[-1][1] <= 0.8 * h:
            runs[-1][1] = c + 1
        else:
            runs.append([c, c + 1])
    for a, b in runs:
        if b - a >= 3 * h:
            return (x0 + int(a), y0, x0 + int(b), y1)
    return box


def _date_variants(page: _Page, box):
    """As :func:`_variants`, the line cut to its first stretch of print."""
    gray = page.full
    box = _first_run(gray, _tighten(gray, page.to_full(box)))
    yield _stretch(_crop(gray, box, 34))
    yield _stretch(_sharpen(_crop(gray, box, 26), 1.0))
    yield cv2.adaptiveThreshold(_crop(gray, box, 34), 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C,
                                cv2.THRESH_BINARY, 41, 12)
    yield _stretch(_crop(gray, box, 20))


def _read_date_box(page: _Page, box) -> list[date]:
    found = []
    for variant in _date_variants(page, box):
        text = re.sub(r"\s+", "", _ocr_line(variant, DIGITS + "/"))
        for match in _DATE_STRICT.finditer(text):
            parsed = _parse_date(match.group(0))
            if parsed is not None:
                found.append(parsed)
                break
    return found


def _agreed(votes: Counter) -> tuple[object | None, int]:
    """The value at least two readings agree on, when no other is half as frequent."""
    if not votes:
        return None, 0
    (best, n), *rest = votes.most_common()
    if n < _MIN_AGREE or (rest and 2 * rest[0][1] > n):
        return None, n
    return best, n


def _vote(readings: list[str]) -> tuple[str | None, int]:
    """The reading most readings agree on (12-digit ones first), and how many agree."""
    if not readings:
        return None, 0
    twelve = [r for r in readings if len(r) == 12]
    pool = twelve or readings
    (best, n), *rest = Counter(pool).most_common()
    if rest and (2 * rest[0][1] > n or n < 3):
        # another reading nearly as frequent, or two against others: nothing agrees
        return best, 0
    return best, n


def _plausible_dob(value: date, today: date) -> bool:
    return date(1900, 1, 1) <= value <= today


# ---- the reader ----------------------------------------------------------------------------

def _read_upright(page: _Page, today: date, scales=(_LAYOUT_SCALE,)):
    for scale in scales:
        words = _layout_words(page.gray, scale)
        candidates = _number_candidates(words)
        if candidates:
            break
    lines = _lines(words)
    number_box = candidates[0].box if candidates else None

    votes: Counter[date] = Counter()
    dates = [(w, d, s) for w, d, s in _date_words(lines) if _plausible_dob(d, today)]
    if number_box is not None:  # below the number, within a few lines
        dates = [(w, d, s) for w, d, s in dates
                 if number_box[3] - 5 < w.box[1] < number_box[3] + 200]
    dates.sort(key=lambda item: (-item[2], item[0].box[1]))
    boxes = []
    for word, first, _ in dates[:1]:  # the layout pass's own date: the tightest box
        votes[first] += 1
        boxes.append(word.box)
    boxes += _dob_boxes(lines, number_box)
    if candidates and len(candidates[0].digits) == 12:
        boxes.append(_dob_box_from_number(number_box))
    for box in boxes[:3]:
        votes.update(d for d in _read_date_box(page, box) if _plausible_dob(d, today))
        dob, _ = _agreed(votes)
        if dob is not None and votes[dob] >= 3:
            break
    dob, _ = _agreed(votes)
    sex = _read_sex(lines, page.gray)
    return candidates, dob, sex


def read_printed_front(card: np.ndarray, personal_number: str | None = None,
                       today: date | None = None) -> PrintedRead:
    """The number, date of birth and sex printed on a straightened 2021 CCCD front.

    ``personal_number``: the 12 digits of the back's machine-readable zone, when read (the
    number is refused if they differ). Raises :class:`OcrUnavailable` without Tesseract.
    """
    today = today or date.today()
    if card is None or card.size == 0:
        return PrintedRead(None, None, None, None, (NO_NUMBER,))
    gray = to_gray(card)
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if min(gray.shape[:2]) < 8:
        return PrintedRead(None, None, None, None, (NO_NUMBER,))
    page = _Page.of(gray)

    candidates, dob, sex = _read_upright(page, today, (_LAYOUT_SCALE,) + _RETRY_SCALES)
    if not candidates:
        turned = page.turned()
        candidates_t, dob_t, sex_t = _read_upright(turned, today)
        if candidates_t:
            page, candidates, dob, sex = turned, candidates_t, dob_t, sex_t

    if not candidates:
        return PrintedRead(None, dob, sex, None, (NO_NUMBER,))
    best: tuple[str | None, int, int] = (None, 0, 0)
    for candidate in candidates:
        readings = _read_number(page, candidate)
        raw, agree = _vote(readings)
        if raw is not None and (agree, len(raw) == 12) > (best[1], len(best[0] or "") == 12):
            best = (raw, agree, len(readings))
        if agree >= _MIN_AGREE and raw is not None and len(raw) == 12:
            break
    raw, agree, count = best
    problems = list(printed_id_problems(raw, dob, sex, personal_number))
    if agree < _MIN_AGREE:
        problems.insert(0, UNSTABLE_READ)
    number = raw if not problems else None
    return PrintedRead(number, dob, sex, raw, tuple(problems), readings=count, agreeing=agree)


def timed_read(card: np.ndarray, **kwargs) -> tuple[PrintedRead, float]:
    """:func:`read_printed_front` and its wall time in seconds (for the bench)."""
    start = time.perf_counter()
    read = read_printed_front(card, **kwargs)
    return read, time.perf_counter() - start
