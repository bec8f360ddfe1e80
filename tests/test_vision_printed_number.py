"""The printed 12-digit number, date of birth and sex read off a 2021 CCCD front by OCR, and the
domain rule that decides whether such a read may be trusted."""
from __future__ import annotations

import sys
from datetime import date

import cv2
import numpy as np
import pytest

from kiosk.domain.identity import printed_id
from kiosk.domain.identity.printed_id import accept_printed_id, printed_id_problems
from kiosk.vision import card_outline, mrz_ocr, printed_number
from kiosk.vision.printed_number import OcrUnavailable, PrintedRead, read_printed_front
from tests.support import synthetic

needs_ocr = pytest.mark.skipif(not printed_number.available(),
                               reason="needs tesserocr and Debian's tesseract-ocr-eng")

MAN_1990 = "038090123456"  # Thanh Hóa, 0 = male born 19xx, 90
WOMAN_2004 = "001304987654"  # Hà Nội, 3 = female born 20xx, 04


# ---- the domain rule ------------------------------------------------------------------------

def test_a_consistent_number_is_accepted():
    assert printed_id_problems(MAN_1990, date(1990, 5, 17), "Nam") == ()
    assert printed_id_problems(WOMAN_2004, date(2004, 1, 2), "Nữ") == ()
    assert accept_printed_id(MAN_1990, date(1990, 5, 17)) == MAN_1990


def test_birth_year_digits_must_match_the_printed_date():
    assert printed_id_problems(MAN_1990, date(1991, 5, 17), "Nam") == (
        printed_id.BIRTH_YEAR_MISMATCH,)
    assert accept_printed_id(MAN_1990, date(1991, 5, 17), "Nam") is None


def test_century_digit_must_match_the_printed_date():
    # digit 4 = 0 says 19xx; a holder born 2090 cannot have it (and 2 would say 20xx)
    assert printed_id.CENTURY_MISMATCH in printed_id_problems(MAN_1990, date(2090, 1, 1))
    assert printed_id_problems("038290123456", date(1990, 1, 1)) == (
        printed_id.CENTURY_MISMATCH,)


def test_sex_digit_must_match_the_printed_sex_when_read():
    assert printed_id_problems(MAN_1990, date(1990, 5, 17), "Nữ") == (printed_id.SEX_MISMATCH,)
    assert printed_id_problems(WOMAN_2004, date(2004, 1, 2), "Nam") == (printed_id.SEX_MISMATCH,)
    assert printed_id_problems(MAN_1990, date(1990, 5, 17), None) == ()  # not read: no check


@pytest.mark.parametrize("code", ["000", "003", "005", "063", "097", "099", "123"])
def test_a_number_without_a_province_code_is_refused(code):
    number = code + MAN_1990[3:]
    assert printed_id.UNKNOWN_PROVINCE in printed_id_problems(number, date(1990, 5, 17), "Nam")


def test_without_a_date_of_birth_the_number_is_not_accepted():
    assert printed_id_problems(MAN_1990, None, "Nam") == (printed_id.NO_DATE_OF_BIRTH,)
    assert accept_printed_id(MAN_1990, None, "Nam") is None


@pytest.mark.parametrize("raw", [None, "", "03809012345", "0380901234567", "03809O123456",
                                 "038 090 123456", "０３８０９０１２３４５６"])
def test_anything_but_12_ascii_digits_is_refused(raw):
    assert printed_id_problems(raw, date(1990, 5, 17)) == (printed_id.NOT_12_DIGITS,)


def test_the_back_zone_personal_number_must_agree_when_given():
    assert printed_id_problems(MAN_1990, date(1990, 5, 17), "Nam", MAN_1990) == ()
    assert printed_id_problems(MAN_1990, date(1990, 5, 17), "Nam", "038090123457") == (
        printed_id.MRZ_MISMATCH,)


# ---- reading drawn fronts -------------------------------------------------------------------

