"""A fixed-pitch OCR-B reader for machine-readable zones: the first reader, before Tesseract.

The zone is printed in OCR-B (ISO 1073-2, mandated by ICAO Doc 9303) at a fixed pitch, with a
known number of characters per line (30 for TD1, 44 for TD3) and no gaps (fillers ``<`` are
ink), every glyph one stroke. So each line's blobs of ink are its characters, and each is
classified by normalised correlation against the 37 glyphs rendered from Debian's OCR-B font
(``fonts-ocr-b``) — blurred to the crop's own blur (the level that fits the crop best) — among
the characters its position in the layout may hold (narrower for a Vietnamese zone: its numbers
are digits). Tesseract's general English model misreads runs of ``<`` as K/S/C and drops
or adds characters in them (bench/bench_mrz.py); this reader cannot drop a character. Both
readers' lines go through the same parser, and only check digits decide.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
OCRB_FONTS = (Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf"),
              Path("/usr/share/fonts/truetype/ocr-b/OCRB.ttf"))
_GLYPH = (20, 28)  # (w, h) every ink box is compared at
# Camera blur widens every stroke and rounds every corner; a glyph is compared with the font's
# glyph blurred by each of these (Gaussian σ as a share of the font's advance), and the level
# that fits the whole crop best is used for all its cells (bench/bench_mrz.py, TD3 zones of
# 8–9 px per character: 73 % → 93 % of 40 scenes with these levels, against the sharp glyphs).
_BLUR_LEVELS = (0.0, 0.08, 0.15)
_TIGHT = 0.5  # a glyph's box: the ink stronger than this share of the cell's strongest
_RENDER_PX, _ADVANCE_PX = 64, 38  # OCR-B rendered at 64 px: ~38 px per character


def font_path() -> Path | None:
    return next((p for p in OCRB_FONTS if p.exists()), None)


@lru_cache(maxsize=1)
def _templates() -> tuple[tuple[np.ndarray, np.ndarray], ...] | None:
    """Per blur level: (37 × (h·w) normalised glyphs, 37 aspect ratios), rendered once."""
    from PIL import Image, ImageDraw, ImageFont

    path = font_path()
    if path is None:
        return None
    font = ImageFont.truetype(str(path), _RENDER_PX)
    banks = []
    for blur in _BLUR_LEVELS:
        glyphs, aspects = [], []
        for ch in ALPHABET:
            img = Image.new("L", (120, 140), 255)
            ImageDraw.Draw(img).text((28, 28), ch, font=font, fill=0)
            ink = (255 - np.array(img)).astype(np.float32)
            if blur:
                ink = cv2.GaussianBlur(ink, (0, 0), blur * _ADVANCE_PX)
            box = _glyph_box(ink)
            glyphs.append(_normalise(box).ravel())
            aspects.append(box.shape[1] / box.shape[0])
        banks.append((np.stack(glyphs), np.array(aspects, np.float32)))
    return tuple(banks)


def _glyph_box(ink: np.ndarray) -> np.ndarray | None:
    """The ink inside the box of its strong part (blur widens the faint rim, not the core)."""
    top = float(ink.max()) if ink.size else 0.0
    ys, xs = np.nonzero(ink > _TIGHT * top) if top > 0 else ((), ())
    if len(xs) < 3:
        return None
    return ink[min(ys):max(ys) + 1, min(xs):max(xs) + 1]


def _normalise(ink: np.ndarray) -> np.ndarray:
    g = cv2.resize(ink.astype(np.float32), _GLYPH, interpolation=cv2.INTER_AREA)
    g -= g.mean()
    return g / (np.linalg.norm(g) + 1e-6)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink strength 0–255 (dark print on a light ground), evened out against uneven light."""
    background = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    # a share of the local paper brightness, not a difference: under a shadow (a thumb, the
    # page's curl) the print is as dark *relative to its paper* as elsewhere
    ink = cv2.subtract(background, gray).astype(np.float32) \
        / np.maximum(background.astype(np.float32), 8.0) * 128.0
    top = float(np.percentile(ink, 99)) or 1.0
    return np.clip(ink * (255.0 / top), 0, 255).astype(np.uint8)


_D, _A, _AN = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", ALPHABET[:-1]


def _spec(*parts: tuple[int, str]) -> list[str]:
    out = []
    for count, chars in parts:
        out += [chars + "<"] * count
    return out


