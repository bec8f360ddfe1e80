"""Read an ID document from one or more camera frames, either side, in any order: the pipeline
behind ``flask --app kiosk vision read-card IMAGE [IMAGE]`` (docs/cli.md; the JSON is documented
in docs/vision-card.md).

For each frame (:func:`read_side`):

    find the card (guidance.analyse_frame → card.find_card, which wants a QR code in a corner)
    → decode a QR code wherever it is (qr.decode_card_qr: zxing-cpp, then OpenCV's WeChat
      reader; card region first, then the whole frame) and parse it (identity.qr_payload) —
      the fields are returned whenever the QR decodes, found outline or not
    → read a machine-readable zone wherever it is (mrz_ocr.read_mrz, at the usual scale; at
      two others only for a frame that shows neither a zone nor a portrait), but not inside a
      2021 chip front placed by its QR code (that side has none: :func:`_front_without_zone`)
    → find the portrait: the 2021 layout box when the outline is known, else the biggest face
      on the left of a card outline found without the QR test, else through the card's place
      extrapolated from its QR code, else a card-sized face anywhere, at any angle
      (portrait_search; on a back read by its zone, only along the zone), handed over upright
    → on a front whose QR code did not read, the printed number, date of birth and sex by OCR
      (printed_number), kept only when consistent

then name the side (data page: a TD3 zone; front: a portrait; back: a TD1 zone read with its
check digits; a QR code alone: by where the card lies around it, or no side) and merge the
sides (:func:`merge_sides`): the QR fields from whichever side carried the QR (else the printed
number, never against the zone), the portrait from the front, the zone from the back or the
data page, the card kind from what was seen on all of them, the expiry date from the zone (or,
for a CCCD read only through its QR, from the renewal ages), what the zone and the QR disagree
on, and where each field came from (``field_sources``).

Nothing heavy happens at import time: dlib's HOG detector and Tesseract load on first use.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import cv2
import numpy as np

from kiosk.domain.identity.documents import card_expiry
from kiosk.domain.identity.qr_payload import QrPayloadError, parse_cccd_qr
from kiosk.vision import card_outline, card_portrait, card_track, guidance, portrait_search
from kiosk.vision import qr_decode as qr
from kiosk.vision.card_outline import CARD_SIZE

FIELDS = ("id_number", "old_id_number", "full_name", "date_of_birth", "gender", "address",
          "issue_date")
CARD_KINDS = ("cccd_chip_2021", "can_cuoc_2024", "cccd_barcode_2016", "passport")
EMPTY_MRZ = {"found": False, "valid": False, "document_number": None, "date_of_birth": None,
             "sex": None, "expiry_date": None}


def _empty_fields() -> dict:
    return dict.fromkeys(FIELDS)


def _upside_down(corners: np.ndarray, qr_points: np.ndarray) -> bool:
    """Whether the QR code (found anywhere in the frame) sits where the top-right corner of
    the card would be if the card were upside down under this corner ordering."""
    centre = qr_points.reshape(-1, 2).mean(axis=0).astype(np.float32)
    on_card = cv2.perspectiveTransform(centre[None, None], card_outline.card_homography(corners))[0, 0]
    w, h = card_outline.CARD_SIZE
    return bool(on_card[0] < w / 2 and on_card[1] > h / 2)


def _qr_on_card(corners: np.ndarray, qr_points: np.ndarray) -> tuple[float, float]:
    """The QR code's centre in canonical card pixels."""
    centre = qr_points.reshape(-1, 2).mean(axis=0).astype(np.float32)
    x, y = cv2.perspectiveTransform(centre[None, None], card_outline.card_homography(corners))[0, 0]
    return float(x), float(y)


def _upside_down_in_frame(corners: np.ndarray) -> bool:
    """The card's top edge (as it reads) runs right-to-left in the frame."""
    dx, dy = corners[1] - corners[0]
    return bool(abs(np.degrees(np.arctan2(dy, dx))) > 90)