def _holder(seed: int, **changes) -> dict:
    fields = synthetic.random_holder(np.random.default_rng(seed))
    fields.update(changes)
    return fields


@pytest.fixture(scope="module")
def holder():
    return _holder(2021)


@pytest.fixture(scope="module")
def front(holder):
    return synthetic.render_card_front(holder, None, seed=2021)


@needs_ocr
def test_reads_number_date_of_birth_and_sex_of_a_drawn_front(front, holder):
    read = read_printed_front(front)
    assert isinstance(read, PrintedRead)
    assert read.problems == ()
    assert read.id_number == holder["id_number"]
    assert read.raw_id == holder["id_number"]
    assert read.date_of_birth == holder["date_of_birth"]
    assert read.sex == holder["gender"]


@needs_ocr
def test_reads_the_held_out_front_layout():
    # generator "b": another font (DejaVu), the number in red, values under their labels
    holder = _holder(77)
    read = read_printed_front(synthetic.render_front(holder, None, seed=77, variant="b"))
    assert read.id_number == holder["id_number"]
    assert read.date_of_birth == holder["date_of_birth"]


@needs_ocr
def test_reads_through_an_imprecise_warp_of_a_photographed_card(front, holder):
    frame, truth = synthetic.place_in_scene(front, (1280, 720), np.random.default_rng(5))
    # corners off by up to ~3 % of the card: shifted, and the card taken 4 % too large
    centre = truth.mean(axis=0)
    sloppy = (truth - centre) * 1.04 + centre + np.array([9.0, -6.0], np.float32)
    read = read_printed_front(card_outline.warp_card(frame, sloppy.astype(np.float32)))
    assert read.id_number == holder["id_number"]
    assert read.date_of_birth == holder["date_of_birth"]


@needs_ocr
def test_reads_an_upside_down_front(front, holder):
    read = read_printed_front(cv2.rotate(front, cv2.ROTATE_180))
    assert read.id_number == holder["id_number"]


@needs_ocr
def test_a_number_disagreeing_with_the_printed_birth_year_is_refused():
    holder = _holder(11)
    dob = holder["date_of_birth"]
    number = holder["id_number"]
    wrong_year = f"{(int(number[4:6]) + 3) % 100:02d}"  # digits 5–6 say another year
    forged = number[:4] + wrong_year + number[6:]
    fields = dict(holder, id_number=forged)
    read = read_printed_front(synthetic.render_card_front(fields, None, seed=11))
    assert read.id_number is None
    assert read.raw_id == forged  # it was read, then refused
    assert read.date_of_birth == dob
    assert printed_id.BIRTH_YEAR_MISMATCH in read.problems


@needs_ocr
def test_a_number_with_a_wrong_province_code_is_refused():
    holder = _holder(12)
    forged = "003" + holder["id_number"][3:]  # 003 is no province's code
    read = read_printed_front(synthetic.render_card_front(dict(holder, id_number=forged), None,
                                                         seed=12))
    assert read.id_number is None
    assert read.raw_id == forged
    assert read.problems == (printed_id.UNKNOWN_PROVINCE,)


@needs_ocr
def test_a_number_differing_from_the_back_zone_is_refused(front, holder):
    other = holder["id_number"][:-1] + str((int(holder["id_number"][-1]) + 1) % 10)
    read = read_printed_front(front, personal_number=other)
    assert read.id_number is None
    assert read.problems == (printed_id.MRZ_MISMATCH,)
    assert read_printed_front(front, personal_number=holder["id_number"]).id_number == \
        holder["id_number"]


