"""The machine-readable zone read from camera frames, and read_card on every side and kind."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.domain.identity.mrz import parse_mrz
from kiosk.vision import mrz_grid, mrz_ocr
from kiosk.vision.read_card import read_card
from tests.support import synthetic

pytestmark = pytest.mark.skipif(not mrz_ocr.available() or mrz_grid.font_path() is None,
                                reason="needs Debian's tesseract-ocr-eng and fonts-ocr-b "
                                       "(scripts/setup.sh installs them)")


def _scene(image, seed, **kw):
    kw.setdefault("occluder", False)
    return synthetic.place_in_scene(image, (1280, 720), np.random.default_rng(seed), **kw)[0]


@pytest.mark.parametrize("kind", ["cccd_chip_2021", "can_cuoc_2024"])
@pytest.mark.parametrize("variant", ["a", "b"])
def test_zone_of_a_back_is_read_and_verified(kind, variant):
    holder = synthetic.random_holder(np.random.default_rng(41), kind)
    read = mrz_ocr.read_mrz(_scene(synthetic.render_back(holder, 5, kind, variant), 6))
    assert read.found and read.valid, read.text
    assert read.data.personal_number == holder["id_number"]
    assert read.data.date_of_birth == holder["date_of_birth"]
    assert read.data.expiry_date == holder["expiry_date"]
    assert read.data.gender == holder["gender"]


def test_zone_upside_down_is_read():
    holder = synthetic.random_holder(np.random.default_rng(42), "cccd_chip_2021")
    frame = _scene(synthetic.render_back(holder, 5), 7, rotation_deg=178.0)
    read = mrz_ocr.read_mrz(frame)
    assert read.valid and read.data.personal_number == holder["id_number"]


def test_passport_page_zone():
    holder = synthetic.random_holder(np.random.default_rng(43))
    frame = _scene(synthetic.render_passport_page(holder, None, 5), 8, scale=0.7)
    read = mrz_ocr.read_mrz(frame)
    assert read.valid and read.data.format == "TD3"
    assert read.data.document_number == holder["passport_number"]


def test_front_has_no_zone():
    holder = synthetic.random_holder(np.random.default_rng(44))
    assert not mrz_ocr.read_mrz(_scene(synthetic.render_card_front(holder, None, 5), 9)).valid


def test_grid_reader_reads_a_clean_zone_exactly():
    import cv2

    holder = synthetic.random_holder(np.random.default_rng(45))
    back = cv2.cvtColor(synthetic.render_back(holder, 5), cv2.COLOR_BGR2GRAY)
    box = mrz_ocr.locate(back)[0]
    lines = [line.text for line in mrz_grid.read_components(mrz_ocr.crop_zone(back, box), 30)]
    assert lines == synthetic.mrz_lines(holder)
    assert parse_mrz(lines).valid


# ---- read_card: sides, kinds, the QR wherever it is --------------------------------------------

def test_2024_back_qr_fields_returned_and_kind_recognised():
    holder = synthetic.random_holder(np.random.default_rng(46), "can_cuoc_2024")
    result = read_card(_scene(synthetic.render_back(holder, 5, "can_cuoc_2024"), 10))
    assert result["id_number"] == holder["id_number"] and result["sides"] == ["back"]
    assert result["card_kind"] == "can_cuoc_2024" and result["portrait_found"] is False
    assert result["mrz"]["valid"] and result["mismatches"] == []


def test_qr_fields_kept_when_the_card_outline_is_not_found():
    # the card runs off the frame (no outline can be found) but its QR code is whole
    holder = synthetic.random_holder(np.random.default_rng(47), "can_cuoc_2024")
    back = synthetic.render_back(holder, 5, "can_cuoc_2024")
    frame = _scene(back, 11, scale=0.75, centre=(700.0, 560.0), rotation_deg=0.0,
                   perspective=(0.0, 0.0))
    result = read_card(frame)
    assert result["quality"]["card_located_by"] is None  # no outline …
    assert result["quality"]["qr_valid"] is True  # … and the fields all the same
    assert result["id_number"] == holder["id_number"]
    assert result["card_found"] is True


def test_2021_back_alone_is_a_back_of_a_chip_card_with_no_qr_fields():
    holder = synthetic.random_holder(np.random.default_rng(48))
    result = read_card(_scene(synthetic.render_back(holder, 5), 12))
    assert result["sides"] == ["back"] and result["card_kind"] == "cccd_chip_2021"
    assert result["id_number"] is None and result["mrz"]["document_number"] == holder["id_number"]
    assert result["expiry_date"] == (holder["expiry_date"].isoformat()
                                     if holder["expiry_date"] else None)


def test_zone_and_qr_disagreeing_are_listed():
    holder = synthetic.random_holder(np.random.default_rng(49), "can_cuoc_2024")
    other = dict(holder, gender="Nữ" if holder["gender"] == "Nam" else "Nam")
    back = synthetic.render_back(holder, 5, "can_cuoc_2024")
    back[380:] = synthetic.render_back(other, 5, "can_cuoc_2024")[380:]
    result = read_card(_scene(back, 13))
    assert [m["field"] for m in result["mismatches"]] == ["gender"]


def test_two_images_one_object_and_no_images_refused():
    holder = synthetic.random_holder(np.random.default_rng(50))
    frames = [_scene(synthetic.render_back(holder, 5), 14),
              _scene(synthetic.render_card_front(holder, None, 5), 15)]
    result = read_card(frames)
    assert result["sides"][0] == "back" and result["id_number"] == holder["id_number"]
    assert result["card_kind"] == "cccd_chip_2021" and result["mrz"]["valid"]
    with pytest.raises(ValueError):
        read_card([])


# ---- TD3 zones with small characters (target: passport pages ≥ 98 %) ------------------------

def _small_blurred_zone(lines: list[str], pitch: float, blur: float) -> np.ndarray:
    """A zone printed in OCR-B, seen at ``pitch`` px per character through a blurred camera,
    then straightened and scaled up as mrz_ocr.crop_zone does (grey)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(mrz_grid.font_path()), 48)
    big_pitch = 34.0
    img = Image.new("L", (int(big_pitch * (len(lines[0]) + 4)), 70 * len(lines) + 60), 235)
    draw = ImageDraw.Draw(img)
    for row, line in enumerate(lines):
        for col, ch in enumerate(line):
            draw.text((2 * big_pitch + col * big_pitch, 30 + 70 * row), ch, font=font, fill=40)
    page = np.asarray(img)
    factor = pitch / big_pitch
    small = cv2.resize(page, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), blur)
    up = 20.0 / pitch
    return cv2.resize(small, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC)


