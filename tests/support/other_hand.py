"""ID cards and webcam frames drawn by another hand than tests/support/synthetic.py.

Outside checks run the command-line contract on scenes "made by other generators". This one
shares no code with the project's own drawer, nor with the kiosk's: its own fonts (DejaVu Serif
and Sans Condensed; the zone in OCR-B *Sharp*), card resolution (1012 × 638), layout offsets,
colours and background waves, QR error levels and quiet zones, check digits and QR payload,
desks, perspective, light falloff, blur, noise and JPEG quality. Written from the public facts
only (docs/vision-card.md, «Facts»): the 2021 chip card's QR code on the front, the 2024 căn
cước's on the back above the TD1 zone, the zone's Vietnamese layout. What it does share: the
QR codes are made by segno as the project's drawer makes them; OCR-B Sharp is the same design
as the OCR-B the zone reader's glyphs come from (96.6 % of the ink alike); a card that does not
expire is written as the kiosk writes it (``<<<<<<``, check ``<``).

Faces come from the caller (the face test photos, never copied into the repository).
"""
from __future__ import annotations

import random
import unicodedata
from datetime import date, timedelta

import cv2
import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFont

DEJAVU = "/usr/share/fonts/truetype/dejavu/"
OCR_B_SHARP = "/usr/share/fonts/opentype/ocr-b/OCRBS.otf"
CARD_W, CARD_H = 1012, 638
KINDS = (("cccd_chip_2021", "front"), ("cccd_chip_2021", "back"),
         ("can_cuoc_2024", "front"), ("can_cuoc_2024", "back"))

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
_MIDDLE = ("Văn", "Đức", "Minh", "Ngọc", "Thu", "Quang", "Hữu")
_GIVEN = ("An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Lan", "Long", "Mai", "Nam", "Phúc")
_PLACES = ("Phường Hạc Thành, Tỉnh Thanh Hóa", "Xã Quảng Phú, Tỉnh Thanh Hóa",
           "Phường Sầm Sơn, Tỉnh Thanh Hóa", "Xã Thọ Xuân, Tỉnh Thanh Hóa")


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(name if name.startswith("/") else DEJAVU + name, size)


def holder(rng: random.Random) -> dict:
    """A made-up card holder of Thanh Hóa (province code 038), with a consistent 12-digit
    number: the century-and-sex digit and the birth year's last two digits follow the date."""
    female = rng.random() < 0.5
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    century = 0 if born.year < 2000 else 2
    number = f"038{century + female}{born.year % 100:02d}{rng.randrange(10 ** 6):06d}"
    middle = "Thị" if female else rng.choice(_MIDDLE)
    issued = date(2021 + rng.randrange(4), 1 + rng.randrange(12), 1 + rng.randrange(28))
    return {"id_number": number, "full_name": f"{rng.choice(_SURNAMES)} {middle} {rng.choice(_GIVEN)}",
            "date_of_birth": born, "gender": "Nữ" if female else "Nam",
            "address": f"Số {rng.randrange(1, 300)}, {rng.choice(_PLACES)}",
            "issue_date": issued, "expiry": _expiry(born, issued)}


def _expiry(born: date, issued: date) -> date | None:
    """The card is changed at 25, 40 and 60; one issued within the two years before such a
    birthday lasts to the next; one issued within two years of 60, or after, does not expire."""
    for age in (25, 40, 60):
        day = date(born.year + age, born.month, 28 if (born.month, born.day) == (2, 29) else born.day)
        if day > date(issued.year + 2, issued.month, issued.day):
            return day
    return None


def qr_payload(person: dict) -> str:
    """number | old number | name | ddmmyyyy | sex | address | ddmmyyyy (issue)."""
    def dmy(day: date) -> str:
        return day.strftime("%d%m%Y")
    return unicodedata.normalize("NFC", "|".join(
        (person["id_number"], "", person["full_name"], dmy(person["date_of_birth"]),
         person["gender"], person["address"], dmy(person["issue_date"]))))


def _check_digit(text: str) -> str:
    value = {"<": 0, **{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}}
    return str(sum(value[c] * (7, 3, 1)[i % 3] for i, c in enumerate(text)) % 10)


def _ascii_upper(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if unicodedata.category(c) != "Mn").upper()


def zone_lines(person: dict) -> list[str]:
    """The back's TD1 zone: the last 9 digits as the document number, the 12-digit number in
    the optional field, VNM, the dates and the composite check digit (ICAO 9303 part 5)."""
    number = person["id_number"]
    line1 = f"IDVNM{number[3:]}{_check_digit(number[3:])}{number}<<<"[:30].ljust(30, "<")
    born = person["date_of_birth"].strftime("%y%m%d")
    expiry = person["expiry"].strftime("%y%m%d") if person["expiry"] else "<<<<<<"
    expiry_check = _check_digit(expiry) if person["expiry"] else "<"
    line2 = f"{born}{_check_digit(born)}{'F' if person['gender'] == 'Nữ' else 'M'}" \
            f"{expiry}{expiry_check}VNM".ljust(29, "<")
    line2 += _check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    names = _ascii_upper(person["full_name"]).split()
    line3 = (names[0] + "<<" + "<".join(names[1:])).ljust(30, "<")[:30]
    return [line1, line2, line3]