@needs_ocr
@pytest.mark.parametrize("kind", ["blank", "noise", "grey", "tiny", "other_side"])
def test_a_blank_or_garbage_card_gives_no_number_without_raising(kind):
    rng = np.random.default_rng(3)
    w, h = card_outline.CARD_SIZE
    image = {
        "blank": np.full((h, w, 3), 235, np.uint8),
        "noise": rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
        "grey": np.full((h, w), 128, np.uint8),
        "tiny": np.full((3, 5, 3), 200, np.uint8),
        "other_side": synthetic.render_back(seed=4),
    }[kind]
    read = read_printed_front(image)
    assert read.id_number is None
    assert read.problems


@needs_ocr
def test_an_empty_image_gives_no_number():
    read = read_printed_front(np.zeros((0, 0, 3), np.uint8))
    assert read.id_number is None and read.problems == (printed_number.NO_NUMBER,)


def test_without_tesseract_a_clear_exception(monkeypatch, front):
    monkeypatch.setattr(printed_number, "_apis", printed_number._Apis())  # nothing cached
    monkeypatch.setattr(mrz_ocr, "tessdata_dir", lambda: None)
    with pytest.raises(OcrUnavailable, match="traineddata"):
        read_printed_front(front)
    assert printed_number.available() is False
    assert OcrUnavailable is mrz_ocr.OcrUnavailable  # one exception type for both readers


def test_without_tesserocr_a_clear_exception(monkeypatch, front):
    monkeypatch.setattr(printed_number, "_apis", printed_number._Apis())
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # import fails
    with pytest.raises(OcrUnavailable, match="tesserocr"):
        read_printed_front(front)


def test_the_vision_module_is_pure_and_the_rule_lives_in_the_domain():
    import ast
    from pathlib import Path

    def imports(module) -> set[str]:
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        found = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        found |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        return {name.split(".")[0] if not name.startswith("kiosk") else name for name in found}

    assert not {"flask", "werkzeug"} & imports(printed_number)
    domain = imports(printed_id)
    assert not {"numpy", "cv2", "tesserocr", "PIL"} & domain
    assert not any(name.startswith("kiosk.vision") for name in domain)


# ---- finding the date of birth and the sex when the layout pass misreads their labels -------

def _paper(image: np.ndarray, box) -> np.ndarray:
    """``image`` with ``box`` (x0, y0, x1, y1) painted over with the card's paper shade."""
    out = image.copy()
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = np.median(out[y0:y1, x0:x1].reshape(-1, out.shape[2]), axis=0)
    return out


def _layout(image: np.ndarray):
    page = printed_number._Page.of(card_outline.to_gray(image))
    words = printed_number._layout_words(page.gray)
    return page, words, printed_number._lines(words)


@needs_ocr
def test_the_date_of_birth_is_found_from_the_numbers_place(front, holder):
    # the labels unread (a tiny or blurred card): the date lies where the 2021 layout puts it
    # relative to the 12-digit number
    page, words, _ = _layout(front)
    number = printed_number._number_candidates(words)[0]
    assert number.digits == holder["id_number"]
    box = printed_number._dob_box_from_number(number.box)
    dates = printed_number._read_date_box(page, box)
    assert dates.count(holder["date_of_birth"]) >= 2
    assert set(dates) == {holder["date_of_birth"]}


@needs_ocr
def test_the_date_of_birth_is_read_without_its_label(monkeypatch, front, holder):
    # «Ngày sinh / Date of birth:» painted over, and the layout pass made to miss the date too
    # (a blurred photo): only the number's place leads to the date
    unlabelled = _paper(front, (258, 288, 458, 314))
    monkeypatch.setattr(printed_number, "_date_words", lambda lines: [])
    read = read_printed_front(unlabelled)
    assert read.date_of_birth == holder["date_of_birth"]
    assert read.id_number == holder["id_number"]


def _word(text, box):
    return printed_number._Word(text, 90.0, box)


