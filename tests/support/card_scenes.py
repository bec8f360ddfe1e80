"""A second, independent generator of webcam frames of ID cards, with ground-truth labels.

Written separately from ``synthetic.py`` (different drawing code, card layouts, fonts, scene,
camera and defect models) so that the guidance thresholds can be judged on material they were
not tuned on. Nothing here is a real card.

* Cards (:func:`render_card`), drawn at 1000×631 px (ID-1 at ~11.7 px/mm) with Pillow in
  DejaVu Serif, DejaVu Sans/Serif Condensed and OCR-B (not synthetic.py's Be Vietnam Pro;
  Liberation lacks some Vietnamese glyphs): four layouts —
  ``cccd2021_front`` (portrait left, QR top right), ``cccd2021_back`` (chip, two fingerprint
  boxes, TD1 machine-readable zone), ``cancuoc2024_front`` (portrait, no QR) and
  ``cancuoc2024_back`` (QR and chip, text, TD1 zone) — on tinted, patterned or plain white
  card stock; QR codes from OpenCV's own encoder; portraits from the shared face photos when
  they are there, otherwise a drawn face.
* Scenes (:func:`render_scene`): wood, desk laminate, woven fabric, a cluttered "photo" of
  papers, books and magazine clippings, a pale desk nearly the card's shade, or a dark cloth;
  a pinhole camera with a random field of view (55–78°) looking at the card posed in 3-D
  (``cv2.projectPoints``); drop shadow, fingers, lighting gradient + spot, colour cast,
  exposure; specular glare blobs or tube-light streaks; defocus (disc), motion (line) or
  Gaussian blur; signal-dependent sensor noise; JPEG at quality 35–95.
* Labels (:func:`label`): for every guidance issue code True (should fire), False (should
  not) or None (in the band between, not scored), computed from the true pose and the
  rendered pixels — see docs/vision-guidance.md for the definitions.

Everything is drawn from a ``numpy.random.Generator``: the same seed gives the same frame.
"""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CARD_W, CARD_H = 1000, 631  # 85.6 × 54 mm
LAYOUTS = ("cccd2021_front", "cccd2021_back", "cancuoc2024_front", "cancuoc2024_back")
BACKGROUNDS = ("wood", "desk", "fabric", "clutter", "pale", "dark")
CODES = ("too_dark", "no_card", "too_far", "too_close", "tilted", "blurred", "glare")

# Ground-truth definitions (shared with the synthetic.py labeller in guidance_eval.py). Between a
# "bad" and an "ok" limit the label is None: neither answer is wrong there.
FAR_BAD, FAR_OK = 0.38, 0.44  # card's long edge / frame width
CLOSE_BAD_EXTENT, CLOSE_OK_EXTENT = 0.96, 0.92  # bounding box / frame side
CLOSE_BAD_MARGIN, CLOSE_OK_MARGIN = 0.01, 0.025  # nearest corner to the edge / shorter side
ROLL_BAD, ROLL_OK = 15.0, 10.0  # in-plane rotation, degrees
TILT_BAD, TILT_OK = 30.0, 20.0  # angle between card normal and optical axis, degrees
BLUR_BAD, BLUR_OK = 0.0035, 0.002  # equivalent Gaussian sigma / card's long edge
DARK_BAD, DARK_OK = 55.0, 80.0  # mean grey of the card as rendered
GLARE_BAD, GLARE_OK = 0.012, 0.002  # share of the card washed out by a specular reflection

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),  # Debian fonts-dejavu-core/-extra, fonts-ocr-b
              Path("/usr/share/fonts/opentype/ocr-b"))
_FONTS = {
    "serif": "DejaVuSerif.ttf", "serif_bold": "DejaVuSerif-Bold.ttf",
    # Liberation lacks some Vietnamese precomposed glyphs (ữ, ợ): DejaVu's condensed faces instead
    "sans": "DejaVuSansCondensed.ttf", "sans_bold": "DejaVuSansCondensed-Bold.ttf",
    "lserif": "DejaVuSerifCondensed.ttf", "lserif_bold": "DejaVuSerifCondensed-Bold.ttf",
    "mono": "DejaVuSansMono.ttf", "ocrb": "OCRB.otf",
}


@lru_cache(maxsize=128)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    wanted = _FONTS[name]
    for folder in _FONT_DIRS:
        if (folder / wanted).is_file():
            return ImageFont.truetype(str(folder / wanted), size)
    for fallback in ("DejaVuSans.ttf", "DejaVuSansMono.ttf"):  # e.g. OCR-B not installed
        path = _FONT_DIRS[0] / fallback
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()


