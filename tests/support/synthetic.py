"""Synthetic chip-CCCD fronts and camera scenes, for tests, benchmarks and browser tests.

Nothing here is a real card: the generator draws a CCCD-*like* front (header, portrait on the
left, QR code at the top right carrying a valid ``|``-separated payload, the usual text lines)
with made-up, internally consistent data, and places it in a webcam-like scene with a known
ground truth (the four corners). Vietnamese text is drawn with Pillow and Be Vietnam Pro (from
``fontpkg-be-vietnam-pro``), since ``cv2.putText`` has no diacritics.

    fields = random_fields(rng)
    card = render_card_front(fields, portrait, seed=1)           # 856×540 BGR
    frame, corners = place_in_scene(card, (1280, 720), rng)      # camera frame + TL,TR,BR,BL
    fake_camera_mjpeg("cam.mjpeg", [frame, ...], fps=10)         # Chromium fake webcam

All randomness goes through a ``numpy.random.Generator`` (or an int seed), so every image is
reproducible.
"""
from __future__ import annotations

import io
import math
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

from kiosk.vision.card_outline import CARD_SIZE, PORTRAIT_BOX, QR_BOX

RngLike = np.random.Generator | int | None

CHROMIUM_MJPEG_FPS = 30  # Chromium plays a .mjpeg fake camera at a fixed 30 frames/s


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


# ----------------------------------------------------------------------------- fields

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
           "Dương", "Lý", "Trịnh", "Mai", "Đinh", "Lương", "Hà", "Cao", "Lại"]
_MIDDLE = {
    "Nam": ["Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Đình", "Ngọc", "Thành", "Công"],
    "Nữ": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Phương", "Hồng", "Minh", "Thùy", "Diệu"],
}
_GIVEN = {
    "Nam": ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hoàng", "Hùng", "Khánh",
            "Long", "Mạnh", "Nam", "Phúc", "Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Việt",
            "Vĩnh", "Đức", "Lực", "Thịnh"],
    "Nữ": ["Anh", "Châu", "Diệp", "Giang", "Hà", "Hằng", "Hạnh", "Hoa", "Hương", "Huyền",
           "Lan", "Linh", "Loan", "Mai", "Ngân", "Nhung", "Oanh", "Phượng", "Quỳnh", "Thảo",
           "Trang", "Tuyết", "Vân", "Yến"],
}
_WARDS = ["Điện Biên", "Ba Đình", "Lam Sơn", "Đông Thọ", "Trường Thi", "Ngọc Trạo", "Đông Vệ",
          "Quảng Thắng", "Hàm Rồng", "Đông Hương"]
_STREETS = ["Lê Lợi", "Trần Phú", "Quang Trung", "Bà Triệu", "Lê Hoàn", "Hạc Thành",
            "Phan Chu Trinh", "Nguyễn Trãi", "Tống Duy Tân", "Lạc Long Quân"]
_DISTRICTS = {
    "Quảng Xương": ["Quảng Tâm", "Quảng Phong", "Quảng Định", "Quảng Nhân"],
    "Hoằng Hóa": ["Hoằng Đạt", "Hoằng Quý", "Hoằng Lộc", "Hoằng Thịnh"],
    "Thọ Xuân": ["Xuân Lập", "Thọ Diên", "Xuân Hòa", "Nam Giang"],
    "Nông Cống": ["Công Liêm", "Tế Thắng", "Trung Chính"],
    "Hậu Lộc": ["Đa Lộc", "Hòa Lộc", "Minh Lộc"],
    "Triệu Sơn": ["Dân Lực", "Thọ Dân", "Hợp Thành"],
    "Yên Định": ["Định Tăng", "Yên Trường", "Định Hải"],
    "Nga Sơn": ["Nga Thạch", "Nga Điền", "Nga Liên"],
}
_TODAY_FOR_TESTS = date(2025, 6, 1)  # fixed "today": the same seed gives the same card forever


def _random_date(rng: np.random.Generator, start: date, end: date) -> date:
    days = (end - start).days
    return start + timedelta(days=int(rng.integers(0, max(days, 0) + 1)))


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _expiry(dob: date, issue: date) -> date | None:
    """CCCD validity: renewed at 25, 40 and 60; issued within 2 years before those ages the
    card runs to the next one; from 60 on it does not expire."""
    for age in (25, 40, 60):
        limit = _add_years(dob, age)
        if issue < _add_years(limit, -2):
            return limit
    return None


def _address(rng: np.random.Generator) -> str:
    if rng.random() < 0.4:
        return (f"Số {int(rng.integers(1, 300))} {rng.choice(_STREETS)}, "
                f"Phường {rng.choice(_WARDS)}, TP Thanh Hóa, Thanh Hóa")
    district = str(rng.choice(list(_DISTRICTS)))
    commune = rng.choice(_DISTRICTS[district])
    return f"Thôn {int(rng.integers(1, 12))}, Xã {commune}, Huyện {district}, Thanh Hóa"


def _origin(rng: np.random.Generator) -> str:
    district = str(rng.choice(list(_DISTRICTS)))
    return f"Xã {rng.choice(_DISTRICTS[district])}, {district}, Thanh Hóa"


def random_fields(rng: RngLike = None, today: date = _TODAY_FOR_TESTS) -> dict:
    """A made-up adult holder of a Thanh Hóa (038) chip CCCD, internally consistent.

    The number's 4th digit encodes century and gender (0/1 = 1900s male/female, 2/3 = 2000s)
    and digits 5–6 the birth year, per Circular 07/2016/TT-BCA; the issue date is on or after 2021 (chip
    cards) and after the 14th birthday. Keys: id_number, old_id_number (9 digits or None),
    full_name, date_of_birth, gender, nationality, place_of_origin, address, issue_date,
    expiry_date (date or None = no expiry).
    """
    rng = _rng(rng)
    gender = "Nam" if rng.random() < 0.5 else "Nữ"
    dob = _random_date(rng, date(1950, 1, 1), _add_years(today, -19))
    first_issue = max(date(2021, 1, 1), _add_years(dob, 14))
    issue = _random_date(rng, first_issue, min(today - timedelta(days=30), date(2024, 12, 31)))
    century_digit = 2 * ((dob.year - 1900) // 100) + (0 if gender == "Nam" else 1)
    id_number = f"038{century_digit}{dob.year % 100:02d}{int(rng.integers(0, 10**6)):06d}"
    old_id = f"17{int(rng.integers(0, 10**7)):07d}" if rng.random() < 0.6 else None
    name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE[gender])} {rng.choice(_GIVEN[gender])}"
    return {
        "id_number": id_number,
        "old_id_number": old_id,
        "full_name": name,
        "date_of_birth": dob,
        "gender": gender,
        "nationality": "Việt Nam",
        "place_of_origin": _origin(rng),
        "address": _address(rng),
        "issue_date": issue,
        "expiry_date": _expiry(dob, issue),
    }