# What each position of each line may hold (ICAO 9303 part 4 and 5); the last line of the list
# is the zone's last line. Restricting a cell to its layout's characters is what a reader of a
# fixed layout can do and a general OCR cannot: a blurred 1 is never read as a Y in a date.
LAYOUTS = {
    30: [_spec((5, _A), (9, _AN), (1, _D), (15, _AN)),
         _spec((7, _D), (1, "MFX"), (7, _D), (3, _A), (11, _AN), (1, _D)),
         _spec((30, _A))],
    44: [_spec((44, _A)),
         _spec((9, _AN), (1, _D), (3, _A), (7, _D), (1, "MFX"), (7, _D), (14, _AN), (2, _D))],
}


def _exact(*parts: tuple[int, str]) -> list[str]:
    out = []
    for count, chars in parts:
        out += [chars] * count
    return out


# A Vietnamese zone (issuing state VNM) narrows the numeric fields: the card's document number
# is the last 9 digits of the 12-digit number, repeated whole in the optional field; a passport
# number is a letter and 7 digits, and its personal number field is the 12-digit number
# (docs/vision-card.md, "Facts"). Tried after the general layout, and only the check digits
# decide: a foreign zone read under it simply fails them.
NATIONAL = {
    (30, "VNM"): [_exact((2, _A + "<"), (1, "V"), (1, "N"), (1, "M"), (10, _D), (12, _D),
                         (3, _D + "<")),
                  _spec((7, _D), (1, "MFX"), (7, _D)) + _exact((1, "V"), (1, "N"), (1, "M"))
                  + _spec((11, _AN), (1, _D)),
                  _spec((30, _A))],
    (44, "VNM"): [_exact((1, "P"), (1, _A + "<"), (1, "V"), (1, "N"), (1, "M"), (39, _A + "<")),
                  _exact((1, _A), (7, _D), (1, "<"), (1, _D), (1, "V"), (1, "N"), (1, "M"),
                         (7, _D), (1, "MFX<"), (7, _D), (12, _D), (3, _D + "<"), (1, _D))],
}


def _cell_scores(cell_ink: np.ndarray, cell_bin: np.ndarray, banks) -> np.ndarray | None:
    """(levels × 37) similarity of one cell to every glyph at every blur level; None when the
    cell holds (almost) no ink."""
    if np.count_nonzero(cell_bin) < 4:
        return None
    box = _glyph_box(cell_ink.astype(np.float32) * (cell_bin > 0))
    if box is None:
        return None
    vector = _normalise(box).ravel()
    aspect = box.shape[1] / max(box.shape[0], 1)
    # the box's shape tells 0 from O, 1 from I … where the normalised glyph cannot
    return np.stack([glyphs @ vector - 0.5 * np.abs(np.log((aspect + 0.05) / (aspects + 0.05)))
                     for glyphs, aspects in banks])


@lru_cache(maxsize=64)
def _mask(allowed: str | None) -> np.ndarray:
    """Which of the 37 glyphs ``allowed`` names (None: all). A zone's layout has a handful of
    distinct sets, asked for per cell and per blur level (~1,000 times a zone): built once,
    read-only."""
    mask = np.array([allowed is None or ch in allowed for ch in ALPHABET])
    mask.flags.writeable = False
    return mask


class Line:
    """One line of the zone: its text, its rows, its cell borders, and for each cell its scores
    (37 glyphs; None for an empty cell, read as a filler) — kept so that the same cells can be
    read again under a narrower layout (:func:`candidates`)."""

    def __init__(self, text: str, y0: int, y1: int, borders: list[int],
                 scores: list[np.ndarray | None] | None = None):
        self.text, self.y0, self.y1, self.borders = text, y0, y1, borders
        self.scores = scores or []


def _best(scores: np.ndarray | None, allowed: str | None) -> tuple[str, float]:
    """(the best glyph among the ``allowed`` ones, its score); an empty cell is a filler."""
    if scores is None:
        return "<", np.nan
    masked = np.where(_mask(allowed), scores, -np.inf)
    index = int(np.argmax(masked))
    return ALPHABET[index], float(masked[index])