# ----------------------------------------------------------------------------- portraits

def _face_folder() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    for folder in (os.environ.get("KIOSK_FACE_DATA"), root.parent / "shared" / "testdata" / "faces",
                   root.parent.parent / "shared" / "testdata" / "faces"):
        if folder and (Path(folder) / "manifest.csv").is_file():
            return Path(folder)
    return None


@lru_cache(maxsize=1)
def _face_files() -> tuple[Path, ...]:
    folder = _face_folder()
    if folder is None:
        return ()
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("faces_hog") == "1"]
    return tuple(folder / r["file"] for r in rows)


@lru_cache(maxsize=48)
def _face_image(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    scale = 400.0 / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image


def _portrait(w: int, h: int, rng: np.random.Generator) -> Image.Image:
    """A face photo from the shared test photos (cover-fitted, centred on the upper middle),
    or a drawn head when they are not available."""
    files = _face_files()
    if files and rng.random() < 0.85:
        image = _face_image(files[int(rng.integers(len(files)))])
        if image is not None:
            ih, iw = image.shape[:2]
            scale = max(w / iw, h / ih) * rng.uniform(1.0, 1.25)
            big = cv2.resize(image, (max(w, round(iw * scale)), max(h, round(ih * scale))))
            x0 = (big.shape[1] - w) // 2
            y0 = int((big.shape[0] - h) * 0.3)
            crop = cv2.cvtColor(big[y0:y0 + h, x0:x0 + w], cv2.COLOR_BGR2RGB)
            return Image.fromarray(crop)
    img = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(200, 245, 3)))
    d = ImageDraw.Draw(img)
    skin = tuple(int(v) for v in (rng.integers(170, 230), rng.integers(130, 180), rng.integers(100, 150)))
    d.ellipse((w * 0.1, h * 0.72, w * 0.9, h * 1.3), fill=(40, 50, 70))
    d.ellipse((w * 0.27, h * 0.18, w * 0.73, h * 0.68), fill=skin)
    d.chord((w * 0.25, h * 0.12, w * 0.75, h * 0.5), 180, 360, fill=(30, 25, 25))
    for ex in (0.4, 0.6):
        d.ellipse((w * ex - 5, h * 0.42 - 3, w * ex + 5, h * 0.42 + 3), fill=(20, 20, 20))
    d.line((w * 0.43, h * 0.57, w * 0.57, h * 0.57), fill=(120, 50, 50), width=3)
    return img


# ----------------------------------------------------------------------------- card drawing

def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(v)) for v in rng.integers(0, 10, n))


def _person(rng: np.random.Generator) -> dict:
    family = ["NGUYỄN", "TRẦN", "LÊ", "PHẠM", "VŨ", "ĐỖ", "HOÀNG", "BÙI", "LƯU", "TÔ"]
    middle = ["VĂN", "THỊ", "ĐỨC", "NGỌC", "HỮU", "THU", "QUỐC", "KHÁNH"]
    given = ["HƯƠNG", "DŨNG", "LỘC", "NGUYỆT", "TUỆ", "PHƯỚC", "YẾN", "KHOA", "ĐIỆP", "HUỲNH"]
    year = int(rng.integers(1952, 2006))
    sex = "Nam" if rng.random() < 0.5 else "Nữ"
    digit = (0 if year < 2000 else 2) + (0 if sex == "Nam" else 1)
    return {
        "number": f"0{int(rng.integers(1, 97)):02d}{digit}{year % 100:02d}{_digits(rng, 6)}",
        "name": f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(given)}",
        "dob": f"{int(rng.integers(1, 29)):02d}/{int(rng.integers(1, 13)):02d}/{year}",
        "sex": sex,
        "place": f"Xã {rng.choice(['Hoằng Lộc', 'Quảng Tâm', 'Đông Sơn', 'Nga Điền'])}, Thanh Hóa",
    }