def _dmy(value: date | str, sep: str = "") -> str:
    if isinstance(value, str):
        return value
    return f"{value.day:02d}{sep}{value.month:02d}{sep}{value.year:04d}"


def build_qr_payload(fields: dict) -> str:
    """The card's QR text: number | old CMND | name | ddmmyyyy | gender | address | ddmmyyyy."""
    parts = [
        fields["id_number"],
        fields.get("old_id_number") or "",
        fields["full_name"],
        _dmy(fields["date_of_birth"]),
        fields["gender"],
        fields["address"],
        _dmy(fields["issue_date"]),
    ]
    return unicodedata.normalize("NFC", "|".join(str(p) for p in parts))


# ----------------------------------------------------------------------------- card front

_FONT_FILES = {
    "regular": "BeVietnamPro-Regular.ttf",
    "medium": "BeVietnamPro-Medium.ttf",
    "semibold": "BeVietnamPro-SemiBold.ttf",
    "bold": "BeVietnamPro-Bold.ttf",
    "italic": "BeVietnamPro-Italic.ttf",
}
_DEJAVU = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}


@lru_cache(maxsize=64)
def _font(weight: str, size: int) -> ImageFont.FreeTypeFont:
    try:
        data = (resources.files("fontpkg_be_vietnam_pro") / "files" / _FONT_FILES[weight]).read_bytes()
    except (ModuleNotFoundError, OSError):  # fall back to Debian's DejaVu Sans
        name = _DEJAVU["bold" if weight in ("bold", "semibold") else "regular"]
        data = (Path("/usr/share/fonts/truetype/dejavu") / name).read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def _background(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """Light card stock with a faint guilloche pattern (RGB float)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base_a = np.array([232, 238, 228], np.float32) + rng.uniform(-4, 4, 3)
    base_b = np.array([224, 232, 238], np.float32) + rng.uniform(-4, 4, 3)
    t = (xx / w * 0.7 + yy / h * 0.3)[..., None]
    img = base_a * (1 - t) + base_b * t
    phase = rng.uniform(0, 2 * math.pi, 3)
    wave = (np.sin(xx / 9.0 + 6 * np.sin(yy / 47.0 + phase[0]))
            + np.sin(yy / 7.0 + 5 * np.sin(xx / 61.0 + phase[1]))) * 2.5
    rings = np.sin(np.hypot(xx - w * 0.55, yy - h * 0.58) / 5.0 + phase[2]) * 1.8
    img -= (wave + rings)[..., None] * np.array([0.6, 0.9, 0.5], np.float32)
    return img


def _emblem(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(196, 160, 60))
    draw.ellipse((cx - r + 5, cy - r + 5, cx + r - 5, cy + r - 5), fill=(200, 30, 35))
    pts = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rad = (r - 12) if k % 2 == 0 else (r - 12) * 0.4
        pts.append((cx + rad * math.cos(ang), cy + rad * math.sin(ang)))
    draw.polygon(pts, fill=(250, 215, 60))


def _qr_image(payload: str, size: int) -> np.ndarray:
    """The QR symbol (no quiet zone) as a size×size grey image, dark modules 25, light 240."""
    qr = segno.make(payload, micro=False)  # smallest version, error level boosted to fit
    matrix = np.array([[1 if bit else 0 for bit in row] for row in qr.matrix_iter(border=0)],
                      np.uint8)
    n = matrix.shape[0]
    big = cv2.resize(matrix, (n * 12, n * 12), interpolation=cv2.INTER_NEAREST)
    grey = np.where(big > 0, 25, 240).astype(np.uint8)
    return cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)


def _fit_portrait(portrait: np.ndarray, w: int, h: int) -> np.ndarray:
    """Cover-fit a face photo into w×h (RGB), slightly flattened like a printed photo."""
    if portrait.ndim == 2:
        portrait = cv2.cvtColor(portrait, cv2.COLOR_GRAY2BGR)
    elif portrait.shape[2] == 4:
        portrait = cv2.cvtColor(portrait, cv2.COLOR_BGRA2BGR)
    ph, pw = portrait.shape[:2]
    scale = max(w / pw, h / ph)
    resized = cv2.resize(portrait, (max(w, round(pw * scale)), max(h, round(ph * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y0 = (resized.shape[0] - h) // 2
    x0 = (resized.shape[1] - w) // 2
    crop = resized[y0:y0 + h, x0:x0 + w]
    crop = cv2.addWeighted(crop, 0.85, np.full_like(crop, 215), 0.15, 0)
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def _silhouette(w: int, h: int) -> np.ndarray:
    img = np.full((h, w, 3), (190, 205, 220), np.uint8)
    cv2.ellipse(img, (w // 2, int(h * 0.40)), (int(w * 0.23), int(h * 0.20)), 0, 0, 360,
                (120, 125, 135), -1)
    cv2.ellipse(img, (w // 2, h), (int(w * 0.45), int(h * 0.30)), 0, 180, 360,
                (90, 95, 110), -1)
    return img


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    words, lines, line = text.split(" "), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if font.getlength(trial) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def render_card_front(fields: dict | None = None, portrait: np.ndarray | None = None,
                      seed: RngLike = 0) -> np.ndarray:
    """A CCCD-like chip card front, 856×540 BGR uint8 (canonical layout of ``card_outline.py``).

    ``fields``: as from :func:`random_fields` (default: random ones from ``seed``); the QR code
    carries :func:`build_qr_payload` of them. ``portrait``: any face image (grey, BGR or BGRA),
    cover-fitted into the photo box; None draws a faceless silhouette.
    """
    rng = _rng(seed)
    if fields is None:
        fields = random_fields(rng)
    w, h = CARD_SIZE
    img = Image.fromarray(np.clip(_background(w, h, rng), 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    dark, label, red = (28, 28, 32), (70, 70, 78), (190, 30, 40)

    _emblem(draw, 96, 84, 56)
    centre = 398
    for text, weight, size, y, colour in (
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "bold", 21, 22, dark),
        ("SOCIALIST REPUBLIC OF VIET NAM", "medium", 14, 50, label),
        ("Độc lập - Tự do - Hạnh phúc", "semibold", 19, 70, dark),
        ("Independence - Freedom - Happiness", "italic", 14, 95, label),
        ("CĂN CƯỚC CÔNG DÂN", "bold", 32, 116, red),
        ("Citizen Identity Card", "semibold", 15, 154, red),
    ):
        font = _font(weight, size)
        draw.text((centre - font.getlength(text) / 2, y), text, font=font, fill=colour)

    # photo, with a thin frame
    x0, y0, x1, y1 = PORTRAIT_BOX
    photo = _silhouette(x1 - x0, y1 - y0) if portrait is None else _fit_portrait(
        portrait, x1 - x0, y1 - y0)
    img.paste(Image.fromarray(photo, "RGB"), (x0, y0))
    draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=(150, 150, 160))

    small, value, value_bold = _font("regular", 15), _font("medium", 20), _font("bold", 24)
    x = 262
    draw.text((x, 196), "Số / No.:", font=small, fill=label)
    draw.text((x + 90, 186), fields["id_number"], font=_font("bold", 30), fill=dark)
    draw.text((x, 234), "Họ và tên / Full name:", font=small, fill=label)
    draw.text((x, 254), fields["full_name"].upper(), font=value_bold, fill=dark)
    dob = _dmy(fields["date_of_birth"], "/")
    draw.text((x, 292), "Ngày sinh / Date of birth:", font=small, fill=label)
    draw.text((x + 200, 288), dob, font=value, fill=dark)
    draw.text((x, 322), "Giới tính / Sex:", font=small, fill=label)
    draw.text((x + 125, 318), fields["gender"], font=value, fill=dark)
    draw.text((x + 225, 322), "Quốc tịch / Nationality:", font=small, fill=label)
    draw.text((x + 405, 318), fields.get("nationality", "Việt Nam"), font=value, fill=dark)

    y = 352
    for caption, text, max_lines in (
        ("Quê quán / Place of origin:", fields.get("place_of_origin", ""), 1),
        ("Nơi thường trú / Place of residence:", fields["address"], 2),
    ):
        draw.text((x, y), caption, font=small, fill=label)
        start = x + small.getlength(caption) + 10
        lines = [text]
        if value.getlength(text) > 830 - start:  # does not fit after the caption
            y += 20
            lines = _wrap(text, value, 830 - x)
            start = x
        for line in lines[:max_lines]:
            draw.text((start, y - 4), line, font=value, fill=dark)
            y += 26
            start = x
        y += 6

    expiry = fields.get("expiry_date")
    draw.text((x0 - 6, 446), "Có giá trị đến:", font=_font("regular", 13), fill=label)
    draw.text((x0 - 6, 463), "Date of expiry", font=_font("italic", 12), fill=label)
    draw.text((x0 + 96, 450), _dmy(expiry, "/") if expiry else "Không thời hạn",
              font=_font("medium", 15), fill=dark)

    # QR symbol with a small white quiet zone
    qx0, qy0, qx1, qy1 = QR_BOX
    draw.rectangle((qx0 - 8, qy0 - 8, qx1 + 7, qy1 + 7), fill=(240, 240, 240))
    rgb = np.array(img)
    qr = _qr_image(build_qr_payload(fields), qx1 - qx0)
    rgb[qy0:qy1, qx0:qx1] = qr[..., None]
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


# ----------------------------------------------------------------------------- scenes


def _desk(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A cluttered desk-like background (BGR uint8)."""
    palette = [(40, 70, 110), (60, 90, 130), (70, 70, 75), (110, 100, 95), (50, 55, 60),
               (90, 120, 150), (35, 40, 45)]
    base = np.array(palette[int(rng.integers(len(palette)))], np.float32)
    low = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    img = base + low[..., None] * 14
    if rng.random() < 0.6:  # wood grain
        yy = np.arange(h, dtype=np.float32)[:, None]
        xx = np.arange(w, dtype=np.float32)[None, :]
        grain = np.sin(yy / rng.uniform(3, 7) + 3 * np.sin(xx / rng.uniform(80, 200)))
        img += grain[..., None] * rng.uniform(4, 10)
    img += rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    s = w / 1280
    for _ in range(int(rng.integers(3, 9))):
        kind = rng.integers(0, 5)
        colour = tuple(int(c) for c in rng.integers(20, 230, 3))
        cx, cy = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:  # sheet of paper / folder, rotated
            size = (float(rng.uniform(150, 420) * s), float(rng.uniform(150, 420) * s))
            box = cv2.boxPoints(((cx, cy), size, float(rng.uniform(0, 180)))).astype(np.int32)
            shade = int(rng.integers(150, 225)) if rng.random() < 0.5 else None
            cv2.fillPoly(img, [box], (shade,) * 3 if shade else colour, cv2.LINE_AA)
            for k in range(int(rng.integers(0, 8))):  # printed lines on it
                p = box[0] + (box[1] - box[0]) * 0.1 + (box[3] - box[0]) * (0.1 + k * 0.1)
                q = p + (box[1] - box[0]) * 0.7
                cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), (90, 90, 90), 1)
        elif kind == 1:  # pen
            length, ang = rng.uniform(80, 220) * s, rng.uniform(0, math.pi)
            p = (int(cx), int(cy))
            q = (int(cx + length * math.cos(ang)), int(cy + length * math.sin(ang)))
            cv2.line(img, p, q, colour, max(2, int(8 * s)), cv2.LINE_AA)
        elif kind == 2:  # mug seen from above
            r = int(rng.uniform(40, 90) * s)
            cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
            cv2.circle(img, (cx, cy), int(r * 0.8), tuple(c // 2 for c in colour), -1, cv2.LINE_AA)
        elif kind == 3:  # keyboard-ish block
            kw, kh = int(rng.uniform(200, 400) * s), int(rng.uniform(60, 140) * s)
            cv2.rectangle(img, (cx, cy), (cx + kw, cy + kh), (45, 45, 50), -1)
            step = max(6, int(22 * s))
            for yy in range(cy + 4, cy + kh - step, step):
                for xx in range(cx + 4, cx + kw - step, step):
                    cv2.rectangle(img, (xx, yy), (xx + step - 5, yy + step - 5), (75, 75, 80), -1)
        else:  # text scribbles
            for k in range(int(rng.integers(2, 6))):
                cv2.putText(img, "ABC 123", (cx, cy + int(k * 24 * s)), cv2.FONT_HERSHEY_SIMPLEX,
                            0.7 * s + 0.2, colour, 1, cv2.LINE_AA)
    return img


def _camera_quad(w_img: int, h_img: int, width_px: float, centre: tuple[float, float],
                 rotation_deg: float, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Image corners of a card turned in 3-D and seen by a pinhole camera (f = frame width)."""
    f = float(w_img)
    cw, ch = CARD_SIZE
    obj = np.array([[-cw / 2, -ch / 2, 0], [cw / 2, -ch / 2, 0], [cw / 2, ch / 2, 0],
                    [-cw / 2, ch / 2, 0]], np.float64)
    ry, rx, rz = (math.radians(a) for a in (yaw_deg, pitch_deg, rotation_deg))
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    rot_z = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    pts = obj @ (rot_y @ rot_x @ rot_z).T
    z0 = f * cw / width_px  # distance at which the flat card would be width_px wide
    proj = pts[:, :2] * f / (pts[:, 2:3] + z0)
    return (proj + np.array(centre)).astype(np.float32)


def _rounded_mask(w: int, h: int, radius: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.rectangle(mask, (radius, 0), (w - radius - 1, h - 1), 255, -1)
    cv2.rectangle(mask, (0, radius), (w - 1, h - radius - 1), 255, -1)
    for cx, cy in ((radius, radius), (w - radius - 1, radius), (w - radius - 1, h - radius - 1),
                   (radius, h - radius - 1)):
        cv2.circle(mask, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    return mask


def _thumb(frame: np.ndarray, to_frame: np.ndarray, rng: np.random.Generator) -> None:
    """A thumb (and the hand behind it) over the left or bottom edge of the card, never over
    the QR code (top right)."""
    cw, ch = CARD_SIZE
    skin = np.array([95, 135, 190], np.float32) + rng.uniform(-20, 20, 3)
    if rng.random() < 0.5:  # left edge, lower half
        cy = rng.uniform(0.55, 0.85) * ch
        thumb = ((-cw * 0.02, cy), (cw * 0.065, ch * 0.09), 0)
        palm = ((-cw * 0.16, cy + ch * 0.05), (cw * 0.15, ch * 0.30), 0)
    else:  # bottom edge, left/middle
        cx = rng.uniform(0.15, 0.6) * cw
        thumb = ((cx, ch * 1.02), (cw * 0.055, ch * 0.12), 0)
        palm = ((cx + cw * 0.03, ch * 1.28), (cw * 0.16, ch * 0.26), 0)
    for (centre, axes, ang), shade in ((palm, 0.85), (thumb, 1.0)):
        poly = cv2.ellipse2Poly((int(centre[0]), int(centre[1])), (int(axes[0]), int(axes[1])),
                                int(ang), 0, 360, 8).astype(np.float32)
        proj = cv2.perspectiveTransform(poly[None], to_frame)[0]
        colour = tuple(float(c) for c in skin * shade)
        cv2.fillPoly(frame, [np.round(proj).astype(np.int32)], colour, cv2.LINE_AA)


def _lighting(h: int, w: int, strength: float, rng: np.random.Generator) -> np.ndarray:
    """A smooth multiplicative light field in [1 - strength, 1]."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = (xx / w - 0.5) * math.cos(ang) + (yy / h - 0.5) * math.sin(ang)
    ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
    vignette = np.hypot(xx / w - 0.5, yy / h - 0.5) / 0.7071
    field = 1.0 - strength * (0.7 * ramp + 0.3 * vignette)
    return field.astype(np.float32)


def place_in_scene(card: np.ndarray, size: tuple[int, int] = (1280, 720), rng: RngLike = None,
                   *, scale: float | None = None, rotation_deg: float | None = None,
                   perspective: float | tuple[float, float] | None = None,
                   centre: tuple[float, float] | None = None, blur: float | None = None,
                   noise: float | None = None, light: float | None = None,
                   brightness: float | None = None, glare: float = 0.0,
                   occluder: bool | None = None, jpeg_quality: int | None = None,
                   keep_inside: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Photograph ``card`` (856×540 BGR) on a desk with a simulated webcam.

    Returns ``(frame, corners)``: the BGR uint8 frame of ``size`` = (width, height) and the true
    card corners (TL, TR, BR, BL as the card reads; float32 frame pixels).

    Every parameter left at None is drawn from ``rng`` in a range a cooperative customer
    produces (a frame the guidance should accept); pass values to make bad frames:

    * ``scale``: card width / frame width (default: a card 480 px wide or more, filling at
      most ~80 % of the frame);
    * ``rotation_deg``: in-plane rotation (default ±8°); ``perspective``: out-of-plane tilt —
      a number = maximum |yaw|, |pitch| in degrees (random), a pair = exact (yaw, pitch)
      (default up to 12°); ``centre``: card centre in frame pixels;
    * ``blur``: Gaussian sigma of the camera blur in frame pixels (default 0.3–1.0);
      ``noise``: sensor noise sigma (default 1–4);
    * ``light``: strength 0–1 of uneven lighting (default 0–0.35); ``brightness``: overall
      exposure factor (default 0.82–1.03; ~0.25 is a dark room); ``glare``: 0–1, a saturated
      specular patch on the card;
    * ``occluder``: a thumb over the left or bottom edge, away from the QR (default: 30 %);
    * ``jpeg_quality``: JPEG round trip (default 70–95; 0 = none);
    * ``keep_inside``: shrink the card until it fits in the frame (default: only when
      ``scale`` is not given; an explicit ``scale`` may put the card partly outside).
    """
    rng = _rng(rng)
    w_img, h_img = size
    card = card[:, :, :3] if card.ndim == 3 else cv2.cvtColor(card, cv2.COLOR_GRAY2BGR)
    if rotation_deg is None:
        rotation_deg = float(rng.uniform(-8, 8))
    if perspective is None:
        perspective = 12.0
    if isinstance(perspective, tuple | list):
        yaw, pitch = (float(v) for v in perspective)
    else:
        yaw, pitch = (float(rng.uniform(-perspective, perspective)) for _ in range(2))
    if keep_inside is None:
        keep_inside = scale is None
    if scale is None:
        lo = max(480.0 / w_img, 0.38)
        hi = min(0.80, 0.80 * h_img * (CARD_SIZE[0] / CARD_SIZE[1]) / w_img)
        scale = float(rng.uniform(lo, max(lo, hi)))
    width_px = scale * w_img

    def quad_at(c):
        return _camera_quad(w_img, h_img, width_px, c, rotation_deg, yaw, pitch)

    if centre is None:
        probe = quad_at((0.0, 0.0))
        margin = 0.03 * min(w_img, h_img)
        lo_x, hi_x = margin - probe[:, 0].min(), w_img - margin - probe[:, 0].max()
        lo_y, hi_y = margin - probe[:, 1].min(), h_img - margin - probe[:, 1].max()
        if keep_inside:  # shrink until the card fits the frame
            while (lo_x > hi_x or lo_y > hi_y) and width_px > 200:
                width_px *= 0.95
                probe = quad_at((0.0, 0.0))
                lo_x, hi_x = margin - probe[:, 0].min(), w_img - margin - probe[:, 0].max()
                lo_y, hi_y = margin - probe[:, 1].min(), h_img - margin - probe[:, 1].max()
        cx = float(rng.uniform(lo_x, hi_x)) if lo_x <= hi_x else w_img / 2
        cy = float(rng.uniform(lo_y, hi_y)) if lo_y <= hi_y else h_img / 2
        centre = (cx, cy)
    corners = quad_at(centre)

    frame = _desk(w_img, h_img, rng).astype(np.float32)

    # Pre-shrink the card to about its size in the frame (the lens integrates; a plain warp of a
    # big image would alias), then warp it and its rounded-corner mask into the frame.
    shrink = min(1.0, max(np.linalg.norm(corners[1] - corners[0]),
                          np.linalg.norm(corners[2] - corners[3])) / CARD_SIZE[0] * 1.25)
    src_w, src_h = max(8, round(CARD_SIZE[0] * shrink)), max(8, round(CARD_SIZE[1] * shrink))
    src = cv2.resize(card, (src_w, src_h), interpolation=cv2.INTER_AREA) if shrink < 1 else card
    src_w, src_h = src.shape[1], src.shape[0]
    mask = _rounded_mask(src_w, src_h, max(2, round(32 * src_w / CARD_SIZE[0])))
    src_quad = np.array([[0, 0], [src_w, 0], [src_w, src_h], [0, src_h]], np.float32)
    to_frame = cv2.getPerspectiveTransform(src_quad, corners)
    warped = cv2.warpPerspective(src, to_frame, (w_img, h_img), flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(mask, to_frame, (w_img, h_img), flags=cv2.INTER_LINEAR)
    alpha = alpha.astype(np.float32)[..., None] / 255.0
    # a soft shadow under the card
    shadow = cv2.GaussianBlur(alpha, (0, 0), max(2.0, 0.01 * w_img))
    shadow = np.roll(np.roll(shadow, int(0.006 * w_img), 1), int(0.008 * h_img), 0)
    frame *= 1.0 - 0.35 * (shadow[..., None] if shadow.ndim == 2 else shadow)
    frame = frame * (1 - alpha) + warped.astype(np.float32) * alpha

    if occluder is None:
        occluder = bool(rng.random() < 0.3)
    if occluder:
        card_to_frame = cv2.getPerspectiveTransform(
            np.array([[0, 0], [CARD_SIZE[0], 0], [CARD_SIZE[0], CARD_SIZE[1]], [0, CARD_SIZE[1]]],
                     np.float32), corners)
        _thumb(frame, card_to_frame, rng)

    if light is None:
        light = float(rng.uniform(0.0, 0.35))
    if brightness is None:
        brightness = float(rng.uniform(0.82, 1.03))
    frame *= _lighting(h_img, w_img, light, rng)[..., None] * brightness

    if glare > 0:
        card_to_frame = cv2.getPerspectiveTransform(
            np.array([[0, 0], [CARD_SIZE[0], 0], [CARD_SIZE[0], CARD_SIZE[1]], [0, CARD_SIZE[1]]],
                     np.float32), corners)
        gx, gy = rng.uniform(0.3, 0.7) * CARD_SIZE[0], rng.uniform(0.35, 0.7) * CARD_SIZE[1]
        centre_f = cv2.perspectiveTransform(np.array([[[gx, gy]]], np.float32), card_to_frame)[0, 0]
        radius = 0.12 * np.linalg.norm(corners[1] - corners[0]) * (0.6 + glare)
        yy, xx = np.mgrid[0:h_img, 0:w_img].astype(np.float32)
        d2 = ((xx - centre_f[0]) ** 2 + ((yy - centre_f[1]) * 1.6) ** 2) / radius ** 2
        blob = np.exp(-d2) * alpha[..., 0]
        frame += (blob * 400.0 * glare)[..., None]

    if blur is None:
        blur = float(rng.uniform(0.3, 1.0))
    frame = np.clip(frame, 0, 255)
    if blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    if noise is None:
        noise = float(rng.uniform(1.0, 4.0))
    if noise > 0:
        frame += rng.normal(0, noise, frame.shape).astype(np.float32)
    frame = np.clip(frame, 0, 255).astype(np.uint8)

    if jpeg_quality is None:
        jpeg_quality = int(rng.integers(70, 96))
    if jpeg_quality:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        frame = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return frame, corners


# ----------------------------------------------------------------------------- fake camera


def fake_camera_mjpeg(path: str | Path, frames: Iterable[np.ndarray], fps: float = 30.0,
                      quality: int = 90) -> int:
    """Write ``frames`` as an MJPEG file (concatenated baseline JPEGs) for Chromium's
    ``--use-fake-device-for-media-stream --use-file-for-fake-video-capture=cam.mjpeg``.

    Chromium plays such a file at a fixed 30 frames/s and loops it, taking the frame size from
    the first JPEG; so all frames must share one size, and each frame is repeated
    ``round(30 / fps)`` times to show it for about 1/fps seconds. Returns the number of JPEG
    frames written.
    """
    repeat = max(1, round(CHROMIUM_MJPEG_FPS / float(fps)))
    written, shape = 0, None
    with open(path, "wb") as fh:
        for frame in frames:
            if shape is None:
                shape = frame.shape[:2]
            elif frame.shape[:2] != shape:
                raise ValueError(f"all frames must be {shape[1]}×{shape[0]} (Chromium takes the "
                                 f"size from the first frame), got {frame.shape[1]}×{frame.shape[0]}")
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
            if not ok:
                raise ValueError("cannot encode frame as JPEG")
            data = buf.tobytes()
            for _ in range(repeat):
                fh.write(data)
            written += repeat
    return written


def iter_mjpeg(path: str | Path) -> Iterator[np.ndarray]:
    """Decode the frames of a concatenated-JPEG (MJPEG) file, in order."""
    data = Path(path).read_bytes()
    start = 0
    while True:
        soi = data.find(b"\xff\xd8\xff", start)
        if soi < 0:
            return
        # OpenCV writes no thumbnails, so the first EOI after an SOI ends the frame
        eoi = data.find(b"\xff\xd9", soi + 3)
        if eoi < 0:
            return
        frame = cv2.imdecode(np.frombuffer(data[soi:eoi + 2], np.uint8), cv2.IMREAD_COLOR)
        if frame is not None:
            yield frame
        start = eoi + 2


# ----------------------------------------------------------------------------- other cards
#
# The 2024 căn cước (front: portrait and text, no QR; back: QR, chip, residence, dates and a TD1
# zone), the back of the 2021 chip CCCD (chip, fingerprints, TD1 zone), the 2016 barcode CCCD
# (no QR, no zone) and a passport data page (TD3 zone). Each renderer takes ``variant``: "a" is
# the layout the reader was developed on; "b" is a deliberately different generator (other
# fonts, colours, positions and sizes of the portrait, QR and zone, other print quality) used
# only to report on held-out material (bench/bench_mrz.py, bench/bench_qr.py).

CARD_KINDS = ("cccd_chip_2021", "can_cuoc_2024", "cccd_barcode_2016")
PASSPORT_SIZE = (1250, 880)  # TD3 data page, 125 × 88 mm at 10 px/mm
_OCRB = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")  # Debian fonts-ocr-b


@lru_cache(maxsize=16)
def _mrz_font(size: int) -> ImageFont.FreeTypeFont:
    if _OCRB.exists():
        return ImageFont.truetype(str(_OCRB), size)
    # without fonts-ocr-b: a monospaced face of the same pitch (tests still exercise the path)
    return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", size)


@lru_cache(maxsize=16)
def _alt_font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    """The held-out variant's text face (DejaVu Sans, not Be Vietnam Pro)."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path("/usr/share/fonts/truetype/dejavu") / name), size)


def random_holder(rng: RngLike = None, kind: str = "cccd_chip_2021",
                  today: date = _TODAY_FOR_TESTS) -> dict:
    """:func:`random_fields` with the issue date of the card ``kind`` (2024 căn cước: since
    1 July 2024; 2016 barcode card: 2016–2020), its expiry, and a passport number."""
    rng = _rng(rng)
    fields = random_fields(rng, today)
    dob = fields["date_of_birth"]
    if kind == "can_cuoc_2024":
        first = max(date(2024, 7, 1), _add_years(dob, 14))
        fields["issue_date"] = _random_date(rng, first, max(first, today - timedelta(days=10)))
    elif kind == "cccd_barcode_2016":
        first = max(date(2016, 1, 1), _add_years(dob, 14))
        fields["issue_date"] = _random_date(rng, first, max(first, date(2020, 12, 31)))
    fields["expiry_date"] = _expiry(dob, fields["issue_date"])
    fields["passport_number"] = f"{'CNPK'[int(rng.integers(0, 4))]}{int(rng.integers(0, 10**7)):07d}"
    fields["passport_expiry"] = _add_years(fields["issue_date"], 10)
    return fields


def mrz_lines(fields: dict, kind: str = "cccd_chip_2021") -> list[str]:
    """The zone printed on the back (TD1) or the passport data page (TD3)."""
    from kiosk.domain.identity.mrz import make_td3, split_ascii_name, vietnamese_td1

    if kind == "passport":
        surname, given = split_ascii_name(fields["full_name"])
        return make_td3(fields["passport_number"], fields["date_of_birth"],
                        "M" if fields["gender"] == "Nam" else "F", fields["passport_expiry"],
                        surname, given, personal_number=fields["id_number"])
    return vietnamese_td1(fields["id_number"], fields["date_of_birth"], fields["gender"],
                          fields.get("expiry_date"), fields["full_name"])


def _draw_mrz(img: Image.Image, lines: list[str], x: int, y: int, pitch: float, size: int,
              line_gap: int, ink: tuple[int, int, int]) -> None:
    """Zone lines at a fixed character pitch (2.54 mm in Doc 9303), one glyph per cell."""
    draw = ImageDraw.Draw(img)
    font = _mrz_font(size)
    for row, line in enumerate(lines):
        for col, ch in enumerate(line):
            draw.text((x + col * pitch, y + row * line_gap), ch, font=font, fill=ink)


def _chip(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int) -> None:
    draw.rounded_rectangle((x, y, x + w, y + h), radius=12, fill=(205, 170, 80),
                           outline=(150, 120, 50), width=2)
    for k in (1, 2):
        draw.line((x + k * w // 3, y + 6, x + k * w // 3, y + h - 6), fill=(150, 120, 50), width=2)
    draw.line((x + 6, y + h // 2, x + w - 6, y + h // 2), fill=(150, 120, 50), width=2)


def _fingerprint(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int],
                 rng: np.random.Generator) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline=(120, 120, 130), width=2)
    cx, cy = (x0 + x1) / 2 + rng.uniform(-6, 6), (y0 + y1) / 2 + rng.uniform(-6, 6)
    for r in range(6, int(min(x1 - x0, y1 - y0) * 0.42), 5):
        draw.ellipse((cx - r * 0.8, cy - r, cx + r * 0.8, cy + r), outline=(90, 90, 100), width=2)


def _text_block(draw, x, y, rows, label_font, value_font, label, dark, width=None):
    for caption, value in rows:
        draw.text((x, y), caption, font=label_font, fill=label)
        y += label_font.size + 4
        if value:
            lines = _wrap(value, value_font, width) if width else [value]
            for line in lines[:2]:
                draw.text((x, y), line, font=value_font, fill=dark)
                y += value_font.size + 4
        y += 4
    return y


def _print_quality(rgb: np.ndarray, rng: np.random.Generator, variant: str) -> np.ndarray:
    """Print and lamination: slight ink spread, and for the held-out variant a colour cast,
    lower contrast and a little print noise."""
    out = rgb.astype(np.float32)
    if variant == "b":
        cast = rng.uniform(-10, 10, 3)
        contrast = rng.uniform(0.8, 0.95)
        out = (out - 128) * contrast + 128 + cast
        out += rng.normal(0, 4, out.shape[:2])[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def render_front(fields: dict | None = None, portrait: np.ndarray | None = None,
                 seed: RngLike = 0, kind: str = "cccd_chip_2021", variant: str = "a") -> np.ndarray:
    """A front of ``kind`` (856×540 BGR). The 2021 chip front with variant "a" is
    :func:`render_card_front`; the 2024 and 2016 fronts carry no QR."""
    rng = _rng(seed)
    if fields is None:
        fields = random_holder(rng, kind)
    if kind == "cccd_chip_2021" and variant == "a":
        return render_card_front(fields, portrait, rng)
    w, h = CARD_SIZE
    alt = variant == "b"
    bg = _background(w, h, rng)
    if alt:
        bg = bg * np.array([1.0, 0.96, 0.9], np.float32) + np.array([0, 6, 18], np.float32)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    dark, label, red = (28, 28, 32), (70, 70, 78), (190, 30, 40)
    font = (lambda weight, size: _alt_font(weight in ("bold", "semibold"), int(size * 0.9))) \
        if alt else _font

    _emblem(draw, 92, 80, 50 if not alt else 44)
    title = {"can_cuoc_2024": ("CĂN CƯỚC", "IDENTITY CARD"),
             "cccd_barcode_2016": ("CĂN CƯỚC CÔNG DÂN", "Citizen Identity Card"),
             "cccd_chip_2021": ("CĂN CƯỚC CÔNG DÂN", "Citizen Identity Card")}[kind]
    centre = 440 if not alt else 470
    for text, weight, size, y, colour in (
        ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "bold", 20, 24, dark),
        ("Độc lập - Tự do - Hạnh phúc", "semibold", 18, 52, dark),
        (title[0], "bold", 34, 86, red if kind != "can_cuoc_2024" else (20, 60, 140)),
        (title[1], "semibold", 16, 128, red if kind != "can_cuoc_2024" else (20, 60, 140)),
    ):
        f = font(weight, size)
        draw.text((centre - f.getlength(text) / 2, y), text, font=f, fill=colour)

    # portrait: 20 × 30 mm on the 2024 card; placed and sized differently in variant b
    if kind == "can_cuoc_2024":
        box = (40, 170, 240, 470) if not alt else (56, 190, 236, 460)
    else:
        box = (36, 178, 236, 428) if not alt else (60, 160, 250, 400)
    x0, y0, x1, y1 = box
    photo = _silhouette(x1 - x0, y1 - y0) if portrait is None else _fit_portrait(
        portrait, x1 - x0, y1 - y0)
    img.paste(Image.fromarray(photo, "RGB"), (x0, y0))
    draw.rectangle((x0 - 1, y0 - 1, x1, y1), outline=(150, 150, 160))

    small, value = font("regular", 15), font("medium", 21)
    x = 275
    number_caption = ("Số định danh cá nhân / Personal identification number"
                      if kind == "can_cuoc_2024" else "Số / No.")
    draw.text((x, 172), number_caption, font=small, fill=label)
    draw.text((x, 192), fields["id_number"], font=font("bold", 30), fill=(160, 20, 30))
    rows = [("Họ, chữ đệm và tên khai sinh / Full name", fields["full_name"].upper()),
            ("Ngày, tháng, năm sinh / Date of birth", _dmy(fields["date_of_birth"], "/")),
            ("Giới tính / Sex", fields["gender"]),
            ("Quốc tịch / Nationality", fields.get("nationality", "Việt Nam"))]
    if kind == "cccd_barcode_2016":
        rows.append(("Nơi thường trú / Place of residence", fields["address"]))
        expiry = fields.get("expiry_date")
        rows.append(("Có giá trị đến / Date of expiry",
                     _dmy(expiry, "/") if expiry else "Không thời hạn"))
    _text_block(draw, x, 236, rows, small, value, label, dark, width=560)
    rgb = np.array(img)
    if kind == "cccd_chip_2021":  # the held-out 2021 front: its QR smaller and further in
        qx, qy, size = 668, 34, 168
        rgb[qy - 8:qy + size + 8, qx - 8:qx + size + 8] = 240
        rgb[qy:qy + size, qx:qx + size] = _qr_image(build_qr_payload(fields), size)[..., None]
    rgb = _print_quality(rgb, rng, variant)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def render_back(fields: dict | None = None, seed: RngLike = 0, kind: str = "cccd_chip_2021",
                variant: str = "a") -> np.ndarray:
    """A back of ``kind`` (856×540 BGR): 2021 = chip, fingerprints, TD1 zone; 2024 = QR, chip,
    residence, dates, TD1 zone; 2016 = fingerprints and a barcode, no zone."""
    rng = _rng(seed)
    if fields is None:
        fields = random_holder(rng, kind)
    w, h = CARD_SIZE
    alt = variant == "b"
    bg = _background(w, h, rng)
    if alt:
        bg = bg * np.array([0.95, 1.0, 0.97], np.float32) + np.array([8, 0, 4], np.float32)
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    dark, label = (28, 28, 32), (70, 70, 78)
    font = (lambda weight, size: _alt_font(weight in ("bold", "semibold"), int(size * 0.9))) \
        if alt else _font
    small, value = font("regular", 14), font("medium", 18)
    expiry = fields.get("expiry_date")
    issue = _dmy(fields["issue_date"], "/")
    if kind == "can_cuoc_2024":
        qr_size = 200 if not alt else 170
        qx, qy = (30, 26) if not alt else (w - 30 - qr_size, 30)
        draw.rectangle((qx - 8, qy - 8, qx + qr_size + 7, qy + qr_size + 7), fill=(240, 240, 240))
        chip_x = 700 if not alt else 40
        _chip(draw, chip_x, 60 if not alt else 70, 110, 84)
        tx = 260 if not alt else 200
        rows = [("Nơi cư trú / Place of residence", fields["address"]),
                ("Nơi đăng ký khai sinh / Place of birth", fields.get("place_of_origin", "")),
                ("Ngày, tháng, năm cấp / Date of issue", issue),
                ("Ngày, tháng, năm hết hạn / Date of expiry",
                 _dmy(expiry, "/") if expiry else "Không thời hạn")]
        _text_block(draw, tx, 24, rows, small, value, label, dark, width=420 if not alt else 440)
        rgb = np.array(img)
        qr = _qr_image(build_qr_payload(fields), qr_size)
        rgb[qy:qy + qr_size, qx:qx + qr_size] = qr[..., None]
        img = Image.fromarray(rgb, "RGB")
    elif kind == "cccd_chip_2021":
        _chip(draw, 70 if not alt else 90, 40, 120, 92)
        rows = [("Đặc điểm nhân dạng / Personal identification", "Nốt ruồi C:1cm trên mép phải"),
                (f"Ngày, tháng, năm / Date, month, year: {issue}", None),
                ("CỤC TRƯỞNG CỤC CẢNH SÁT", "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI")]
        _text_block(draw, 40, 150, rows, small, value, label, dark, width=460)
        for k, box in enumerate(((560, 40, 690, 210), (710, 40, 840, 210))):
            if alt:
                box = (box[0] - 20, box[1] + 10, box[2] - 20, box[3] + 10)
            _fingerprint(draw, box, rng)
            draw.text((box[0] + 4, box[3] + 4), ("Ngón trỏ trái", "Ngón trỏ phải")[k],
                      font=small, fill=label)
    else:  # 2016 barcode card
        for box in ((40, 40, 170, 210), (190, 40, 320, 210)):
            _fingerprint(draw, box, rng)
        rows = [("Đặc điểm nhân dạng", "Sẹo chấm C:2cm dưới đuôi mắt trái"),
                (f"Ngày {issue}", None), ("CỤC TRƯỞNG CỤC CẢNH SÁT ĐKQL CƯ TRÚ VÀ DLQG VỀ DÂN CƯ",
                                           None)]
        _text_block(draw, 360, 50, rows, small, value, label, dark, width=470)
        bars = rng.integers(0, 2, 95)
        for i, bit in enumerate(bars):
            if bit:
                draw.rectangle((120 + i * 6, 380, 120 + i * 6 + 4, 480), fill=(20, 20, 20))
    if kind != "cccd_barcode_2016":
        pitch = 25.4 if not alt else 25.0
        size = 34 if not alt else 32
        x0 = 48 if not alt else 56
        y0 = 395 if not alt else 405
        _draw_mrz(img, mrz_lines(fields, kind), x0, y0, pitch, size, 44 if not alt else 41,
                  (20, 20, 24))
    rgb = _print_quality(np.array(img), rng, variant)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def render_passport_page(fields: dict | None = None, portrait: np.ndarray | None = None,
                         seed: RngLike = 0, variant: str = "a") -> np.ndarray:
    """A passport data page (1250×880 BGR): portrait left, text, TD3 zone at the bottom."""
    rng = _rng(seed)
    if fields is None:
        fields = random_holder(rng)
    w, h = PASSPORT_SIZE
    alt = variant == "b"
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.array([226, 232, 214] if not alt else [236, 226, 222], np.float32)
    bg = base - (np.sin(xx / 13 + 4 * np.sin(yy / 70)) * 3)[..., None]
    img = Image.fromarray(np.clip(bg, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    font = (lambda weight, size: _alt_font(weight == "bold", size)) if alt else _font
    dark, label = (28, 28, 32), (80, 70, 70)
    draw.text((330, 30), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=font("bold", 28), fill=dark)
    draw.text((330, 70), "HỘ CHIẾU / PASSPORT", font=font("bold", 30), fill=(150, 20, 30))
    box = (50, 150, 330, 520) if not alt else (70, 170, 320, 500)
    x0, y0, x1, y1 = box
    photo = _silhouette(x1 - x0, y1 - y0) if portrait is None else _fit_portrait(
        portrait, x1 - x0, y1 - y0)
    img.paste(Image.fromarray(photo, "RGB"), (x0, y0))
    rows = [("Loại / Type: P     Mã số quốc gia / Code: VNM     Số hộ chiếu / Passport No.",
             fields["passport_number"]),
            ("Họ và tên / Full name", fields["full_name"].upper()),
            ("Quốc tịch / Nationality", "VIỆT NAM"),
            ("Ngày sinh / Date of birth", _dmy(fields["date_of_birth"], "/")),
            ("Giới tính / Sex", "NAM / M" if fields["gender"] == "Nam" else "NỮ / F"),
            ("Ngày cấp / Date of issue", _dmy(fields["issue_date"], "/")),
            ("Có giá trị đến / Date of expiry", _dmy(fields["passport_expiry"], "/")),
            ("Số ĐDCN / Personal No.", fields["id_number"])]
    _text_block(draw, 380, 140, rows, font("regular", 17), font("medium", 24), label, dark,
                width=820)
    _draw_mrz(img, mrz_lines(fields, "passport"), 66 if not alt else 80,
              h - 170 if not alt else h - 160, 25.4, 34, 52, (20, 20, 24))
    rgb = _print_quality(np.array(img), rng, variant)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