def test_td3_zone_at_8_px_per_character_is_read_exactly():
    holder = synthetic.random_holder(np.random.default_rng(48))
    lines = synthetic.mrz_lines(holder, "passport")
    crop = _small_blurred_zone(lines, pitch=8.0, blur=0.9)
    read = [line.text for line in mrz_grid.read_components(crop, 44)]
    data, _ = mrz_ocr.read_grid(crop)
    assert data is not None and data.valid, read
    assert data.document_number == holder["passport_number"]


def test_blurred_glyphs_are_matched_at_their_blur():
    holder = synthetic.random_holder(np.random.default_rng(49))
    lines = synthetic.mrz_lines(holder, "passport")
    sharp = mrz_grid.read_components(_small_blurred_zone(lines, 16.0, 0.3), 44)
    soft = mrz_grid.read_components(_small_blurred_zone(lines, 8.0, 1.0), 44)
    assert [line.text for line in sharp] == lines
    assert [line.text for line in soft][1] == lines[1]


def _line(text: str, second: dict[int, str]) -> mrz_grid.Line:
    """A read line whose cells score their text's glyph best (0.9), and for the positions in
    ``second`` that glyph next (0.8)."""
    scores = []
    for pos, ch in enumerate(text):
        cell = np.full(len(mrz_grid.ALPHABET), 0.1)
        cell[mrz_grid.ALPHABET.index(ch)] = 0.9
        if pos in second:
            cell[mrz_grid.ALPHABET.index(second[pos])] = 0.8
        scores.append(cell)
    return mrz_grid.Line(text, 0, 10, [], scores)


def test_a_vietnamese_zone_is_read_with_digits_in_its_numbers():
    from kiosk.domain.identity.mrz import make_td3

    truth = make_td3("C1234507", synthetic.random_holder(np.random.default_rng(50))
                     ["date_of_birth"], "M", synthetic.random_holder(
                         np.random.default_rng(50))["expiry_date"], "NGUYEN", "VAN A",
                     personal_number="038090001234")
    # the grid read the 1 of the passport number as a Y (the general layout allows letters
    # there, and no repair by position turns a Y into a digit), with the 1 a close second
    misread = truth[1][:1] + "Y" + truth[1][2:]
    lines = [_line(truth[0], {}), _line(misread, {1: "1"})]
    assert not parse_mrz([line.text for line in lines]).valid  # as the general layout read it
    readings = list(mrz_grid.candidates(lines, 44, "VNM"))
    assert readings == [truth] and parse_mrz(readings[0]).valid
    # read under the general layout when the zone's state has none of its own
    assert list(mrz_grid.candidates(lines, 44, None)) == [[truth[0], misread]]


def test_a_reading_that_breaks_the_vietnamese_layout_is_not_offered():
    # a thumb over "2<" of a passport number read as "7P": the general layout allows a letter
    # after the number, and this one happens to pass the number's check digit
    from kiosk.domain.identity.mrz import check_digit

    number = next(f"N619898{d}P" for d in "0123456789"
                  if check_digit(f"N619898{d}P") == check_digit("N6198982<"))
    line2 = number + check_digit("N6198982<") + "VNM8402024M3406304038084869882<<06"
    lines = [_line("P<VNMBUI<<DINH<HIEU<<<<<<<<<<<<<<<<<<<<<<<<<", {}), _line(line2, {})]
    (reading,) = mrz_grid.candidates(lines, 44, "VNM")
    assert reading[1][8] == "<" and reading[1][:9] != number


def test_a_foreign_zone_is_not_read_under_the_vietnamese_layout():
    line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    lines = [_line("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", {}), _line(line2, {8: "0"})]
    assert list(mrz_grid.candidates(lines, 44, None)) == [[lines[0].text, line2]]
    assert mrz_grid.layout_for(44, 2, "UTO") == mrz_grid.layout_for(44, 2)


def test_the_vietnamese_layout_still_needs_every_check_digit():
    from kiosk.domain.identity.mrz import make_td3

    holder = synthetic.random_holder(np.random.default_rng(51))
    truth = make_td3(holder["passport_number"], holder["date_of_birth"], "F",
                     holder["expiry_date"], "TRAN", "THI B", personal_number=holder["id_number"])
    # a 3 read for an 8 in a date is a digit either way: no layout can catch it, the check does
    pos = 14
    wrong = "3" if truth[1][pos] != "3" else "8"
    misread = truth[1][:pos] + wrong + truth[1][pos + 1:]
    lines = [_line(truth[0], {}), _line(misread, {})]
    assert all(not parse_mrz(r).valid for r in mrz_grid.candidates(lines, 44, "VNM"))