def _stock(rng: np.random.Generator, white: bool, tint: tuple[int, int, int]) -> np.ndarray:
    """Card stock (RGB uint8): plain white, or a tint with a drawn security pattern."""
    if white:
        level = rng.uniform(244, 254)
        return np.clip(np.full((CARD_H, CARD_W, 3), level, np.float32)
                       + rng.normal(0, 0.8, (CARD_H, CARD_W, 1)), 0, 255).astype(np.uint8)
    img = Image.new("RGB", (CARD_W, CARD_H), tint)
    d = ImageDraw.Draw(img)
    line = tuple(max(0, c - int(rng.integers(14, 30))) for c in tint)
    cx, cy = rng.uniform(0.3, 0.7) * CARD_W, rng.uniform(0.3, 0.7) * CARD_H
    for r in range(20, 900, int(rng.integers(9, 16))):  # concentric rosette
        d.ellipse((cx - r, cy - r * 0.62, cx + r, cy + r * 0.62), outline=line, width=1)
    for k in range(0, CARD_W + CARD_H, int(rng.integers(25, 45))):  # diagonal hatching
        d.line((k, 0, k - CARD_H, CARD_H), fill=line, width=1)
    return np.asarray(img)


def _qr(text: str, size: int) -> Image.Image:
    encoder = cv2.QRCodeEncoder.create()
    code = encoder.encode(text)  # white border included, 1 px per module
    code = cv2.resize(code, (size, size), interpolation=cv2.INTER_NEAREST)
    return Image.fromarray(cv2.cvtColor(code, cv2.COLOR_GRAY2RGB))


def _chip(d: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int) -> None:
    d.rounded_rectangle((x, y, x + w, y + h), radius=14, fill=(205, 170, 90), outline=(150, 120, 60), width=3)
    for k in (1, 2):
        d.line((x + k * w / 3, y, x + k * w / 3, y + h), fill=(150, 120, 60), width=3)
    d.line((x, y + h / 2, x + w, y + h / 2), fill=(150, 120, 60), width=3)


def _fingerprint(d: ImageDraw.ImageDraw, box: tuple[int, int, int, int], rng) -> None:
    x0, y0, x1, y1 = box
    d.rectangle(box, outline=(90, 90, 90), width=2)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + rng.uniform(-8, 8)
    for r in range(6, int((x1 - x0) * 0.45), 7):
        d.ellipse((cx - r, cy - r * 1.3, cx + r, cy + r * 1.3), outline=(70, 70, 80), width=2)


def _mrz(d: ImageDraw.ImageDraw, person: dict, y: int) -> None:
    number = person["number"]
    lines = (f"IDVNM{number[3:]}<{number[-1]}{number}<<<"[:30],
             f"{person['dob'][-2:]}0101{'M' if person['sex'] == 'Nam' else 'F'}3012314VNM<<<<<<<<<<<4"[:30],
             (person["name"].replace(" ", "<").encode("ascii", "ignore").decode() + "<" * 30)[:30])
    font = _font("ocrb", 40)
    for k, text in enumerate(lines):
        d.text((40, y + k * 50), text.replace("Đ", "D"), font=font, fill=(25, 25, 30))


def _text_block(d, x, y, rows, label_font, value_font, gap=50, colours=((80, 80, 90), (20, 20, 25))):
    for caption, value in rows:
        d.text((x, y), caption, font=label_font, fill=colours[0])
        d.text((x, y + label_font.size + 2), value, font=value_font, fill=colours[1])
        y += gap + label_font.size
    return y


