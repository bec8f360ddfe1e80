"""Per-frame guidance on frames from BOTH scene generators: a clean frame passes, and each issue
code fires on a frame showing that defect (and only where it should)."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from kiosk.vision import guidance
from tests.support import card_scenes as cs
from tests.support import synthetic

# ----------------------------------------------------------------------------- synthetic.py


# The `vision guidance` command and the engine's advice are the subject: the real engine (the
# tests without an app are pure functions and need no marker, but it does them no harm).
pytestmark = pytest.mark.real_vision


@pytest.fixture(scope="module")
def front():
    return synthetic.render_card_front(synthetic.random_fields(np.random.default_rng(21)),
                                       None, seed=21)


def scene(front, size=(640, 480), seed=0, **kwargs):
    return synthetic.place_in_scene(front, size, np.random.default_rng(seed), **kwargs)[0]


CLEAN = {"blur": 0.6, "rotation_deg": 4.0, "perspective": (5.0, -4.0), "occluder": False}


@pytest.mark.parametrize("size,seed", [((640, 480), 1), ((640, 480), 2), ((1280, 720), 3)])
def test_synthetic_clean_frame_is_ok(front, size, seed):
    result = guidance.analyse_frame(scene(front, size, seed, **CLEAN))
    assert result.ok, (result.issues, result.metrics)
    assert result.issues == [] and result.messages == [] and result.message is None
    assert result.corners is not None and result.corners.shape == (4, 2)


SYNTHETIC_DEFECTS = {
    "blurred": dict(CLEAN, blur=3.5),
    "too_dark": dict(CLEAN, brightness=0.2),
    "glare": dict(CLEAN, glare=0.8),
    "too_far": dict(CLEAN, scale=0.3),
    "too_close": dict(CLEAN, scale=0.99 * 480 * 856 / 540 / 640, rotation_deg=0.0,
                      perspective=(0.0, 0.0), centre=(320.0, 240.0)),
    "tilted": dict(CLEAN, rotation_deg=28.0),
    "no_card": dict(CLEAN, centre=(-5000.0, -5000.0)),
}


@pytest.mark.parametrize("code", sorted(SYNTHETIC_DEFECTS))
def test_synthetic_defect_is_named(front, code):
    result = guidance.analyse_frame(scene(front, seed=4, **SYNTHETIC_DEFECTS[code]))
    assert code in result.issues, (result.issues, result.metrics)
    assert not result.ok
    assert guidance.MESSAGES[code] in result.messages


def test_synthetic_card_held_at_an_angle(front):
    result = guidance.analyse_frame(scene(front, (1280, 720), rotation_deg=0.0,
                                          perspective=(40.0, 0.0)))
    assert "tilted" in result.issues
    assert result.metrics["tilt_deg"] > guidance.DEFAULT_LIMITS.max_tilt_deg


# ----------------------------------------------------------------------------- card_scenes.py


def cs_frame(seed=0, **kwargs):
    base = dict(width_fraction=0.62, roll=3.0, yaw=6.0, pitch=-5.0, offset=(0.1, -0.1),
                fov=65.0, exposure=1.0, cast=(1.0, 1.0, 1.0), gradient=0.15, blur=0.5,
                noise=2.0, jpeg=85, fingers=False, white_card=False)
    base.update(kwargs)
    return cs.render_scene(cs.Scene(**base), np.random.default_rng(seed))


@pytest.mark.parametrize("layout", cs.LAYOUTS)
@pytest.mark.parametrize("background", ["wood", "fabric", "clutter"])
def test_second_generator_clean_frame_is_ok(layout, background):
    frame = cs_frame(seed=len(layout) + len(background), layout=layout, background=background)
    assert all(v is False for v in frame.labels.values()), frame.labels  # a clean frame indeed
    result = guidance.analyse_frame(frame.image)
    assert result.ok, (result.issues, result.metrics)


CARD_SCENE_DEFECTS = {
    "blurred": {"blur": 4.0, "blur_kind": "defocus"},
    "too_dark": {"exposure": 0.18},
    "glare": {"glare": "blob", "glare_strength": 1.2, "glare_size": 0.12},
    "too_far": {"width_fraction": 0.28},
    "too_close": {"width_fraction": 0.96, "offset": (0.0, 0.0), "roll": 0.0, "yaw": 0.0, "pitch": 0.0},
    "tilted": {"yaw": 33.0},  # steeper, and the outline no longer looks like a card
    "no_card": {"card": False},
}


@pytest.mark.parametrize("code", sorted(CARD_SCENE_DEFECTS))
@pytest.mark.parametrize("layout", ["cccd2021_front", "cancuoc2024_back"])
def test_second_generator_defect_is_named(code, layout):
    frame = cs_frame(seed=7, layout=layout, background="desk", **CARD_SCENE_DEFECTS[code])
    assert frame.labels[code] is True, frame.truth  # the frame really shows the defect
    result = guidance.analyse_frame(frame.image)
    assert code in result.issues, (result.issues, result.metrics)
    assert not result.ok


def test_card_filling_63_percent_of_the_width_is_not_too_far():
    """Issue 10: «Đưa giấy tờ lại gần hơn» with the card filling 63 % of a 640 px frame."""
    frame = cs_frame(seed=3, width_fraction=0.63, layout="cancuoc2024_front", yaw=0.0, pitch=0.0)
    result = guidance.analyse_frame(frame.image)
    assert "too_far" not in result.issues and result.ok, (result.issues, result.metrics)


def test_white_card_lit_brightly_is_not_glare():
    """Issue 10: «Bị lóa sáng…» on a card without glare — white stock, well lit, clipped."""
    frame = cs_frame(seed=5, white_card=True, exposure=1.12, layout="cancuoc2024_front")
    assert frame.labels["glare"] is False
    result = guidance.analyse_frame(frame.image)
    assert "glare" not in result.issues, result.metrics
    assert result.metrics["paper_level"] > 230  # bright indeed


def test_soft_sheen_is_not_glare_but_a_blob_is():
    # a soft reflection that brightens the card without clipping it (one strong enough to clip
    # the stock to white is reported as glare even where the print survives: see the docs)
    soft = cs_frame(seed=6, glare="sheen", glare_strength=0.35)
    assert soft.labels["glare"] is False  # nothing washed out
    sheen = guidance.analyse_frame(soft.image)
    blob = guidance.analyse_frame(cs_frame(seed=6, glare="blob", glare_strength=1.2).image)
    assert "glare" not in sheen.issues
    assert "glare" in blob.issues
    assert blob.metrics["glare_fraction"] > sheen.metrics["glare_fraction"]


def test_blank_sheet_of_card_shape_is_not_a_card():
    frame = cs_frame(seed=8, background="dark").image
    corners = cs_frame(seed=8, background="dark").corners
    sheet = frame.copy()
    cv2.fillConvexPoly(sheet, np.round(corners).astype(np.int32), (225, 228, 230), cv2.LINE_AA)
    assert guidance.analyse_frame(frame).corners is not None
    assert "no_card" in guidance.analyse_frame(sheet).issues


def test_tilt_estimate_follows_the_true_angle():
    for yaw in (0.0, 20.0, 32.0):
        frame = cs_frame(seed=9, yaw=yaw, pitch=0.0, roll=0.0)
        result = guidance.analyse_frame(frame.image)
        assert abs(result.metrics["tilt_deg"] - frame.truth["tilt"]) < 6, (yaw, result.metrics)


def test_messages_follow_the_issue_order():
    frame = cs_frame(seed=10, width_fraction=0.3, roll=30.0)
    result = guidance.analyse_frame(frame.image)
    assert len(result.issues) >= 2
    assert result.issues == sorted(result.issues, key=guidance.ISSUE_ORDER.index)
    assert result.messages == [guidance.MESSAGES[i] for i in result.issues]


def test_metrics_are_reported_and_json_ready():
    result = guidance.analyse_frame(cs_frame(seed=11).image)
    for key in ("card_area_fraction", "skew_deg", "tilt_deg", "perspective", "blur",
                "glare_fraction", "brightness", "card_width_px", "card_width_fraction"):
        assert isinstance(result.metrics[key], float), key
    assert 0 < result.metrics["card_area_fraction"] < 1
    json.dumps(result.to_dict())


def test_grey_and_bgra_frames_are_accepted():
    frame = cs_frame(seed=12).image
    grey = guidance.analyse_frame(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    bgra = guidance.analyse_frame(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA))
    assert grey.corners is not None and bgra.corners is not None


def test_reblur_ratio_orders_sharp_and_blurred():
    card = cv2.cvtColor(cs.render_card("cccd2021_front", np.random.default_rng(1), False),
                        cv2.COLOR_BGR2GRAY)
    card = cv2.resize(card, (320, 202), interpolation=cv2.INTER_AREA)
    ratios = [guidance.reblur_ratio(cv2.GaussianBlur(card, (0, 0), s) if s else card)
              for s in (0, 1.0, 2.0)]
    assert ratios == sorted(ratios) and ratios[0] < 0.4 < ratios[2]
    assert guidance.reblur_ratio(np.full((50, 80), 128, np.uint8)) == 1.0


# ----------------------------------------------------------------------------- CLI contract


def cli(runner, *args):
    result = runner.invoke(args=["vision", "guidance", *map(str, args)])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output.strip().splitlines()[-1])


def test_cli_good_frame_prints_the_contract(runner, tmp_path):
    path = tmp_path / "frame.jpg"
    cv2.imwrite(str(path), cs_frame(seed=13, layout="cccd2021_front", background="wood").image)
    code, out = cli(runner, path)
    assert code == 0
    assert set(out) == {"ok", "issues", "messages", "elapsed_ms", "qr_read"}
    assert out["ok"] is True and out["issues"] == [] and out["messages"] == []
    assert out["qr_read"] is True  # the preview frame's QR code counts too
    assert out["elapsed_ms"] > 0


def test_cli_bad_frame_names_the_issue_in_vietnamese(runner, tmp_path):
    path = tmp_path / "far.png"
    cv2.imwrite(str(path), cs_frame(seed=14, width_fraction=0.28).image)
    code, out = cli(runner, path)
    assert code == 0 and out["ok"] is False and "too_far" in out["issues"]
    assert "Đưa giấy tờ lại gần hơn" in out["messages"]


def test_cli_not_an_image(runner, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("xin chào")
    code, out = cli(runner, path)
    assert code == 2 and out["error"] == "bad_image" and "JPEG" in out["message"]


def test_cli_missing_file(runner, tmp_path):
    code, out = cli(runner, tmp_path / "nope.jpg")
    assert code == 2 and out["error"] == "not_found"


def test_cli_truncated_jpeg(runner, tmp_path):
    ok, buf = cv2.imencode(".jpg", cs_frame(seed=15).image)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.tobytes()[: len(buf) // 2])
    code, out = cli(runner, path)
    assert code == 2 and out["error"] == "bad_image"
    assert "thiếu dữ liệu" in out["message"] or "không đầy đủ" in out["message"]


def test_cli_huge_file_is_refused_before_reading(runner, tmp_path):
    path = tmp_path / "huge.jpg"
    with open(path, "wb") as fh:  # sparse: 60 MB on paper, nothing on disk
        fh.write(b"\xff\xd8\xff")
        fh.truncate(60 * 1024 * 1024)
    code, out = cli(runner, path)
    assert code == 2 and out["error"] == "too_large"


def test_cli_too_many_pixels_is_refused(runner, tmp_path):
    path = tmp_path / "bomb.png"  # small file, 100 megapixels declared
    ok, buf = cv2.imencode(".png", np.zeros((10000, 10000), np.uint8))
    path.write_bytes(buf.tobytes())
    code, out = cli(runner, path)
    assert code == 2 and out["error"] == "bad_image" and "quá lớn" in out["message"]


def test_engine_guidance_shrinks_a_big_photo(app):
    from kiosk.services import ekyc

    frame = cs_frame(seed=16, size=(640, 480)).image
    big = cv2.resize(frame, (2560, 1920), interpolation=cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    with app.app_context():
        result = ekyc.engine().guidance(buf.tobytes())
    assert result["ok"] is True, result


# ----------------------------------------------------------------------------- how states look


def test_each_guidance_state_has_its_own_colour_and_only_good_is_green():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    css = (root / "static" / "css" / "kiosk.css").read_text(encoding="utf-8")
    camera_js = (root / "static" / "js" / "camera.js").read_text(encoding="utf-8")
    guidance_js = (root / "static" / "js" / "guidance.js").read_text(encoding="utf-8")
    looks = {}
    for state in ("good", "advice", "searching", "error", "ready"):
        rule = re.search(r"\.camera-status\.is-" + state + r"\s*\{([^}]*)\}", css)
        looks[state] = rule.group(1) if rule else ""
    backgrounds = {s: re.search(r"background:\s*([^;]+);", body).group(1).strip()
                   for s, body in looks.items() if "background" in body}
    assert {"good", "advice", "searching", "error"} <= set(backgrounds)
    assert len({backgrounds[s] for s in ("good", "advice", "searching", "error")}) == 4
    assert [s for s, b in backgrounds.items() if "success" in b] == ["good"]
    # the states guidance.js reports are the ones camera.js knows
    for state in ("good", "advice", "searching", "unavailable"):
        assert f"'{state}'" in guidance_js and f"{state}:" in camera_js
    assert "OK, đang chụp" in guidance_js
    assert "data-auto-capture-note" in camera_js


# ----------------------------------------------------------------------------- QR on a preview

def _verdict(issues, found=True):
    corners = np.array([[100, 100], [500, 100], [500, 350], [100, 350]], np.float32) if found else None
    return guidance.Guidance(ok=not issues, issues=list(issues), messages=[], corners=corners)


@pytest.mark.parametrize("issues,found,decoders", [
    ((), True, ("zxing", "wechat")),
    (("tilted",), True, ("zxing", "wechat")),
    (("too_close",), False, ("zxing", "wechat")),  # print on a card that fills the frame
    (("no_card",), False, ("zxing", "wechat")),  # a card too close to outline still reads
    (("blurred",), True, ()),
    (("tilted", "blurred"), True, ()),
])
def test_the_advice_chooses_the_preview_qr_decoders(issues, found, decoders):
    assert guidance.preview_decoders(_verdict(issues, found)) == decoders


def test_engine_preview_skips_the_qr_decoders_on_a_blurred_card(app, monkeypatch):
    from kiosk.services.ekyc import engine
    from kiosk.vision import qr_decode

    frame, _ = synthetic.place_in_scene(synthetic.render_card_front(
        synthetic.random_fields(np.random.default_rng(21)), None, seed=21), (1280, 720),
        np.random.default_rng(4), blur=9.0, occluder=False)
    data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    used = []
    for name in ("zxing", "wechat"):
        monkeypatch.setitem(qr_decode.DECODERS, name, lambda gray, name=name: used.append(name))
    with app.app_context():
        advice = engine().preview(data)
    assert "blurred" in advice.issues and advice.qr_text is None
    assert used == []