def _cells(gray: np.ndarray, chars_per_line: int):
    """(ink, binary, [(y0, y1, [(x, y, w, h)] or None)]) — the lines' cells, top to bottom."""
    ink = _ink(gray)
    _, binary = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < chars_per_line:
        return ink, binary, []
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    tall = np.median(np.sort(heights)[-chars_per_line * 2:])
    blobs = [i for i in range(1, count)
             if 0.3 * tall <= stats[i, cv2.CC_STAT_HEIGHT] <= 1.6 * tall
             and stats[i, cv2.CC_STAT_AREA] >= 6]
    # group into lines by vertical centre
    blobs.sort(key=lambda i: centroids[i][1])
    lines: list[list[int]] = []
    for i in blobs:
        cy = centroids[i][1]
        if lines and abs(np.median([centroids[j][1] for j in lines[-1]]) - cy) < 0.5 * tall:
            lines[-1].append(i)
        else:
            lines.append([i])
    out = []
    for members in (m for m in lines if len(m) >= chars_per_line * 0.6):
        members.sort(key=lambda i: stats[i, cv2.CC_STAT_LEFT])
        boxes = [tuple(int(v) for v in stats[i, :4]) for i in members]
        widths = sorted(b[2] for b in boxes)
        pitch = (boxes[-1][0] + boxes[-1][2] - boxes[0][0]) / chars_per_line
        split = []
        for x, y, w, h in boxes:
            parts = max(1, round(w / pitch)) if w > 1.5 * max(widths[len(widths) // 2], 1) else 1
            for k in range(parts):
                split.append((x + k * w // parts, y, w // parts, h))
        y0, y1 = min(b[1] for b in boxes), max(b[1] + b[3] for b in boxes)
        # a line whose glyphs merged or broke apart: kept as a placeholder (None) so the line
        # count still tells the format (the name line, which has no check digit, mostly)
        out.append((y0, y1, split if len(split) == chars_per_line else None))
    return ink, binary, out


def layout_for(chars_per_line: int, lines: int, state: str | None = None) -> list[list[str] | None]:
    """What each cell of each of ``lines`` lines may hold (None: a line outside the layout);
    the last line of the layout is the zone's last line. ``state`` = the issuing state read
    from the zone: a Vietnamese zone's numbers are known to be digits (:data:`NATIONAL`)."""
    layout = NATIONAL.get((chars_per_line, state)) or LAYOUTS.get(chars_per_line, [])
    specs: list[list[str] | None] = []
    for index in range(lines):
        from_end = lines - index  # 1 = the zone's last line
        specs.append(layout[len(layout) - from_end] if from_end <= len(layout) else None)
    return specs


def _texts(lines: list[Line], specs) -> list[str]:
    return ["".join(_best(s, spec[pos] if spec else None)[0] for pos, s in enumerate(line.scores))
            if line.scores else "" for line, spec in zip(lines, specs, strict=True)]


def read_components(gray: np.ndarray, chars_per_line: int) -> list[Line]:
    """The zone's lines in a straightened crop. Each character is its own connected blob of
    ink (every OCR-B glyph is one stroke), which holds for a line slanted or unevenly spaced
    under perspective; blobs that are two glyphs touching are split by the pitch. A line that
    still does not hold ``chars_per_line`` blobs comes back with empty text.

    Every cell is scored against the glyphs at each blur level; the level whose best glyphs
    fit the crop best on average is the crop's, and each cell is read among the characters its
    position may hold."""
    banks = _templates()
    if banks is None:
        return []
    ink, binary, rows = _cells(gray, chars_per_line)
    raw = [[_cell_scores(ink[y:y + h, x:x + w], binary[y:y + h, x:x + w], banks)
            for x, y, w, h in split] if split else [] for _, _, split in rows]
    specs = layout_for(chars_per_line, len(rows))
    best_level, best_fit = 0, -np.inf
    for level in range(len(banks)):
        fits = [_best(cell[level], spec[pos] if spec else None)[1]
                for cells, spec in zip(raw, specs, strict=True)
                for pos, cell in enumerate(cells) if cell is not None]
        fit = float(np.mean(fits)) if fits else -np.inf
        if fit > best_fit:
            best_level, best_fit = level, fit
    out = []
    for (y0, y1, split), cells in zip(rows, raw, strict=True):
        scores = [None if cell is None else cell[best_level] for cell in cells]
        borders = [b[0] for b in split] + [split[-1][0] + split[-1][2]] if split else []
        out.append(Line("", y0, y1, borders, scores))
    for line, text in zip(out, _texts(out, specs), strict=True):
        line.text = text
    return out


def candidates(lines: list[Line], chars_per_line: int, state: str | None = None):
    """The reading of the zone's cells to check: under the issuing state's narrower layout
    when there is one (a Vietnamese zone: its numbers are digits — a reading that breaks the
    layout is not offered, so it cannot pass its check digits by chance), else under the
    general layout. Only the check digits accept it."""
    if state and (chars_per_line, state) in NATIONAL:
        yield _texts(lines, layout_for(chars_per_line, len(lines), state))
        return
    yield [line.text for line in lines]