def render_card(layout: str, rng: np.random.Generator, white: bool | None = None) -> np.ndarray:
    """One card side, CARD_W × CARD_H BGR uint8."""
    if white is None:
        white = bool(rng.random() < 0.25)
    person = _person(rng)
    serif = rng.random() < 0.5
    label_font = _font("lserif" if serif else "sans", int(rng.integers(20, 25)))
    value_font = _font("lserif_bold" if serif else "sans_bold", int(rng.integers(30, 37)))
    title_font = _font("serif_bold", int(rng.integers(32, 38)))
    small = _font("serif", 21)
    tints = {"cccd2021": (222, 236, 246), "cancuoc2024": (246, 228, 226)}
    family = layout.split("_")[0]
    tint = tuple(int(c + v) for c, v in zip(tints[family], rng.integers(-8, 8, 3), strict=True))
    img = Image.fromarray(_stock(rng, white, tint))
    d = ImageDraw.Draw(img)
    red = (180, 20, 30)
    if layout.endswith("front"):
        d.ellipse((40, 30, 150, 140), fill=(200, 35, 35), outline=(210, 170, 60), width=6)
        star = [(95 + 40 * math.cos(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.42),
                 85 + 40 * math.sin(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.42))
                for k in range(10)]
        d.polygon(star, fill=(245, 210, 50))
        d.text((190, 34), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=_font("serif_bold", 27), fill=(30, 30, 40))
        d.text((260, 72), "Độc lập - Tự do - Hạnh phúc", font=_font("serif", 25), fill=(30, 30, 40))
        title = "CĂN CƯỚC CÔNG DÂN" if family == "cccd2021" else "CĂN CƯỚC"
        d.text((230 if family == "cccd2021" else 360, 124), title, font=title_font, fill=red)
        px0, py0, pw, ph = 40, 190, 230, 300
        img.paste(_portrait(pw, ph, rng), (px0, py0))
        d.rectangle((px0 - 2, py0 - 2, px0 + pw + 1, py0 + ph + 1), outline=(120, 120, 130), width=2)
        if family == "cccd2021":
            qsize = int(rng.integers(190, 226))
            img.paste(_qr(f"{person['number']}||{person['name']}|{person['dob']}|{person['sex']}", qsize),
                      (CARD_W - qsize - 28, 24))
        x = 300
        d.text((x, 200), "Số định danh cá nhân / Personal identification number", font=small, fill=(70, 70, 80))
        d.text((x, 228), person["number"], font=_font("sans_bold", 44), fill=red if family == "cancuoc2024" else (20, 20, 25))
        _text_block(d, x, 290, (("Họ, chữ đệm và tên / Full name", person["name"]),
                                ("Ngày sinh / Date of birth", person["dob"]),
                                ("Giới tính / Sex: " + person["sex"] + "   Quốc tịch / Nationality",
                                 "Việt Nam")), label_font, value_font, gap=42)
        d.text((40, 560), "Có giá trị đến / Date of expiry: 31/12/2040", font=small, fill=(60, 60, 70))
    else:
        if family == "cccd2021":
            _chip(d, 60, 60, 150, 115)
            _fingerprint(d, (640, 40, 790, 230), rng)
            _fingerprint(d, (810, 40, 960, 230), rng)
            d.text((640, 236), "Ngón trỏ trái      Ngón trỏ phải", font=_font("serif", 18), fill=(60, 60, 70))
            _text_block(d, 60, 200, (("Đặc điểm nhân dạng / Personal identification",
                                      "Nốt ruồi C:1cm trên mép phải"),
                                     ("Ngày, tháng, năm / Date, month, year", "15/08/2021")),
                        label_font, value_font, gap=30)
        else:
            qsize = int(rng.integers(180, 215))
            qx = 30 if rng.random() < 0.5 else CARD_W - qsize - 30
            img.paste(_qr(f"{person['number']}|{person['name']}|{person['dob']}", qsize), (qx, 24))
            _chip(d, 640 if qx < 500 else 60, 90, 140, 110)
            tx = qx + qsize + 30 if qx < 500 else 240
            _text_block(d, tx if qx < 500 else 240, 30,
                        (("Nơi cư trú / Place of residence", person["place"][:24]),
                         ("Nơi đăng ký khai sinh", person["place"][:22])),
                        label_font, _font("sans", 28), gap=24)
            d.text((40, 300), "Ngày cấp / Date of issue: 01/07/2024", font=small, fill=(40, 40, 50))
            d.text((40, 330), "BỘ CÔNG AN / MINISTRY OF PUBLIC SECURITY", font=small, fill=(40, 40, 50))
        _mrz(d, person, 430)
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_RGB2BGR)


# ----------------------------------------------------------------------------- backgrounds