def _plausible(corners: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Corners extrapolated from the QR code: keep them only if the card mostly lies in the frame."""
    h, w = shape[:2]
    inside = ((corners[:, 0] > -0.15 * w) & (corners[:, 0] < 1.15 * w)
              & (corners[:, 1] > -0.15 * h) & (corners[:, 1] < 1.15 * h))
    return bool(inside.all())


@dataclass
class SideRead:
    """What one frame showed."""
    side: str | None = None  # "front" | "back" | "data_page" | None
    corners: np.ndarray | None = None
    located_by: str | None = None  # "outline" | "qr" | "portrait" | "mrz" | None
    qr_result: qr.QrResult | None = None
    # where the QR code is, when not on this frame's own side: "back" for a page that shows
    # both sides of a 2024 căn cước (its code on the back, beside a front): see _qr_side_for
    qr_side: str | None = None
    fields: dict = field(default_factory=_empty_fields)
    qr_error: str | None = None
    mrz: object | None = None  # mrz_ocr.MrzRead
    portrait: np.ndarray | None = None
    portrait_found: bool = False
    portrait_hit: object | None = None  # portrait_search.PortraitHit, when found at any angle
    printed: object | None = None  # printed_number.PrintedRead, when the print was read
    quality: dict = field(default_factory=dict)

    @property
    def qr_valid(self) -> bool:
        return self.qr_result is not None and self.qr_error is None

    @property
    def mrz_format(self) -> str | None:
        data = getattr(self.mrz, "data", None)
        return data.format if data is not None else None


def _check_image(image) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError("read_card needs a uint8 image array (grey, BGR or BGRA)")
    return card_outline.to_bgr(image)


def _qr_fields(text: str, today: date | None) -> dict:
    """The contract's fields from a CCCD QR payload (QrPayloadError when it is not one)."""
    data = parse_cccd_qr(text, today=today)
    return dict(id_number=data.id_number, old_id_number=data.old_id_number,
                full_name=data.full_name, date_of_birth=data.date_of_birth.isoformat(),
                gender=data.gender, address=data.address, issue_date=data.issue_date.isoformat())


def apply_qr_payload(result: dict, text: str, *, source: str, today: date | None = None) -> dict:
    """``result`` (a read-card object) with the fields of a QR payload read elsewhere (a
    preview frame), each field's source named ``source``; unchanged when it does not parse."""
    try:
        fields = _qr_fields(text, today)
    except QrPayloadError:
        return result
    merged = {**result, **fields}
    merged["field_sources"] = {**(result.get("field_sources") or {}),
                               **{name: source for name, value in fields.items() if value}}
    merged["card_found"] = True
    if merged.get("date_of_birth") and merged.get("issue_date") and not merged.get("expiry_known"):
        end = card_expiry(date.fromisoformat(merged["date_of_birth"]),
                          date.fromisoformat(merged["issue_date"]))
        merged["expiry_date"], merged["expiry_known"] = (end.isoformat() if end else None), True
    return merged


def _read_qr(frame: np.ndarray, corners: np.ndarray | None, read: SideRead,
             today: date | None) -> np.ndarray | None:
    result = qr.decode_card_qr(frame, corners)
    read.qr_result = result
    if result is None:
        return corners
    if result.where == "card_rotated" or result.where == "frame" and result.points is not None and corners is not None \
            and _upside_down(corners, result.points):
        corners = card_outline.rotate_corners(corners, 2)
    try:
        read.fields.update(_qr_fields(result.text, today))
    except QrPayloadError as err:
        read.qr_error = err.message
    return corners


def _portrait_from_qr(frame: np.ndarray, read: SideRead, detector) -> bool:
    """The 2021 front's portrait through the card's place extrapolated from its QR code: the QR
    code says which way up the card is, at any angle (a card on its side, upside down, tilted),
    where an outline found alone cannot."""
    result = read.qr_result
    if result is None or result.points is None:
        return False
    guess = card_outline.corners_from_qr(result.points)
    if not _plausible(guess, frame.shape):
        return False
    crop = card_portrait.portrait_crop(frame, guess)
    if not card_portrait.portrait_has_face(crop, detector):
        crop, turned = card_portrait.portrait_on_card(card_outline.warp_card(frame, guess), detector)
        if crop is None or turned:
            return False
    read.corners, read.located_by = guess, read.located_by or "qr"
    read.portrait, read.portrait_found = crop, True
    return True


def _zone_read(read: SideRead) -> bool:
    """A machine-readable zone read with every check digit right (a TD1 zone: a card's back)."""
    return bool(read.mrz is not None and read.mrz.valid)


def _zone_on_outline(read: SideRead) -> np.ndarray | None:
    """The corners of a zone read with its check digits inside the card's found outline (so
    the outline is the back's own, not a frame printed on another card), else None. The zone's
    lines run along the card's long sides."""
    box = getattr(read.mrz, "box", None)
    if read.corners is None or box is None or not _zone_read(read):
        return None
    box = np.asarray(box, np.float32).reshape(4, 2)
    cx, cy = box.mean(axis=0)
    outline = np.asarray(read.corners, np.float32).reshape(-1, 1, 2)
    if cv2.pointPolygonTest(outline, (float(cx), float(cy)), False) < 0:
        return None
    return box


def _find_portrait(frame: np.ndarray, read: SideRead, detector) -> None:
    """The portrait by the cheapest way that works (see the module docstring). ``detector``:
    YuNet (card.face_detector), or None for dlib's HOG."""
    corners, result = read.corners, read.qr_result
    if corners is not None and result is not None:
        # a 2021 front held the right way up: the photo box of the canonical layout
        crop = card_portrait.portrait_crop(frame, corners)
        if card_portrait.portrait_has_face(crop, detector):
            read.portrait, read.portrait_found = crop, True
            return
    if corners is not None:
        warp = card_outline.warp_card(frame, corners)
        crop, turned = card_portrait.portrait_on_card(warp, detector)
        # kept only when the face comparison will find the face in it too: an outline that
        # was the portrait's own frame (a drawn card's photo, taller than wide, straightened
        # as a card on its side) gives a face on its side, stretched, that the detector takes
        # on the whole card but not in the crop; the searches below then find it upright
        if crop is not None and card_portrait.portrait_has_face(crop, detector) is not False:
            read.portrait, read.portrait_found = crop, True
            if turned:
                read.corners = card_outline.rotate_corners(corners, 2)
            return
        if not _zone_read(read):  # a back has no portrait to look for
            crop = card_portrait.portrait_near(frame, corners, detector)
            if crop is not None:
                read.portrait, read.portrait_found = crop, True
                return
    if _portrait_from_qr(frame, read, detector):
        return
    # the costly whole-frame search, at any angle, when nothing else found the portrait: a QR
    # code without a face next to it is not taken to be a back (a card held close or at an
    # angle hides its outline, not its face), nor are lines of print that look like a zone
    # (the address lines at the bottom of a 2021 front); a zone read with its check digits is
    # searched too, for a page that shows both sides of the card (a photocopy, a scan)
    zone = _zone_on_outline(read)
    # a back, its zone read on its found outline: the other side on the same page (a
    # photocopy, a scan) is printed along the same lines, either way up; two passes at the
    # zone's own angle instead of eight (~0.2 s instead of ~0.9 s, docs/performance.md)
    angles = (portrait_search.angles_along(zone) if zone is not None
              else portrait_search.SEARCH_ANGLES)
    hit = portrait_search.find_portrait(frame, detector, angles=angles)
    if hit is not None:
        read.portrait, read.portrait_found = hit.crop, True
        read.portrait_hit = hit
        read.located_by = read.located_by or "portrait"
        return
    if detector is None:  # no YuNet model: dlib's HOG, upright only
        crop = card_portrait.portrait_in_frame(frame, detector=None)
        if crop is not None:
            read.portrait, read.portrait_found = crop, True
            read.located_by = read.located_by or "portrait"


# Where a QR code may lie from a TD1 zone on the same card, in zone widths along the zone's
# lines (u) and across them, downwards as the zone reads (v). A zone is ~0.9 of its card's
# width, and the card 0.63 of its width high with the zone at its bottom: the card reaches
# ~0.55 zone widths to either side of the zone's centre and ~0.62 above it (its top edge). The
# 2024 back's code measured u ±0.40, v −0.39 to −0.44 (drawn and real scans); a 2021 front's
# code on the same page v −1.2 (front above the back), +0.3 (below it), u ±0.77 (side by
# side), and v −0.77 to −0.81 with the front turned half round above the back (its code then
# at its lower edge, next to the back's top edge).
ZONE_CARD_U = 0.55
ZONE_CARD_V = (-0.65, 0.0)
# How far (a share of the card's size on every side) a QR code may lie outside the card that
# a face found alone places (PortraitHit.card_corners: ±20 % in scale) and still be its own.
FACE_CARD_MARGIN = 0.2


def _qr_side_for(read: SideRead, held_card: bool) -> str | None:
    """``SideRead.qr_side`` for a read made (or kept) with this ``held_card``: "back" for a
    front on a page whose code lies on the other card; a card held up shows one side only."""
    if not held_card and read.side == "front" and _qr_on_other_card(read):
        return "back"
    return None


def _qr_on_other_card(read: SideRead) -> bool:
    """Whether a front's QR code lies on another card than its portrait: a page that shows both
    sides (a scan, a photocopy), the code on the back beside the front. A 2021 chip card
    carries its code on the front, by the portrait; a 2024 căn cước on its back, above the
    zone: such a page is a 2024 card, not a 2021 front (card_kind).

    Only a code found by a search of the frame counts (one found at a card's own QR corner is
    that card's). Where the page's back was read by its zone, the zone says which card the code
    is on; else, where the portrait was found by a search of the frame, the card its face
    places; else nothing is changed. (The outline found on such a page may be the portrait's
    own frame or the whole sheet, not a card: it places nothing.)"""
    result = read.qr_result
    if result is None or result.points is None or result.where != "frame":
        return False
    centre = np.asarray(result.points, np.float32).reshape(-1, 2).mean(axis=0)
    zone = read.mrz
    if zone is not None and zone.valid and zone.box is not None and zone.upside_down is not None:
        tl, tr, br, bl = card_outline.order_corners(zone.box)
        if zone.upside_down:  # read turned half round: as it reads, the box's BR is its TL
            tl, tr, bl = br, bl, tr
        width = float(np.linalg.norm(tr - tl))
        if width < 1:
            return False
        along = (tr - tl) / width
        down = (bl - tl) / max(float(np.linalg.norm(bl - tl)), 1e-6)
        offset = centre - np.asarray(zone.box, np.float32).reshape(-1, 2).mean(axis=0)
        u, v = float(offset @ along) / width, float(offset @ down) / width
        return abs(u) <= ZONE_CARD_U and ZONE_CARD_V[0] <= v <= ZONE_CARD_V[1]
    if read.portrait_hit is None:
        return False
    x, y = _qr_on_card(read.portrait_hit.card_corners(), result.points)
    w, h = card_outline.CARD_SIZE
    m = FACE_CARD_MARGIN
    return not (-m * w <= x <= (1 + m) * w and -m * h <= y <= (1 + m) * h)


def _qr_side(read: SideRead, shape: tuple[int, ...]) -> str | None:
    """The side that a QR code with no portrait and no zone beside it is on, from where the card
    lies around the code: the 2021 front carries it at its right edge (the title, the portrait
    and the text to its left), the 2024 back near its left edge. None when neither is clear (a
    small card in a big photo whose outline was not found): never a guess of "back"."""
    points = read.qr_result.points
    if read.corners is not None and read.located_by == "outline":
        x, _ = _qr_on_card(read.corners, points)
        return "front" if x > card_outline.CARD_SIZE[0] * 0.5 else "back"
    # the frame's extent on each side of the code, in code widths, along the code's own axis
    pts = np.asarray(points, np.float32).reshape(4, 2)
    across = pts[1] - pts[0]
    size = float(np.linalg.norm(across))
    if size < 1:
        return None
    axis = across / size
    h, w = shape[:2]
    frame_corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    along = (frame_corners - pts.mean(axis=0)) @ axis / size
    left, right = -float(along.min()) - 0.5, float(along.max()) - 0.5
    if right < 1.0 and left >= 2.5:
        return "front"
    if left < 1.0 and right >= 2.5:
        return "back"
    return None


# The print is read at the card's own resolution in the photo, between these widths (a card
# 2500 px wide is read at twice the canonical size: Tesseract gains nothing beyond).
_PRINT_WIDTHS = (CARD_SIZE[0], 2 * CARD_SIZE[0])


def _whole_frame(shape: tuple[int, ...], quarter_turns: int) -> np.ndarray | None:
    """The frame's corners as the card's (TL, TR, BR, BL as it reads), when the frame has the
    card's shape the way the card is turned: a tight crop, or a card held to fill the camera."""
    h, w = shape[:2]
    across, down = (w, h) if quarter_turns % 2 == 0 else (h, w)
    if abs(across / down - card_outline.CARD_ASPECT) > 0.1 * card_outline.CARD_ASPECT:
        return None
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return np.roll(frame, quarter_turns, axis=0)


def _print_places(shape: tuple[int, ...], read: SideRead) -> list[np.ndarray]:
    """Where the card may lie, most trusted first: the outline (or the QR code's place); the
    frame itself when it has the card's shape (its edges are the frame's, so an outline found
    inside it may be the portrait's frame); where the portrait's face puts it."""
    places = [read.corners] if read.corners is not None else []
    hit = read.portrait_hit
    whole = _whole_frame(shape, hit.quarter_turns if hit is not None else 0)
    if whole is not None:
        places.append(whole)
    if hit is not None:
        places.append(hit.card_corners())
    distinct = []
    for quad in places:
        if all(np.abs(quad - other).max() > 0.05 * max(shape[:2]) for other in distinct):
            distinct.append(quad)
    return distinct


def _read_print(frame: np.ndarray, read: SideRead, today: date | None) -> None:
    """The number, date of birth and sex printed on a front whose QR code was not read, tried
    where the card may lie (:func:`_print_places`) until one reads consistently. Kept only when
    consistent (kiosk.domain.identity.printed_id)."""
    from kiosk.vision import printed_number

    for corners in _print_places(frame.shape, read):
        width = float(np.linalg.norm(corners[1] - corners[0]))
        out_w = int(np.clip(width, *_PRINT_WIDTHS))
        size = (out_w, round(out_w / card_outline.CARD_ASPECT))
        try:
            read.printed = printed_number.read_printed_front(
                card_outline.warp_card(frame, corners, size), today=today)
        except printed_number.OcrUnavailable:
            read.printed = None
            return
        if read.printed.id_number:
            return


# Where the 2021 chip front's QR code sits (QR_BOX: centre at 86 % across, 22 % down), with room
# for a rough outline; the 2024 back carries its code near its left edge (upside down: at the
# bottom right), so it never falls here.
_FRONT_QR_MIN_X, _FRONT_QR_MAX_Y = 0.62, 0.45


# An outline along the frame's edge (within guidance's border margin) whose sides are this far
# from a card's (log of the ratio) is the edge of a scanned page, not a card.
_PAGE_ASPECT_OFF = 0.10


def _front_without_zone(read: SideRead, frame_shape: tuple[int, ...]) -> np.ndarray | None:
    """The outline of a 2021 chip front — found with its QR code in the corner, the code read
    and lying at the top right of the card — or None. That side has no machine-readable zone:
    zone-like lines inside it are its address lines, and reading them is ~0.25 s of Tesseract
    for nothing. A zone elsewhere in the frame (the back beside it on a page) is still read,
    and so is every zone when the "outline" is the page itself (a scan of both sides)."""
    if read.corners is None or read.located_by != "outline" or not read.qr_valid \
            or read.qr_result.points is None or _page_edge(read.corners, frame_shape):
        return None
    x, y = _qr_on_card(read.corners, read.qr_result.points)
    w, h = card_outline.CARD_SIZE
    if x < _FRONT_QR_MIN_X * w or y > _FRONT_QR_MAX_Y * h:
        return None
    return read.corners


def _page_edge(corners: np.ndarray, frame_shape: tuple[int, ...]) -> bool:
    """The outline runs along the frame's edge and is not card-shaped: a page, not a card."""
    h, w = frame_shape[:2]
    margin = guidance.DEFAULT_LIMITS.border_margin * min(w, h)
    xs, ys = corners[:, 0], corners[:, 1]
    on_edge = bool(xs.min() < margin or ys.min() < margin
                   or xs.max() > w - 1 - margin or ys.max() > h - 1 - margin)
    if not on_edge:
        return False
    sides = [float(np.linalg.norm(corners[(i + 1) % 4] - corners[i])) for i in range(4)]
    long_side, short_side = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if min(long_side, short_side) <= 0:
        return True
    ratio = max(long_side, short_side) / min(long_side, short_side)
    return bool(abs(np.log(ratio / card_outline.CARD_ASPECT)) > _PAGE_ASPECT_OFF)


def _read_zone_at_other_scales(frame: np.ndarray, read: SideRead, today: date | None) -> None:
    """The zone looked for again with the frame shrunk more and less (a card filling a big
    photo, a small card in a tall one): only for a frame that showed neither a zone nor a
    portrait at the usual scale, so a front never pays for it."""
    from kiosk.vision import mrz_ocr

    again = mrz_ocr.read_mrz(frame, today=today, work_sides=mrz_ocr.OTHER_WORK_SIDES,
                             not_inside=_front_without_zone(read, frame.shape))
    if again.valid or (again.found and not read.mrz.found):
        read.mrz = again


def read_side(image: np.ndarray, today: date | None = None, *, with_mrz: bool = True,
              models_dir=None, read_print: bool = True, held_card: bool = False,
              card_qr_read: bool = False, hint: str | None = None) -> SideRead:
    """Everything one frame shows (QR, zone, portrait, outline), and which side it is.
    ``models_dir``: YuNet's folder (the engine's FACE_MODELS_DIR; None = the default).

    ``held_card``: the frame is a camera shot of one card held up, one side (the kiosk's
    camera at steps 1 and 6), never a page that may show both sides (a scan, a photocopy).
    Then a side whose TD1 zone reads with its check digits is a back and nothing more: no
    portrait is looked for on it (~0.3 s of YuNet over the frame), and a side shown to be a
    2021 chip front by its QR code is not searched for a zone (~12 ms). ``card_qr_read`` (with
    ``held_card``): another photo of the card read its QR code, and a card carries one only (a
    2021 chip card on its front, a 2024 căn cước on its back), so none is looked for here
    (~0.15 s on a side without one).

    ``hint``: where the camera's preview frames just before this shot found the card, as the
    browser sent it back (card_track's text, in this frame's pixels; untrusted). The card is
    looked for there first: the kiosk shoots after frames that found the card held still, so
    the search of the whole frame (more than half of a front's read) is spared. Unlike a
    preview frame, the photo only follows a card that has not moved (its sides within a few
    pixels of the hint): its read is kept and carried, and a side that drifted onto print
    would stay there. Otherwise, or when the hint does not fit, the frame is searched whole,
    for the few milliseconds of trying."""
    frame = _check_image(image)
    detector = card_portrait.face_detector(models_dir)
    near = (card_track.corners_to_follow(card_track.parse_hint(hint, frame.shape[1],
                                                               frame.shape[0]))
            if hint else None)
    verdict = guidance.analyse_frame(frame, hint=near, hint_still_only=True)
    read = SideRead(corners=verdict.corners,
                    located_by="outline" if verdict.corners is not None else None)
    if not (held_card and card_qr_read):
        read.corners = _read_qr(frame, read.corners, read, today)
    # a card without a QR code in its corner (2024 front, any back): its outline is only
    # believed once a portrait or a zone is found on it
    loose = card_outline.find_card(frame, require_qr_corner=False) if read.corners is None else None
    zoneless_front = _front_without_zone(read, frame.shape)
    # one card held up, shown to be a 2021 chip front by its QR code in the corner: the card has
    # no zone on this side and shows no other side, so nothing in the frame is its zone (the
    # search for zone-like blocks alone cost a front photo ~12 ms)
    no_zone_here = held_card and zoneless_front is not None
    if with_mrz:
        from kiosk.vision import mrz_ocr

        try:
            read.mrz = (mrz_ocr.NOTHING_READ if no_zone_here else
                        mrz_ocr.read_mrz(frame, today=today, work_sides=mrz_ocr.FIRST_WORK_SIDES,
                                         not_inside=zoneless_front))
        except mrz_ocr.OcrUnavailable:
            read.mrz = None
    # a card's back held up on its own: there is no portrait to look for
    look_for_portrait = not (held_card and _zone_read(read) and read.mrz_format == "TD1")
    if read.corners is None and loose is not None:
        read.corners, read.located_by = loose, "outline"
        if look_for_portrait:
            _find_portrait(frame, read, detector)  # the whole frame too, when not on the outline
        if not read.portrait_found and not (read.mrz is not None and read.mrz.found):
            read.corners, read.located_by = None, None  # a sheet of paper, not a card
    elif look_for_portrait:
        _find_portrait(frame, read, detector)
    if with_mrz and read.mrz is not None and not read.mrz.valid and not read.portrait_found \
            and not no_zone_here:
        _read_zone_at_other_scales(frame, read, today)
    if read.corners is None and read.mrz is not None and read.mrz.valid:
        read.located_by = "mrz"

    # which side: a TD3 zone = passport data page; a portrait = a front; a TD1 zone = a back
    if read.mrz_format == "TD3":
        read.side = "data_page"
    elif read.portrait_found:
        read.side = "front"
    elif _zone_read(read):
        read.side = "back"
    elif read.qr_result is not None and read.qr_result.points is not None:
        read.side = _qr_side(read, frame.shape)
    elif read.mrz is not None and read.mrz.found:
        read.side = "back"  # zone-like lines, unread, and nothing else: most likely a back
    elif read.corners is not None:
        read.side = "back"
    read.qr_side = _qr_side_for(read, held_card)
    if with_mrz and read_print and read.side == "front" and not read.qr_valid:
        # no QR code: the number printed beside the portrait (only on a full read: a face
        # check that skips the zone skips this too)
        _read_print(frame, read, today)
    read.quality = {
        "ok": verdict.ok, "issues": list(verdict.issues), "messages": list(verdict.messages),
        **verdict.metrics,
        "card_located_by": read.located_by,
        "upside_down": read.corners is not None and _upside_down_in_frame(read.corners),
        "qr_found": read.qr_result is not None,
        "qr_decoder": read.qr_result.decoder if read.qr_result else None,
        "qr_valid": read.qr_valid,
        "qr_error": read.qr_error,
        "mrz_found": bool(read.mrz is not None and read.mrz.found),
        "mrz_valid": bool(read.mrz is not None and read.mrz.valid),
        "side": read.side,
        "printed_read": read.printed is not None,
        "printed_problems": list(read.printed.problems) if read.printed is not None else [],
    }
    return read


def print_would_be_read(read: SideRead) -> bool:
    """Whether ``read_print`` changes this read: only a front whose QR code was not read has
    its print read (:func:`read_side`); any other side reads the same either way."""
    return read.side == "front" and not read.qr_valid


def _cache_keys(key, today: date | None, with_mrz: bool, models_dir, read_print: bool,
                held_card: bool) -> list[tuple]:
    """The keys under which a read that serves this call may be kept, best first: the exact
    one, then the read with the other ``held_card`` (either is a true read of the photo: the
    held card's skips only what one side held up cannot show; :func:`kept_side_read` says
    where the two differ)."""
    base = (key, today or date.today(), with_mrz, str(models_dir or ""))
    return [(*base, read_print, held_card), (*base, read_print, not held_card)]


def kept_side_read(key, today: date | None = None, *, with_mrz: bool = True, models_dir=None,
                   read_print: bool = True, held_card: bool = False) -> SideRead | None:
    """The read :func:`read_side_cached` would answer without reading, or None."""
    from kiosk.vision.photo_cache import SIDE_READS

    read_print = read_print and with_mrz  # without the zone the print is never read
    for exact in _cache_keys(key, today, with_mrz, models_dir, read_print, held_card):
        found = SIDE_READS.get(exact)
        if found is None and with_mrz:
            # the other read_print's read is this one too when the print was not read
            other = SIDE_READS.get((*exact[:4], not read_print, exact[5]))
            if other is not None and not print_would_be_read(other):
                found = other
        if found is None:
            continue
        if exact[5] == held_card:
            return found
        # kept under the other held_card: the same read, except where a zone was read with its
        # check digits (a card held up is then its back alone, not searched for a portrait: a
        # page showing both sides reads otherwise); and whether the photo is a page decides
        # where its code is
        if _zone_read(found) and found.mrz_format == "TD1":
            continue
        qr_side = _qr_side_for(found, held_card)
        return found if found.qr_side == qr_side else replace(found, qr_side=qr_side)
    return None


def kept_read_of_photo(key, today: date | None = None, *, models_dir=None) -> SideRead | None:
    """Any read of the photo with the digest ``key`` kept in this process, whatever the options
    it was made with (with or without the zone, the print or ``held_card``), or None. Each
    is a true read of the photo: the portrait it cut is the photo's (:meth:`EkycEngine.
    card_portrait_jpeg` uses it instead of finding the card again)."""
    from kiosk.vision.photo_cache import SIDE_READS

    for with_mrz, read_print in ((True, False), (True, True), (False, False)):
        for held_card in (True, False):
            found = SIDE_READS.get(_cache_keys(key, today, with_mrz, models_dir, read_print,
                                               held_card)[0])
            if found is not None:
                return found
    return None


def read_side_cached(key, load, today: date | None = None, *, with_mrz: bool = True,
                     models_dir=None, read_print: bool = True, held_card: bool = False,
                     card_qr_read: bool = False, hint: str | None = None) -> SideRead:
    """:func:`read_side` of the photo whose bytes have the digest ``key`` (``load()`` decodes
    it, only when its read is not kept): step 6 reads the same card photos several times
    (photo_cache explains). ``key`` must name everything the decoded picture depends on (the
    bytes, the decoder's limits)."""
    from kiosk.vision.photo_cache import SIDE_READS

    read_print = read_print and with_mrz  # without the zone the print is never read
    found = kept_side_read(key, today, with_mrz=with_mrz, models_dir=models_dir,
                           read_print=read_print, held_card=held_card)
    if found is not None:
        return found
    read = read_side(load(), today, with_mrz=with_mrz, models_dir=models_dir,
                     read_print=read_print, held_card=held_card, card_qr_read=card_qr_read,
                     hint=hint)
    SIDE_READS.put(_cache_keys(key, today, with_mrz, models_dir, read_print, held_card)[0], read)
    return read


def print_added_cached(key, read: SideRead, load, today: date | None = None, *,
                       models_dir=None, held_card: bool = False) -> SideRead:
    """``read`` (made without the print, with the zone) with the print read as
    :func:`read_side` would have read it, kept under the key of a read with the print. Only
    what the print changes is done again: a front whose QR code was not read gets its print
    read (``load()`` decodes the photo); any other side is the same read."""
    import copy

    from kiosk.vision.photo_cache import SIDE_READS

    found = kept_side_read(key, today, with_mrz=True, models_dir=models_dir, read_print=True,
                           held_card=held_card)
    if found is not None:
        return found
    read = copy.deepcopy(read)
    if print_would_be_read(read):
        _read_print(load(), read, today)
        read.quality = {**read.quality, "printed_read": read.printed is not None,
                        "printed_problems": list(read.printed.problems)
                        if read.printed is not None else []}
    SIDE_READS.put(_cache_keys(key, today, True, models_dir, True, held_card)[0], read)
    return read


def card_kind(sides: list[SideRead]) -> str | None:
    """The kind of document from what its sides showed (None when they cannot tell)."""
    if any(s.mrz_format == "TD3" for s in sides):
        return "passport"
    qr_on = {s.qr_side or s.side for s in sides if s.qr_result is not None}
    td1 = any(s.mrz_format == "TD1" for s in sides)
    if "back" in qr_on:
        return "can_cuoc_2024"  # the QR code on the back (with or without a read zone)
    if "front" in qr_on:
        return "cccd_chip_2021"
    if td1:
        # a zone and no QR code anywhere: the 2021 back (its front, with the QR, not shown);
        # a 2024 back whose QR could not be decoded looks the same, unless its front was shown
        fronts = [s for s in sides if s.side == "front"]
        if fronts and all(s.qr_result is None for s in fronts) and any(
                s.qr_result is not None for s in sides):
            return "can_cuoc_2024"
        return "cccd_chip_2021" if not fronts else None
    fronts = [s for s in sides if s.side == "front"]
    backs = [s for s in sides if s.side == "back"]
    if fronts and backs:
        return "cccd_barcode_2016"  # both sides seen: no QR and no zone on either
    return None


def _mismatches(fields: dict, mrz: dict) -> list[dict]:
    """What the zone and the QR code disagree on (both read and the zone's checks valid)."""
    if not mrz.get("valid") or not fields.get("id_number"):
        return []
    out = []
    pairs = (("id_number", mrz.get("personal_number") or mrz.get("document_number")),
             ("date_of_birth", mrz.get("date_of_birth")), ("gender", mrz.get("sex")))
    for name, zone_value in pairs:
        if zone_value and fields.get(name) and zone_value != fields[name]:
            out.append({"field": name, "qr": fields[name], "mrz": zone_value})
    return out


def merge_sides(sides: list[SideRead], today: date | None = None) -> tuple[dict, np.ndarray | None]:
    """The read-card JSON object (without ``elapsed_ms``) and the portrait crop."""
    fields, sources = _empty_fields(), {}
    with_qr = next((s for s in sides if s.qr_valid), None)
    if with_qr is not None:
        fields = dict(with_qr.fields)
        sources = {name: "qr" for name, value in fields.items() if value}
    portrait_side = next((s for s in sides if s.portrait_found), None)
    mrz_side = next((s for s in sides if s.mrz is not None and s.mrz.valid), None) or next(
        (s for s in sides if s.mrz is not None and s.mrz.found), None)
    mrz = dict(EMPTY_MRZ)
    if mrz_side is not None and mrz_side.mrz.data is not None:
        mrz = {"found": True, **mrz_side.mrz.data.as_contract()}
    if with_qr is None:
        # no QR code on any side: the printed number, when its digits agree with the printed
        # date of birth and sex, and with the back's zone where that was read (a QR read
        # always wins; the source is named, and callers never treat "ocr" as a QR read)
        zone_number = mrz.get("personal_number") if mrz.get("valid") else None
        for side in sides:
            printed = side.printed
            if printed is None or not printed.id_number:
                continue
            if zone_number and zone_number != printed.id_number:
                continue
            fields.update(id_number=printed.id_number,
                          date_of_birth=printed.date_of_birth.isoformat(),
                          gender=printed.sex)
            sources = {name: "ocr" for name in ("id_number", "date_of_birth", "gender")
                       if fields.get(name)}
            break
    kind = card_kind(sides)
    expiry = None
    if mrz["valid"]:
        expiry = mrz["expiry_date"]
    elif fields["date_of_birth"] and fields["issue_date"] and kind != "passport":
        # a CCCD read only through its QR: the renewal ages say when it expires
        end = card_expiry(date.fromisoformat(fields["date_of_birth"]),
                          date.fromisoformat(fields["issue_date"]))
        expiry = end.isoformat() if end else None
    card_found = any(s.corners is not None or s.qr_valid or (s.mrz is not None and s.mrz.valid)
                     or (s.printed is not None and s.printed.id_number) for s in sides)
    main = with_qr or portrait_side or mrz_side or sides[0]
    quality = dict(main.quality)
    if len(sides) > 1:
        quality["images"] = [s.quality for s in sides]
    result = {
        "card_found": card_found, **fields,
        "portrait_found": portrait_side is not None,
        "quality": quality,
        "card_kind": kind,
        "expiry_date": expiry,
        "expiry_known": bool(mrz["valid"] or (fields["date_of_birth"] and fields["issue_date"])),
        "sides": [s.side for s in sides],
        "mrz": {k: mrz.get(k) for k in ("found", "valid", "document_number", "date_of_birth",
                                         "sex", "expiry_date")},
        "mismatches": _mismatches(fields, mrz),
        # where each field came from: "qr" (the card's QR code), "ocr" (the printed number,
        # read only when no QR code was), "qr_preview" (a QR code a preview frame showed)
        "field_sources": sources,
    }
    if mrz.get("personal_number"):
        result["mrz"]["personal_number"] = mrz["personal_number"]
    return result, portrait_side.portrait if portrait_side else None


def read_card(images, today: date | None = None, *, models_dir=None,
              read_print: bool = True) -> dict:
    """The read-card JSON object (without ``elapsed_ms``) for one frame or a list of frames.
    ``read_print=False``: no OCR of the printed number on a front without a readable QR code."""
    return read_card_and_portrait(images, today, models_dir=models_dir,
                                  read_print=read_print)[0]


def read_card_and_portrait(images, today: date | None = None, *, with_mrz: bool = True,
                           models_dir=None, read_print: bool = True
                           ) -> tuple[dict, np.ndarray | None]:
    """The read-card JSON object (without ``elapsed_ms``, which the CLI adds), and the card's
    portrait crop (None without one) — so a face check needs no second card search.

    ``images``: one camera frame or a list of frames (BGR, BGRA or grey uint8 arrays), each of
    either side of the card, in any order. Keys (docs/vision-card.md): card_found, id_number,
    old_id_number, full_name, date_of_birth ("YYYY-MM-DD"), gender ("Nam"/"Nữ"), address,
    issue_date, portrait_found, quality, card_kind, expiry_date, sides, mrz, mismatches.
    ``with_mrz=False`` skips reading the machine-readable zone (a face check that needs only the
    portrait and the QR identity: the zone's OCR is the slowest part of a read).
    ``models_dir``: the YuNet face detector's folder (None: the default, see sface.py).
    """
    if isinstance(images, np.ndarray):
        images = [images]
    if not images:
        raise ValueError("read_card needs at least one image")
    sides = [read_side(image, today, with_mrz=with_mrz, models_dir=models_dir,
                       read_print=read_print) for image in images]
    return merge_sides(sides, today)


def portrait_from_frame(image: np.ndarray, models_dir=None) -> np.ndarray | None:
    """The portrait of the card in a camera frame, or None when no card is found.

    Like :func:`card.portrait_crop`, but the QR code settles which way up the card is (when the
    texture check of :func:`card.find_card` could not, e.g. in a blurred frame), and when the card
    outline is not found (a hand over two corners, a busy background) the card's place is
    extrapolated from the QR code. For a plain portrait photo it returns None. A card found
    whose 2021 photo box shows no face (another layout) gives the biggest card-sized face on the
    left of the straightened card when YuNet finds one there, else the box as before."""
    corners = card_outline.find_card(image)
    if corners is not None:
        found = qr.decode_card_qr(image, corners, search_frame=False)
        if found is not None and found.where == "card_rotated":
            corners = card_outline.rotate_corners(corners, 2)
        crop = card_portrait.portrait_crop(image, corners)
        detector = card_portrait.face_detector(models_dir)
        if detector is not None and not card_portrait.portrait_has_face(crop, detector):
            other, _ = card_portrait.portrait_on_card(card_outline.warp_card(image, corners), detector)
            # as read_side keeps it: only a crop whose face the comparison finds too
            if other is not None and card_portrait.portrait_has_face(other, detector):
                crop = other
        return crop
    if card_portrait._looks_like_bare_card(image):
        return card_portrait.portrait_crop(image)
    found = qr.decode_card_qr(image, None)
    if found is None or found.points is None:
        return None
    corners = card_outline.corners_from_qr(found.points)
    h, w = image.shape[:2]
    if not card_outline._inside(corners, w, h, margin=0.15):
        return None
    return card_portrait.portrait_crop(image, corners)