def test_a_misread_birth_label_is_known_by_its_vietnamese_words():
    # «Ngày sinh / Date of birth:» as the eng model reads it off a blurred photo: no «birth»
    line = [_word("Ngay", (262, 292, 300, 310)), _word("sinh", (306, 292, 340, 310)),
            _word("/", (344, 292, 348, 310)), _word("Dete", (352, 292, 388, 310)),
            _word("of", (392, 292, 408, 310)), _word("ont", (412, 292, 440, 310))]
    boxes = printed_number._dob_boxes([line], (352, 186, 582, 226))
    assert boxes and boxes[0][0] > 440  # right of the label's last word
    assert boxes[0][1] <= 292 and boxes[0][3] >= 310
    # a line without any of the label's words is not taken for it
    other = [_word("Quê", (262, 292, 300, 310)), _word("quán", (306, 292, 350, 310))]
    assert printed_number._dob_boxes([other], (352, 186, 582, 226)) == []


@needs_ocr
def test_the_date_is_cut_from_what_follows_it_on_its_line(front, holder):
    # a dark smudge after the date (the card's edge, a thumb, the guilloche): the re-read box
    # stops at the gap after the date
    gray = card_outline.to_gray(front)
    smudged = gray.copy()
    smudged[290:312, 640:700] = 40
    box = (462, 286, 760, 314)
    first = printed_number._first_run(smudged, printed_number._tighten(smudged, box))
    assert first[0] >= 455 and first[2] < 640
    page = printed_number._Page.of(smudged)
    assert printed_number._read_date_box(page, box).count(holder["date_of_birth"]) >= 2


@needs_ocr
def test_the_sex_is_told_from_the_ink_not_the_layout_box():
    # the layout box of «Nam» taking in the line under it (a tilted card) looks as narrow as
    # «Nữ»; measured on its ink it is «Nam» again
    fields = _holder(31, gender="Nam")
    image = synthetic.render_card_front(fields, None, seed=31)
    page, words, lines = _layout(image)
    sex_words = [w for w in words if w.text == "Nam" and w.box[1] > 300 and w.box[0] < 420]
    assert sex_words
    x0, y0, x1, y1 = sex_words[0].box
    tall = (x0, y0 - (y1 - y0), x1, y1 + (y1 - y0))  # 3× too tall
    assert printed_number._sex_word(_word("Nam", tall)) is None  # the box: too narrow for «Nam»
    assert printed_number._sex_word(_word("Nam", tall), page.gray) == "Nam"
    # and «N@M» (no known reading of «Nam») is no longer taken for a narrow «Nữ»
    assert printed_number._sex_word(_word("N@M", tall)) == "Nữ"  # what the box alone said
    assert printed_number._sex_word(_word("N@M", tall), page.gray) is None


@needs_ocr
def test_a_number_missed_by_the_layout_pass_is_found_at_another_scale(monkeypatch, front,
                                                                         holder):
    # the sparse-text pass sometimes makes letters of a clear number at one scale
    layout = printed_number._layout_words
    scales = []

    def flaky(gray, scale=printed_number._LAYOUT_SCALE):
        scales.append(scale)
        words = layout(gray, scale)
        if scale == printed_number._LAYOUT_SCALE:
            words = [w for w in words if not printed_number._digit_like(w.text)]
        return words

    monkeypatch.setattr(printed_number, "_layout_words", flaky)
    read = read_printed_front(front)
    assert read.id_number == holder["id_number"]
    assert scales[:2] == [printed_number._LAYOUT_SCALE, printed_number._RETRY_SCALES[0]]


@needs_ocr
def test_the_layout_pass_own_date_is_re_read_first(monkeypatch, front, holder):
    # a tilted photo: the date's line is taken for the next label's, and the boxes right of
    # «Date of birth:» and under it hold no date; the date word the layout pass saw is re-read
    monkeypatch.setattr(printed_number, "_dob_boxes",
                        lambda lines, number_box: [(262, 350, 700, 372), (262, 380, 700, 402)])
    read = read_printed_front(front)
    assert read.date_of_birth == holder["date_of_birth"]
    assert read.id_number == holder["id_number"]
