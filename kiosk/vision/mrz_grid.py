"""A fixed-pitch OCR-B reader for machine-readable zones: the first reader, before Tesseract.

The zone is printed in OCR-B (ISO 1073-2, mandated by ICAO Doc 9303) at a fixed pitch, with a
known number of characters per line (30 for TD1, 44 for TD3) and no gaps (fillers ``<`` are
ink), every glyph one stroke. So each line's blobs of ink are its characters, and each is
classified by normalised correlation against the 37 glyphs rendered from Debian's OCR-B font
(``fonts-ocr-b``), among the characters its position in the layout may hold. Tesseract's general English model misreads runs of ``<`` as K/S/C and drops
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


def font_path() -> Path | None:
    return next((p for p in OCRB_FONTS if p.exists()), None)


@lru_cache(maxsize=1)
def _templates() -> tuple[np.ndarray, np.ndarray] | None:
    """(37 × h × w normalised glyphs, 37 aspect ratios), rendered once."""
    from PIL import Image, ImageDraw, ImageFont

    path = font_path()
    if path is None:
        return None
    font = ImageFont.truetype(str(path), 64)
    glyphs, aspects = [], []
    for ch in ALPHABET:
        img = Image.new("L", (80, 100), 255)
        ImageDraw.Draw(img).text((8, 8), ch, font=font, fill=0)
        ink = 255 - np.array(img)
        ys, xs = np.nonzero(ink > 60)
        box = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        glyphs.append(_normalise(box))
        aspects.append(box.shape[1] / box.shape[0])
    return np.stack(glyphs), np.array(aspects, np.float32)


def _normalise(ink: np.ndarray) -> np.ndarray:
    g = cv2.resize(ink.astype(np.float32), _GLYPH, interpolation=cv2.INTER_AREA)
    g -= g.mean()
    return g / (np.linalg.norm(g) + 1e-6)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Ink strength 0–255 (dark print on a light ground), evened out against uneven light."""
    background = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
    ink = cv2.subtract(background, gray).astype(np.float32)
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


def _classify(cell_ink: np.ndarray, cell_bin: np.ndarray, templates,
              allowed: str | None = None) -> str:
    glyphs, aspects = templates
    ys, xs = np.nonzero(cell_bin)
    if len(xs) < 4:
        return "<"
    box = cell_ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    aspect = box.shape[1] / max(box.shape[0], 1)
    scores = glyphs.reshape(len(glyphs), -1) @ _normalise(box).ravel()
    # the box's shape tells 0 from O, 1 from I … where the normalised glyph cannot
    scores = scores - 0.5 * np.abs(np.log((aspect + 0.05) / (aspects + 0.05)))
    if allowed:
        scores = np.where([ch in allowed for ch in ALPHABET], scores, -np.inf)
    return ALPHABET[int(np.argmax(scores))]


class Line:
    def __init__(self, text: str, y0: int, y1: int, borders: list[int]):
        self.text, self.y0, self.y1, self.borders = text, y0, y1, borders


def read_components(gray: np.ndarray, chars_per_line: int) -> list[Line]:
    """The zone's lines in a straightened crop. Each character is its own connected blob of
    ink (every OCR-B glyph is one stroke), which holds for a line slanted or unevenly spaced
    under perspective; blobs that are two glyphs touching are split by the pitch. A line that
    still does not hold ``chars_per_line`` blobs comes back with empty text."""
    templates = _templates()
    if templates is None:
        return []
    ink = _ink(gray)
    _, binary = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < chars_per_line:
        return []
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
    lines = [m for m in lines if len(m) >= chars_per_line * 0.6]
    layout = LAYOUTS.get(chars_per_line, [])
    out = []
    for index, members in enumerate(lines):
        from_end = len(lines) - index  # 1 = the zone's last line
        spec = layout[len(layout) - from_end] if from_end <= len(layout) else None
        members.sort(key=lambda i: stats[i, cv2.CC_STAT_LEFT])
        boxes = [tuple(int(v) for v in stats[i, :4]) for i in members]
        widths = sorted(b[2] for b in boxes)
        pitch = (boxes[-1][0] + boxes[-1][2] - boxes[0][0]) / chars_per_line
        split = []
        for x, y, w, h in boxes:
            parts = max(1, round(w / pitch)) if w > 1.5 * max(widths[len(widths) // 2], 1) else 1
            for k in range(parts):
                split.append((x + k * w // parts, y, w // parts, h))
        if len(split) != chars_per_line:
            # a line whose glyphs merged or broke apart: kept as a placeholder so the line
            # count still tells the format (the name line, which has no check digit, mostly)
            y0 = min(b[1] for b in boxes)
            out.append(Line("", y0, max(b[1] + b[3] for b in boxes), []))
            continue
        text = []
        for pos, (x, y, w, h) in enumerate(split):
            text.append(_classify(ink[y:y + h, x:x + w], binary[y:y + h, x:x + w], templates,
                                  spec[pos] if spec else None))
        y0 = min(b[1] for b in split)
        y1 = max(b[1] + b[3] for b in split)
        borders = [b[0] for b in split] + [split[-1][0] + split[-1][2]]
        out.append(Line("".join(text), y0, y1, borders))
    return out