def _smooth_noise(h: int, w: int, rng: np.random.Generator, cells: int = 6) -> np.ndarray:
    low = rng.normal(0, 1, (cells, max(2, cells * w // h))).astype(np.float32)
    return cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)


def _background(kind: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        base = np.array([rng.uniform(40, 80), rng.uniform(80, 120), rng.uniform(130, 180)], np.float32)
        warp = _smooth_noise(h, w, rng, 4) * rng.uniform(10, 30)
        rings = np.sin((yy + warp) / rng.uniform(4, 9) + 0.02 * xx * rng.uniform(-1, 1))
        img = base * (1 + 0.12 * rings[..., None]) + _smooth_noise(h, w, rng, 3)[..., None] * 10
        for _ in range(int(rng.integers(1, 4))):  # plank joints
            y = int(rng.uniform(0, h))
            img[max(0, y - 2):y + 2] *= 0.55
    elif kind == "desk":
        base = np.array(rng.uniform(60, 200, 3), np.float32)
        img = base + _smooth_noise(h, w, rng)[..., None] * 8 + rng.normal(0, 4, (h, w, 1))
    elif kind == "fabric":
        base = np.array(rng.uniform(40, 200, 3), np.float32)
        period = rng.uniform(3, 7)
        weave = np.sin(xx / period) * np.sin(yy / period)
        img = base * (1 + 0.15 * weave[..., None]) + _smooth_noise(h, w, rng, 5)[..., None] * 12
    elif kind == "pale":  # a desk nearly the shade of card stock
        base = np.array(rng.uniform(185, 225, 3), np.float32)
        img = base + _smooth_noise(h, w, rng)[..., None] * 5 + rng.normal(0, 2, (h, w, 1))
    elif kind == "dark":
        img = np.array(rng.uniform(10, 45, 3), np.float32) + _smooth_noise(h, w, rng)[..., None] * 4
        img = np.broadcast_to(img, (h, w, 3)).copy()
    else:  # clutter: papers, books, a magazine photo, cables
        img = np.array(rng.uniform(70, 160, 3), np.float32) + _smooth_noise(h, w, rng)[..., None] * 15
        img = np.broadcast_to(img, (h, w, 3)).copy()
        for _ in range(int(rng.integers(4, 11))):
            centre = (float(rng.uniform(0, w)), float(rng.uniform(0, h)))
            size = (float(rng.uniform(0.1, 0.6) * w), float(rng.uniform(0.1, 0.6) * h))
            box = cv2.boxPoints((centre, size, float(rng.uniform(0, 90)))).astype(np.int32)
            colour = [float(v) for v in rng.uniform(30, 250, 3)]
            cv2.fillConvexPoly(img, box, colour, cv2.LINE_AA)
            if rng.random() < 0.5:  # printed lines
                for k in range(int(rng.integers(3, 12))):
                    a = box[0] + (box[3] - box[0]) * (k + 1) / 13
                    cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in a + (box[1] - box[0]) * 0.8),
                             (40, 40, 40), 1, cv2.LINE_AA)
        files = _face_files()
        if files and rng.random() < 0.6:  # a magazine photo lying on the desk
            face = _face_image(files[int(rng.integers(len(files)))])
            if face is not None:
                side = int(rng.uniform(0.15, 0.35) * h)
                face = cv2.resize(face, (side, int(side * face.shape[0] / face.shape[1])))
                fy, fx = int(rng.uniform(0, h - face.shape[0])) if h > face.shape[0] else 0, int(rng.uniform(0, w - side))
                fh = min(face.shape[0], h - fy)
                img[fy:fy + fh, fx:fx + side] = face[:fh]
        for _ in range(int(rng.integers(0, 4))):  # cables
            pts = np.cumsum(rng.normal(0, 40, (8, 2)), axis=0) + rng.uniform(0, 1, 2) * (w, h)
            cv2.polylines(img, [pts.astype(np.int32)], False, [float(v) for v in rng.uniform(0, 90, 3)],
                          int(rng.integers(3, 9)), cv2.LINE_AA)
    return np.clip(img, 0, 255).astype(np.float32)


# ----------------------------------------------------------------------------- the scene

@dataclass
class Scene:
    """Everything that decides how the frame looks; None = draw a value a customer who holds
    the card well would produce."""
    size: tuple[int, int] = (640, 480)
    layout: str = "cccd2021_front"
    background: str = "desk"
    white_card: bool | None = None
    card: bool = True  # False: an empty scene
    width_fraction: float | None = None  # card's long edge / frame width, if flat and facing
    roll: float | None = None  # degrees in the plane
    yaw: float | None = None  # degrees out of the plane
    pitch: float | None = None
    offset: tuple[float, float] | None = None  # card centre, as a share of the free room (−1..1)
    fov: float | None = None  # horizontal field of view, degrees
    exposure: float | None = None
    cast: tuple[float, float, float] | None = None  # B, G, R gains
    gradient: float | None = None
    glare: str | None = None  # None, "blob", "streak", "sheen" (a soft, unsaturated reflection)
    glare_strength: float = 1.0
    glare_size: float | None = None  # blob radius as a share of the card's long edge
    blur_kind: str = "gauss"  # "gauss", "defocus", "motion"
    blur: float | None = None  # equivalent Gaussian sigma, frame px
    noise: float | None = None
    jpeg: int | None = None
    fingers: bool | None = None
    extras: dict = field(default_factory=dict)


@dataclass
class Frame:
    image: np.ndarray
    corners: np.ndarray | None  # TL, TR, BR, BL frame px (None: no card)
    truth: dict  # measured ground truth: card_fraction, extent, margin, roll, tilt, blur_rel, …
    labels: dict  # code -> True / False / None
    scene: Scene


def _rotation(roll: float, yaw: float, pitch: float) -> np.ndarray:
    rz, _ = cv2.Rodrigues(np.array([0.0, 0.0, math.radians(roll)]))
    ry, _ = cv2.Rodrigues(np.array([0.0, math.radians(yaw), 0.0]))
    rx, _ = cv2.Rodrigues(np.array([math.radians(pitch), 0.0, 0.0]))
    return rx @ ry @ rz


def _pose_corners(s: Scene, w: int, h: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Card corners in the frame for the scene's pose, the rotation, and the focal length."""
    f = (w / 2) / math.tan(math.radians(s.fov) / 2)
    # distance at which a facing card's long edge spans width_fraction of the frame
    z = f * 85.6 / (s.width_fraction * w)
    rot = _rotation(s.roll, s.yaw, s.pitch)
    obj = np.array([[-42.8, -27.0, 0], [42.8, -27.0, 0], [42.8, 27.0, 0], [-42.8, 27.0, 0]])
    camera = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]], np.float64)
    centred, _ = cv2.projectPoints(obj, cv2.Rodrigues(rot)[0], np.array([0.0, 0.0, z]), camera, None)
    centred = centred.reshape(4, 2)
    lo, hi = centred.min(axis=0), centred.max(axis=0)
    room = np.array([w, h]) - (hi - lo)
    # offset −1..1 moves the card across the free room (beyond the edge when there is none)
    shift = np.array(s.offset) * np.maximum(room, 0.0) / 2 * 0.9
    t = np.array([shift[0] * z / f, shift[1] * z / f, z])
    pts, _ = cv2.projectPoints(obj, cv2.Rodrigues(rot)[0], t, camera, None)
    return pts.reshape(4, 2).astype(np.float32), rot, f


