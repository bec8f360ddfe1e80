"""The machine-readable zone read from camera frames, and read_card on every side and kind."""
from __future__ import annotations

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