def _qr(text: str, side: int, rng: random.Random) -> Image.Image:
    code = segno.make(text, error=rng.choice("lmq"), micro=False)
    modules = np.pad(np.array(code.matrix, np.uint8), rng.choice((1, 2, 4)))
    return Image.fromarray((1 - modules) * 255).resize((side, side), Image.NEAREST).convert("RGB")


def _ground(rng: random.Random, tint: tuple[int, int, int]) -> Image.Image:
    y, x = np.mgrid[0:CARD_H, 0:CARD_W]
    base = np.stack([tint[0] + 20 * np.sin(x / 61.0 + rng.random() * 6),
                     tint[1] + 15 * np.sin(y / 47.0 + x / 113.0),
                     tint[2] + 12 * np.cos((x + y) / 71.0)], -1)
    waves = (np.sin(x / 9.0 + 8 * np.sin(y / 57.0)) > 0.97) * 25
    return Image.fromarray(np.clip(base - waves[..., None], 0, 255).astype(np.uint8))


def _tint(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(200, 240), rng.randrange(205, 240), rng.randrange(180, 230)


def _header(draw: ImageDraw.ImageDraw, title: str) -> None:
    x = CARD_W * 0.55
    draw.text((x, 38), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=_font("DejaVuSansCondensed-Bold.ttf", 25),
              fill=(20, 20, 20), anchor="mm")
    draw.text((x, 72), "Độc lập - Tự do - Hạnh phúc", font=_font("DejaVuSerif-Bold.ttf", 22),
              fill=(20, 20, 20), anchor="mm")
    draw.text((x, 122), title, font=_font("DejaVuSerifCondensed-Bold.ttf", 40),
              fill=(200, 22, 22), anchor="mm")


def _fields(draw: ImageDraw.ImageDraw, person: dict, with_address: bool) -> None:
    label, value = _font("DejaVuSansCondensed-Oblique.ttf", 19), _font("DejaVuSerif-Bold.ttf", 26)
    rows = [("Số định danh cá nhân / Personal identification number", person["id_number"]),
            ("Họ, chữ đệm và tên khai sinh / Full name", person["full_name"].upper()),
            ("Ngày sinh / Date of birth", person["date_of_birth"].strftime("%d/%m/%Y")),
            ("Giới tính / Sex", person["gender"])]
    if with_address:
        rows.append(("Nơi thường trú / Place of residence", person["address"]))
    y = 180
    for caption, text in rows:
        draw.text((300, y), caption, font=label, fill=(60, 60, 60))
        colour = (150, 20, 20) if text == person["id_number"] else (10, 10, 10)
        draw.text((300, y + 24), text, font=value, fill=colour)
        y += 66


def _portrait(photo_bgr: np.ndarray) -> Image.Image:
    """The photo's top-centre, as a card's portrait (3:4)."""
    rgb = cv2.cvtColor(photo_bgr if photo_bgr.ndim == 3 else cv2.cvtColor(photo_bgr, cv2.COLOR_GRAY2BGR),
                       cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    side = min(w, h)
    top = rgb[0:min(h, int(side * 1.2)), (w - side) // 2:(w + side) // 2]
    return Image.fromarray(top).resize((230, 290))


def draw_card(kind: str, side: str, person: dict, rng: random.Random,
              photo_bgr: np.ndarray | None = None) -> np.ndarray:
    """One side of a card (CARD_W × CARD_H, BGR). A front needs ``photo_bgr``."""
    card = _ground(rng, _tint(rng))
    draw = ImageDraw.Draw(card)
    if side == "front":
        _header(draw, "CĂN CƯỚC CÔNG DÂN" if kind == "cccd_chip_2021" else "CĂN CƯỚC")
        draw.ellipse((40, 30, 150, 140), fill=(200, 30, 30))
        draw.regular_polygon((95, 85, 35), 5, fill=(250, 220, 0))
        card.paste(_portrait(photo_bgr), (40 + rng.randrange(0, 15), 190 + rng.randrange(-10, 20)))
        if kind == "cccd_chip_2021":
            size = rng.randrange(150, 200)
            card.paste(_qr(qr_payload(person), size, rng),
                       (CARD_W - size - rng.randrange(25, 45), rng.randrange(20, 45)))
        _fields(draw, person, with_address=kind == "cccd_chip_2021")
    else:
        small = _font("DejaVuSerif.ttf", 21)
        if kind == "can_cuoc_2024":
            size = rng.randrange(170, 215)
            card.paste(_qr(qr_payload(person), size, rng), (rng.randrange(30, 60), rng.randrange(25, 50)))
            draw.text((300, 60), "Nơi cư trú / Place of residence", font=small, fill=(40, 40, 40))
            draw.text((300, 90), person["address"], font=_font("DejaVuSansCondensed-Bold.ttf", 24),
                      fill=(10, 10, 10))
            draw.rounded_rectangle((300, 180, 400, 260), 12, fill=(200, 170, 60))
        else:
            draw.rounded_rectangle((60, 90, 170, 170), 12, fill=(200, 170, 60))
            for k in range(2):  # the two fingerprints' boxes
                draw.rectangle((640 + k * 180, 40, 790 + k * 180, 230), outline=(90, 90, 90), width=2)
            draw.text((60, 250), "Ngày, tháng, năm: " + person["issue_date"].strftime("%d/%m/%Y"),
                      font=small, fill=(40, 40, 40))
        zone_font = _font(OCR_B_SHARP, rng.choice((40, 42, 44)))
        for i, line in enumerate(zone_lines(person)):
            draw.text((48, CARD_H - 170 + i * 52), line, font=zone_font, fill=(15, 15, 15))
    return cv2.cvtColor(np.array(card), cv2.COLOR_RGB2BGR)


def scene(card_bgr: np.ndarray, rng: random.Random, size: tuple[int, int] = (1280, 720)) -> bytes:
    """The card on a textured desk as a webcam or phone sees it, whole: 50–80 % of the frame's
    width, turned ±12°, its corners pulled by perspective, light falling off across the frame,
    blurred, noisy, JPEG quality 70–92."""
    out_w, out_h = size
    noise = np.random.default_rng(rng.randrange(10 ** 6))
    desk = np.full((out_h, out_w, 3), rng.randrange(40, 160), np.float64)
    desk += cv2.GaussianBlur(noise.normal(0, 30, (out_h, out_w, 3)), (0, 0), 6)
    width = rng.uniform(0.5, 0.8) * out_w
    height = width * CARD_H / CARD_W
    turn = np.radians(rng.uniform(-12, 12))
    rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    corners = np.array([[-width, -height], [width, -height], [width, height], [-width, height]]) / 2
    corners = corners @ rotation.T + (out_w / 2 + rng.uniform(-80, 80), out_h / 2 + rng.uniform(-40, 40))
    corners += [[rng.uniform(-25, 25), rng.uniform(-15, 15)] for _ in range(4)]
    # the whole card in view, as a check's scene shows it: shrunk and moved in when it is not
    low, high = corners.min(axis=0), corners.max(axis=0)
    margin = 12
    fit = min(1.0, (out_w - 2 * margin) / (high[0] - low[0]), (out_h - 2 * margin) / (high[1] - low[1]))
    corners = (corners - (low + high) / 2) * fit + (low + high) / 2
    low, high = corners.min(axis=0), corners.max(axis=0)
    corners += np.maximum(0, margin - low) - np.maximum(0, high - (np.array(size) - margin))
    matrix = cv2.getPerspectiveTransform(
        np.float32([[0, 0], [CARD_W, 0], [CARD_W, CARD_H], [0, CARD_H]]), np.float32(corners))
    warped = cv2.warpPerspective(card_bgr, matrix, size)
    inside = cv2.warpPerspective(np.full((CARD_H, CARD_W), 255, np.uint8), matrix, size) > 0
    frame = np.where(inside[..., None], warped, desk)
    frame *= np.linspace(rng.uniform(0.8, 1.0), rng.uniform(1.0, 1.15), out_w)[None, :, None]
    frame = cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.3, 1.1))
    frame = np.clip(frame + noise.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
    return _jpeg(frame, rng.randrange(70, 93))


def selfie(photo_bgr: np.ndarray, rng: random.Random, size: tuple[int, int] = (1280, 720)) -> bytes:
    """A webcam frame of the person: the photo filling most of the frame's height in front of
    a plain wall, slightly blurred."""
    out_w, out_h = size
    photo = photo_bgr if photo_bgr.ndim == 3 else cv2.cvtColor(photo_bgr, cv2.COLOR_GRAY2BGR)
    wall = np.full((out_h, out_w, 3), [rng.randrange(90, 200) for _ in range(3)], np.uint8)
    scale = out_h * rng.uniform(0.75, 0.95) / photo.shape[0]
    photo = cv2.resize(photo[:, :, :3], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h, w = photo.shape[:2]
    x0 = max(0, (out_w - w) // 2 + rng.randrange(-100, 100))
    w = min(w, out_w - x0)
    wall[out_h - h:, x0:x0 + w] = photo[:, :w]
    return _jpeg(cv2.GaussianBlur(wall, (0, 0), rng.uniform(0.3, 0.9)), rng.randrange(75, 92))


def _jpeg(frame: np.ndarray, quality: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()