def _fill_defaults(s: Scene, rng: np.random.Generator) -> Scene:
    w, h = s.size
    if s.width_fraction is None:
        s.width_fraction = float(rng.uniform(0.48, 0.8 if w / h < 1.5 else 0.72))
    if s.roll is None:
        s.roll = float(rng.uniform(-7, 7))
    if s.yaw is None:
        s.yaw = float(rng.uniform(-14, 14))
    if s.pitch is None:
        s.pitch = float(rng.uniform(-14, 14))
    if s.offset is None:
        s.offset = (float(rng.uniform(-0.8, 0.8)), float(rng.uniform(-0.8, 0.8)))
    if s.fov is None:
        s.fov = float(rng.uniform(55, 78))
    if s.exposure is None:
        s.exposure = float(rng.uniform(0.85, 1.12))
    if s.cast is None:
        s.cast = tuple(float(v) for v in rng.uniform(0.85, 1.12, 3))
    if s.gradient is None:
        s.gradient = float(rng.uniform(0, 0.4))
    if s.blur is None:
        s.blur = float(rng.uniform(0.2, 0.8))
    if s.noise is None:
        s.noise = float(rng.uniform(0.5, 5))
    if s.jpeg is None:
        s.jpeg = int(rng.integers(35, 96))
    if s.fingers is None:
        s.fingers = bool(rng.random() < 0.35)
    return s


