"""What the engine keeps per photo (kiosk/vision/photo_cache.py): the same answers as reading
the photo afresh, each photo read once, a card portrait embedded once, and a bounded memory."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.core.config import DEFAULTS
from kiosk.vision import photo_cache
from kiosk.vision import read_card as read_card_module
from kiosk.vision.engine import EkycEngine
from kiosk.vision.read_card import SideRead, merge_sides, read_side
from tests.faces_data import load, require_sface_models


def _jpeg(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return buf.tobytes()


@pytest.fixture(scope="module")
def photos():
    return step6_photos()


def step6_photos() -> dict:
    """A chip CCCD front (a calibration face as its portrait) and its back, each in a 1280×720
    camera frame as the kiosk shoots them, and another photo of the same person as the face."""
    from tests.support.synthetic import (
        place_in_scene,
        random_holder,
        render_back,
        render_card_front,
    )

    fields = random_holder(np.random.default_rng(7))
    scene = dict(rotation_deg=3.0, perspective=(4.0, 3.0), blur=0.4, noise=1.5, light=0.1,
                 brightness=0.95, occluder=False)
    front, _ = place_in_scene(render_card_front(fields, load("megawati_sukarnoputri/4.jpg"), 7),
                              (1280, 720), 7, **scene)
    back, _ = place_in_scene(render_back(fields, 7), (1280, 720), 8, **scene)
    face = cv2.copyMakeBorder(load("megawati_sukarnoputri/5.jpg"), 40, 40, 200, 200,
                              cv2.BORDER_CONSTANT, value=(128, 128, 128))
    return {"front": _jpeg(front), "back": _jpeg(back), "face": _jpeg(face), "fields": fields}


@pytest.fixture
def engine():
    require_sface_models()
    return EkycEngine.from_config(DEFAULTS)


def _without_elapsed(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "elapsed_ms"}


# ---- the memory itself ---------------------------------------------------------------------

def test_the_least_recently_used_answer_goes_first():
    cache = photo_cache.LruCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert len(cache) == 2


def test_an_answer_changed_by_its_caller_is_not_changed_for_the_next():
    cache = photo_cache.LruCache(4)
    original = {"fields": {"id_number": "001"}}
    cache.put("k", original)
    original["fields"]["id_number"] = "changed after put"
    first = cache.get("k")
    first["fields"]["id_number"] = "changed after get"
    assert cache.get("k") == {"fields": {"id_number": "001"}}


def test_nothing_is_kept_for_an_answer_of_none():
    cache = photo_cache.LruCache(4)
    calls = []
    assert cache.get_or_compute("k", lambda: calls.append(1)) is None
    assert cache.get_or_compute("k", lambda: calls.append(1)) is None
    assert len(calls) == 2


# ---- which reads are the same read ----------------------------------------------------------

def _counting_read_side(monkeypatch, answer: SideRead) -> list:
    calls = []

    def fake(image, today=None, **options):
        calls.append(options)
        return answer

    monkeypatch.setattr(read_card_module, "read_side", fake)
    return calls


@pytest.mark.parametrize("side", ["back", "data_page", None])
def test_a_side_without_print_to_read_is_read_once_whether_or_not_print_is_asked(monkeypatch, side):
    calls = _counting_read_side(monkeypatch, SideRead(side=side))
    for read_print in (False, True, False):
        read_card_module.read_side_cached(("photo", 1), lambda: np.zeros((4, 4, 3), np.uint8),
                                          read_print=read_print)
    assert len(calls) == 1


def test_a_front_without_its_qr_code_is_read_again_when_its_print_is_asked(monkeypatch):
    # step 6 skips the print's OCR; the face check reads it: the first read is not the second
    calls = _counting_read_side(monkeypatch, SideRead(side="front"))
    read_card_module.read_side_cached(("photo", 1), lambda: None, read_print=False)
    read_card_module.read_side_cached(("photo", 1), lambda: None, read_print=True)
    assert [c["read_print"] for c in calls] == [False, True]


def test_a_read_without_the_zone_is_not_a_read_with_it(monkeypatch):
    calls = _counting_read_side(monkeypatch, SideRead(side="back"))
    read_card_module.read_side_cached(("photo", 1), lambda: None, with_mrz=False)
    read_card_module.read_side_cached(("photo", 1), lambda: None, with_mrz=True)
    assert [c["with_mrz"] for c in calls] == [False, True]


def test_a_read_of_a_card_held_up_and_a_read_of_a_page_serve_each_other(monkeypatch):
    # step 6 reads its camera shots as one side of a card held up; the console's older path
    # reads the same photo as a page: either is a true read of it, made once
    calls = _counting_read_side(monkeypatch, SideRead(side="back"))
    read_card_module.read_side_cached(("photo", 1), lambda: None, held_card=True)
    read_card_module.read_side_cached(("photo", 1), lambda: None, held_card=False)
    read_card_module.read_side_cached(("photo", 2), lambda: None, held_card=False)
    read_card_module.read_side_cached(("photo", 2), lambda: None, held_card=True)
    assert [c["held_card"] for c in calls] == [True, False]


# ---- the real engine: the same answers, less work --------------------------------------------

def test_a_kept_card_read_is_the_fresh_read(engine, photos):
    fresh_sides = [read_side(cv2.imdecode(np.frombuffer(photos[k], np.uint8), cv2.IMREAD_COLOR),
                             read_print=False) for k in ("back", "front")]
    fresh, _ = merge_sides(fresh_sides)
    first = engine.read_card([photos["front"]], read_print=False)
    both = engine.read_card([photos["back"], photos["front"]], read_print=False)
    assert photo_cache.SIDE_READS.hits == 1  # the front, read again beside the back
    assert both == fresh
    assert both["id_number"] == photos["fields"]["id_number"] == first["id_number"]
    assert both["sides"] == ["back", "front"]


def test_the_face_check_after_step_6_reads_no_card_photo_again(engine, photos, monkeypatch):
    cards = [photos["front"], photos["back"]]
    photo_cache.clear_all()
    uncached = engine.compare(cards, photos["face"])
    engine.read_card([photos["front"]], read_print=False)
    engine.read_card([photos["back"], photos["front"]], read_print=False)

    def no_second_read(*args, **kwargs):
        raise AssertionError("a card photo was read again")

    monkeypatch.setattr(read_card_module, "read_side", no_second_read)
    kept = engine.compare(cards, photos["face"])
    assert kept == uncached
    assert kept["decision"] in ("match", "review") and kept["reference"] == "card_portrait"


def test_a_second_face_attempt_embeds_the_card_portrait_once(engine, photos, monkeypatch):
    cards = [photos["front"], photos["back"]]
    model = engine.face_model_instance()
    embedded = []
    real_embed = model.embed

    def counting(image, portrait=False, **options):
        embedded.append(portrait)
        return real_embed(image, portrait=portrait, **options)

    monkeypatch.setattr(model, "embed", counting)
    first = engine.compare(cards, photos["face"])
    on_first = len(embedded)
    second = engine.compare(cards, photos["face"])
    assert first == second
    # the live face is embedded each time; the card portrait only the first time
    assert len(embedded) - on_first == on_first - 1
    assert photo_cache.PORTRAIT_EMBEDDINGS.hits == 1


def test_the_consoles_portrait_is_cut_once(engine, photos):
    first = engine.card_portrait_jpeg(photos["front"])
    assert first is not None and first.startswith(b"\xff\xd8")
    assert engine.card_portrait_jpeg(photos["front"]) == first
    assert photo_cache.PORTRAIT_JPEGS.hits == 1


def test_the_portrait_cut_after_a_card_read_does_not_find_the_card_again(engine, photos,
                                                                        monkeypatch):
    from kiosk.vision import card_outline

    engine.read_card([photos["front"]], read_print=False, held_card=True)

    def no_search(*args, **kwargs):
        raise AssertionError("the card was looked for again")

    monkeypatch.setattr(read_card_module, "portrait_from_frame", no_search)
    monkeypatch.setattr(card_outline, "find_card", no_search)
    cut = engine.card_portrait_jpeg(photos["front"])
    portrait = cv2.imdecode(np.frombuffer(cut, np.uint8), cv2.IMREAD_COLOR)
    h, w = portrait.shape[:2]
    assert 1.1 < h / w < 1.5  # a portrait's box, not the card (wider than high)
    assert len(engine.face_model_instance().detect(portrait, portrait=True)) == 1  # its face


def test_without_a_card_read_the_portrait_is_cut_from_the_photo_itself(engine, photos,
                                                                     monkeypatch):
    searched = []
    real = read_card_module.portrait_from_frame
    monkeypatch.setattr(read_card_module, "portrait_from_frame",
                        lambda *a, **k: searched.append(1) or real(*a, **k))
    assert engine.card_portrait_jpeg(photos["front"]) is not None
    assert searched == [1]


def test_a_photos_analysis_decodes_it_once(engine, photos, monkeypatch):
    from kiosk.vision import jobs
    from tests.support.decodes import count_decodes

    decoded = count_decodes(monkeypatch)
    found = jobs.card_photo(engine, photos["front"], [], True, held_card=True)
    assert found["portrait"] is not None and found["preview"] is not None
    # the read, the portrait cut and the console's preview share one decode; the frame hash
    # decodes at 1/8 scale of its own
    assert decoded == [cv2.IMREAD_COLOR, cv2.IMREAD_REDUCED_COLOR_8]


def test_an_unusable_photo_is_refused_even_beside_a_kept_one(engine, photos):
    from kiosk.vision.images import ImageError

    engine.read_card([photos["front"]], read_print=False)
    with pytest.raises(ImageError):
        engine.read_card([photos["front"], photos["front"][:2000]], read_print=False)
    assert engine.compare([photos["front"], b"not a photo"], photos["face"])["decision"] == "no_face"


@pytest.fixture
def qr_searches(monkeypatch):
    """How many card photos were searched for a QR code."""
    from kiosk.vision import qr_decode

    return counted_calls(monkeypatch, qr_decode, "decode_card_qr")


def counted_calls(monkeypatch, module, name: str) -> list:
    """``module.name`` still called, each call noted in the list answered."""
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize("order", [("back", "front"), ("front", "back")])
def test_a_front_whose_qr_code_read_spares_the_back_held_up_its_search(engine, photos,
                                                                      qr_searches, order):
    """A 2021 chip card carries its only QR code on the front: once the front read it, the
    back held up at step 6 is not searched for one, in either order, and reads the same."""
    page_read = engine.read_card([photos[k] for k in order], read_print=False)
    photo_cache.clear_all()
    qr_searches.clear()
    engine.read_card([photos["front"]], read_print=False, held_card=True)
    assert len(qr_searches) == 1
    held = engine.read_card([photos[k] for k in order], read_print=False, held_card=True)
    assert len(qr_searches) == 1  # the back: no search
    assert held == page_read
    assert held["id_number"] == photos["fields"]["id_number"]
    assert held["card_kind"] == "cccd_chip_2021" and held["mrz"]["valid"]


def _card_2024():
    from tests.support.synthetic import place_in_scene, random_holder, render_back, render_front

    fields = random_holder(np.random.default_rng(11), "can_cuoc_2024")
    scene = dict(rotation_deg=2.0, perspective=(3.0, 2.0), blur=0.3, noise=1.0, light=0.1,
                 brightness=0.95, occluder=False)
    front, _ = place_in_scene(render_front(fields, load("megawati_sukarnoputri/4.jpg"), 11,
                                           kind="can_cuoc_2024"), (1280, 720), 11, **scene)
    back, _ = place_in_scene(render_back(fields, 11, kind="can_cuoc_2024"), (1280, 720), 12,
                             **scene)
    return fields, _jpeg(front), _jpeg(back)


def test_the_back_of_a_2024_card_held_up_is_still_read_for_its_qr_code(engine, qr_searches):
    """The 2024 card carries its QR code on the back, and its front has none to spare it."""
    fields, front, back = _card_2024()
    engine.read_card([front], read_print=False, held_card=True)
    result = engine.read_card([back, front], read_print=False, held_card=True)
    assert len(qr_searches) == 2
    assert result["card_kind"] == "can_cuoc_2024" and result["sides"] == ["back", "front"]
    assert result["id_number"] == fields["id_number"]
    assert result["field_sources"]["id_number"] == "qr"


def test_a_2024_back_whose_qr_code_read_spares_the_front_held_up_its_search(engine,
                                                                           qr_searches):
    """Its back shown first (the side step 1's scan asks of a 2024 card): the front, which
    has no QR code, is not searched for one, and the card reads the same."""
    fields, front, back = _card_2024()
    page_read = engine.read_card([front, back], read_print=False)
    photo_cache.clear_all()
    qr_searches.clear()
    engine.read_card([back], read_print=False, held_card=True)
    held = engine.read_card([front, back], read_print=False, held_card=True)
    assert len(qr_searches) == 1  # the back's only
    assert held == page_read and held["id_number"] == fields["id_number"]
    assert held["card_kind"] == "can_cuoc_2024" and held["sides"] == ["front", "back"]


def test_the_face_check_of_a_card_held_up_reads_no_card_photo_again(engine, photos,
                                                                    monkeypatch):
    cards = [photos["front"], photos["back"]]
    uncached = engine.compare(cards, photos["face"])
    photo_cache.clear_all()
    engine.read_card([photos["front"]], read_print=False, held_card=True)
    engine.read_card([photos["back"], photos["front"]], read_print=False, held_card=True)

    def no_second_read(*args, **kwargs):
        raise AssertionError("a card photo was read again")

    monkeypatch.setattr(read_card_module, "read_side", no_second_read)
    kept = engine.compare(cards, photos["face"], held_card=True)
    assert kept == uncached


# ---- a front's print is read only when no photo's QR code read ------------------------------

@pytest.fixture(scope="module")
def card_2024():
    """A 2024 căn cước held up to the camera: its QR code is on the back, none on the front."""
    holder, front, back = _card_2024()
    return {"front": front, "back": back, "holder": holder}


@pytest.fixture
def print_reads(monkeypatch):
    from kiosk.vision import printed_number

    return counted_calls(monkeypatch, printed_number, "read_printed_front")


def test_a_2024_fronts_print_is_not_read_when_the_backs_qr_code_read(engine, photos, card_2024,
                                                                     print_reads):
    """The face comparison reads the card with the print allowed. A QR read always wins over
    the print (merge_sides), so beside a back whose code read, the front's OCR (0.3–1 s) was
    thrown away on every comparison."""
    from kiosk.vision import jobs

    front, back = card_2024["front"], card_2024["back"]
    jobs.card_photo(engine, front, [], True, held_card=True)
    jobs.card_photo(engine, back, [front], False, held_card=True)
    result = engine.compare([front, back], photos["face"], held_card=True)
    assert print_reads == []
    assert result["decision"] == "match"
    assert result["card"]["id_number"] == card_2024["holder"]["id_number"]
    assert result["card"]["field_sources"]["id_number"] == "qr"
    # the same fields as reading both with the print, as before
    today = None
    with_print = [read_side(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), today,
                            read_print=True, held_card=True) for data in (front, back)]
    expected = merge_sides(with_print)[0]
    for name in ("id_number", "full_name", "date_of_birth", "issue_date", "card_kind", "sides",
                 "mrz", "expiry_date", "field_sources", "mismatches", "card_found"):
        assert result["card"][name] == expected[name], name


def test_with_no_qr_code_on_any_photo_the_front_print_is_still_read(engine, card_2024,
                                                                    print_reads, monkeypatch):
    """The 2024 front beside a back whose QR code is covered: the number comes from the print,
    as it did, and only the print is read again (not the whole front)."""
    back = cv2.imdecode(np.frombuffer(card_2024["back"], np.uint8), cv2.IMREAD_COLOR)
    read = read_side(back, read_print=False, held_card=True)
    assert read.qr_valid and read.qr_result.points is not None
    x0, y0 = read.qr_result.points.min(axis=0).astype(int) - 12
    x1, y1 = read.qr_result.points.max(axis=0).astype(int) + 12
    back[max(0, y0):y1, max(0, x0):x1] = 235  # a thumb over the code
    covered = _jpeg(back)
    real = read_card_module.read_side
    sides_read = counted_calls(monkeypatch, read_card_module, "read_side")
    result = engine.read_card([card_2024["front"], covered], held_card=True)
    assert print_reads == [1] and len(sides_read) == 2
    assert result["field_sources"].get("id_number") == "ocr"
    assert result["id_number"] == card_2024["holder"]["id_number"]
    # what reading both with the print in one go gives
    expected = merge_sides([real(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR),
                                 read_print=True, held_card=True)
                            for data in (card_2024["front"], covered)])[0]
    assert result == {**expected, "quality": result["quality"]}
    assert [q["printed_read"] for q in result["quality"]["images"]] == \
        [q["printed_read"] for q in expected["quality"]["images"]] == [True, False]