def _blur(img: np.ndarray, kind: str, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma <= 0.05:
        return img
    if kind == "defocus":  # a uniform disc of radius r has sigma = r / 2
        r = 2.0 * sigma
        n = int(math.ceil(r)) * 2 + 1
        yy, xx = np.mgrid[0:n, 0:n] - n // 2
        kernel = np.clip(r + 0.5 - np.hypot(xx, yy), 0, 1).astype(np.float32)
        return cv2.filter2D(img, -1, kernel / kernel.sum())
    if kind == "motion":  # a line of length L has sigma = L / sqrt(12)
        length = sigma * math.sqrt(12)
        n = int(math.ceil(length)) + 2 | 1
        kernel = np.zeros((n, n), np.float32)
        ang = rng.uniform(0, math.pi)
        c = n // 2
        dx, dy = math.cos(ang) * length / 2, math.sin(ang) * length / 2
        cv2.line(kernel, (round((c - dx) * 16), round((c - dy) * 16)), (round((c + dx) * 16), round((c + dy) * 16)),
                 1.0, 1, cv2.LINE_AA, shift=4)
        return cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    return cv2.GaussianBlur(img, (0, 0), sigma)


def _fingers(frame: np.ndarray, corners: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A finger or two over an edge of the card (card-pixel mask of where they are)."""
    h, w = frame.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    to_frame = cv2.getPerspectiveTransform(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32), corners)
    skin = np.array([rng.uniform(80, 130), rng.uniform(120, 165), rng.uniform(170, 225)], np.float32)
    edge = int(rng.integers(0, 4))
    for _ in range(int(rng.integers(1, 3))):
        t = rng.uniform(0.2, 0.8)
        centre = {0: (t, -0.02), 1: (1.02, t), 2: (t, 1.02), 3: (-0.02, t)}[edge]
        axes = (0.04, 0.12) if edge in (0, 2) else (0.09, 0.06)
        poly = cv2.ellipse2Poly((int(centre[0] * 1000), int(centre[1] * 1000)),
                                (int(axes[0] * 1000), int(axes[1] * 1000)), 0, 0, 360, 10)
        proj = cv2.perspectiveTransform(poly[None].astype(np.float32) / 1000.0, to_frame)[0]
        cv2.fillPoly(mask, [np.round(proj).astype(np.int32)], 255, cv2.LINE_AA)
    shade = skin * (0.85 + 0.15 * cv2.GaussianBlur(mask, (0, 0), 6)[..., None] / 255.0)
    alpha = mask[..., None].astype(np.float32) / 255.0
    return frame * (1 - alpha) + shade * alpha


def _glare_field(s: Scene, corners: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """Light added by a specular reflection (before exposure), in grey levels."""
    to_frame = cv2.getPerspectiveTransform(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32), corners)
    u, v = rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85)
    cx, cy = cv2.perspectiveTransform(np.array([[[u, v]]], np.float32), to_frame)[0, 0]
    edge = float(np.linalg.norm(corners[1] - corners[0]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if s.glare == "streak":  # a tube light: a long thin band
        ang = rng.uniform(0, math.pi)
        dist = np.abs((xx - cx) * math.sin(ang) - (yy - cy) * math.cos(ang))
        along = np.abs((xx - cx) * math.cos(ang) + (yy - cy) * math.sin(ang))
        width = (s.glare_size or rng.uniform(0.03, 0.07)) * edge
        field_ = np.exp(-(dist / width) ** 2) * np.exp(-(along / (0.6 * edge)) ** 4)
    else:
        radius = (s.glare_size or rng.uniform(0.06, 0.16)) * edge
        aspect = rng.uniform(1.0, 1.8)
        ang = rng.uniform(0, math.pi)
        dx, dy = xx - cx, yy - cy
        a = (dx * math.cos(ang) + dy * math.sin(ang)) / radius
        b = (-dx * math.sin(ang) + dy * math.cos(ang)) / (radius / aspect)
        r2 = a * a + b * b
        # a flat saturated core with a soft halo, as a lamp reflected in a laminated card
        field_ = np.where(r2 < 1, 1.0, np.exp(-(np.sqrt(r2) - 1) * 2.5))
    peak = 90.0 if s.glare == "sheen" else 420.0
    return (field_ * peak * s.glare_strength).astype(np.float32)


def render_scene(s: Scene, rng: np.random.Generator) -> Frame:
    s = _fill_defaults(s, rng)
    w, h = s.size
    frame = _background(s.background, w, h, rng)
    corners = None
    card_mask = np.zeros((h, w), np.float32)
    glare_add = np.zeros((h, w), np.float32)
    rot, f = np.eye(3), 1.0
    if s.card:
        corners, rot, f = _pose_corners(s, w, h)
        card = render_card(s.layout, rng, s.white_card)
        edge = float(max(np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3])))
        factor = min(1.0, 1.3 * edge / CARD_W)
        small = cv2.resize(card, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else card
        sh, sw = small.shape[:2]
        alpha = np.zeros((sh, sw), np.uint8)
        radius = max(1, int(0.037 * sw))
        cv2.rectangle(alpha, (radius, 0), (sw - radius, sh), 255, -1)
        cv2.rectangle(alpha, (0, radius), (sw, sh - radius), 255, -1)
        for px, py in ((radius, radius), (sw - radius, radius), (radius, sh - radius), (sw - radius, sh - radius)):
            cv2.circle(alpha, (px, py), radius, 255, -1, cv2.LINE_AA)
        src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
        matrix = cv2.getPerspectiveTransform(src, corners)
        warped = cv2.warpPerspective(small, matrix, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)
        card_mask = cv2.warpPerspective(alpha, matrix, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32) / 255
        shadow = cv2.GaussianBlur(card_mask, (0, 0), 0.015 * w)
        shadow = np.roll(shadow, (int(rng.uniform(-0.01, 0.02) * h), int(rng.uniform(-0.01, 0.02) * w)), (0, 1))
        frame *= (1 - rng.uniform(0.2, 0.5) * shadow)[..., None]
        frame = frame * (1 - card_mask[..., None]) + warped * card_mask[..., None]
        if s.fingers:
            frame = _fingers(frame, corners, rng)
        if s.glare:
            glare_add = _glare_field(s, corners, h, w, rng) * card_mask
    # light: a gradient, a spot, a colour cast and the exposure
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = ((xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)) + 0.5
    light = (1 - s.gradient * np.clip(ramp, 0, 1)) * (1 + 0.15 * np.exp(
        -((xx / w - rng.uniform(0, 1)) ** 2 + (yy / h - rng.uniform(0, 1)) ** 2) / 0.08))
    frame = frame * (light * s.exposure)[..., None] * np.array(s.cast, np.float32)
    frame = frame + glare_add[..., None]
    before = np.clip(frame, 0, 255)
    frame = _blur(before, s.blur_kind, s.blur, rng)
    grey = cv2.cvtColor(np.clip(frame, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
    noise = rng.normal(0, 1, frame.shape).astype(np.float32) * (s.noise * np.sqrt(np.maximum(frame, 4) / 128))
    frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
    if s.jpeg:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(s.jpeg)])
        frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)

    truth: dict = {"frame": [w, h]}
    if corners is not None:
        inside = card_mask > 0.5
        washed = inside & (glare_add > 60) & (grey >= 245)
        normal = inside & (glare_add < 5)
        tilt = math.degrees(math.acos(min(1.0, abs(float(rot[2, 2])))))
        truth.update(geometry_truth(corners, w, h))
        truth.update({
            "roll": float(s.roll), "tilt": tilt,
            "blur_rel": float(s.blur) / truth["long_edge_px"],
            "brightness": float(grey[normal].mean()) if normal.any() else float(grey[inside].mean()),
            "glare": float(np.count_nonzero(washed)) / max(1, int(np.count_nonzero(inside))),
        })
    return Frame(frame, corners, truth, label(truth, corners is not None), s)


def geometry_truth(corners: np.ndarray, w: int, h: int) -> dict:
    c = np.asarray(corners, np.float64)
    long_edge = max(np.linalg.norm(c[1] - c[0]), np.linalg.norm(c[2] - c[3]))
    xs, ys = c[:, 0], c[:, 1]
    margin = min(xs.min(), ys.min(), w - xs.max(), h - ys.max()) / min(w, h)
    return {"long_edge_px": float(long_edge), "card_fraction": float(long_edge / w),
            "extent": float(max((xs.max() - xs.min()) / w, (ys.max() - ys.min()) / h)),
            "margin": float(margin)}


def _band(value: float, bad: float, ok: float) -> bool | None:
    """True past the bad limit, False on the good side of the ok limit, None in between."""
    if bad > ok:
        return True if value > bad else (False if value <= ok else None)
    return True if value < bad else (False if value >= ok else None)


def label(t: dict, has_card: bool) -> dict:
    """Which issue codes should fire for a frame with measured truth ``t``."""
    if not has_card:
        return {code: (True if code == "no_card" else None) for code in CODES} | {
            "too_dark": None}
    labels = {
        "no_card": False,
        "too_dark": _band(t["brightness"], DARK_BAD, DARK_OK),
        "too_far": _band(t["card_fraction"], FAR_BAD, FAR_OK),
        "too_close": True if (t["extent"] > CLOSE_BAD_EXTENT or t["margin"] < CLOSE_BAD_MARGIN)
        else (False if t["extent"] <= CLOSE_OK_EXTENT and t["margin"] >= CLOSE_OK_MARGIN else None),
        "tilted": True if (abs(t["roll"]) > ROLL_BAD or t["tilt"] > TILT_BAD)
        else (False if abs(t["roll"]) <= ROLL_OK and t["tilt"] <= TILT_OK else None),
        "blurred": _band(t["blur_rel"], BLUR_BAD, BLUR_OK),
        "glare": _band(t["glare"], GLARE_BAD, GLARE_OK),
    }
    if t["card_fraction"] < 0.25:  # a speck of a card: "no card" is a fair answer too
        labels["no_card"] = None
    if t["margin"] < 0:  # partly outside the frame: "no card" is an acceptable answer too
        labels["no_card"] = None
        for code in ("too_dark", "tilted", "blurred", "glare", "too_far"):
            labels[code] = None
    if labels["too_dark"]:  # in the dark nothing else can be judged reliably
        for code in ("blurred", "glare", "no_card"):
            labels[code] = None
    return labels
