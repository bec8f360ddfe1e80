"""The three-way face decision and the threshold calibration rule (no models, no photos)."""
from __future__ import annotations

import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from kiosk.domain.face_decision import DEFAULT_THRESHOLDS, FaceThresholds, decide

ROOT = Path(__file__).resolve().parents[1]
TH = FaceThresholds(accept=0.4, reject=0.55)


def _calibrate_module():
    spec = importlib.util.spec_from_file_location("calibrate_faces", ROOT / "bench" / "calibrate_faces.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_distance_at_accept_is_a_match():
    assert decide(0.4, TH) == "match"


def test_distance_just_above_accept_goes_to_review():
    assert decide(0.4001, TH) == "review"


def test_distance_at_reject_still_goes_to_review():
    assert decide(0.55, TH) == "review"


def test_distance_above_reject_is_no_match():
    assert decide(0.5501, TH) == "no_match"


def test_zero_distance_is_a_match():
    assert decide(0.0, TH) == "match"


def test_equal_thresholds_leave_no_review_zone():
    th = FaceThresholds(0.5, 0.5)
    assert [decide(d, th) for d in (0.5, 0.5001)] == ["match", "no_match"]


def test_accept_above_reject_is_refused():
    with pytest.raises(ValueError):
        FaceThresholds(accept=0.6, reject=0.5)


@pytest.mark.parametrize("bad", [math.nan, -0.1, math.inf])
def test_non_finite_or_negative_threshold_is_refused(bad):
    with pytest.raises(ValueError):
        FaceThresholds(accept=bad, reject=0.6)


def test_thresholds_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TH.accept = 0.9  # type: ignore[misc]


@pytest.mark.parametrize("bad", [math.nan, -0.01])
def test_decide_refuses_nan_and_negative_distances(bad):
    with pytest.raises(ValueError):
        decide(bad, TH)


def test_decide_accepts_numpy_scalars():
    assert decide(np.float32(0.3), TH) == "match"


def test_default_thresholds_are_stricter_than_the_naive_tolerance():
    # face_recognition's 0.6 lets about one in five different Asian pairs through
    assert DEFAULT_THRESHOLDS.accept < 0.5
    assert DEFAULT_THRESHOLDS.accept < DEFAULT_THRESHOLDS.reject


def test_docs_state_the_default_thresholds():
    text = (ROOT / "docs" / "vision-faces.md").read_text(encoding="utf-8")
    expected = (f"FaceThresholds(accept={DEFAULT_THRESHOLDS.accept}, "
                f"reject={DEFAULT_THRESHOLDS.reject})")
    assert expected in text


def _pairs(same, diff, group=""):
    return [(d, True, group, group) for d in same] + [(d, False, group, group) for d in diff]


def test_calibration_rule_keeps_every_region_within_the_targets():
    cal = _calibrate_module()
    rng = np.random.default_rng(1)
    # 1 081 different pairs overall allow one false accept, the harder region (81) none:
    # its closest different pair (0.47) must bind `accept`
    pairs = (_pairs(rng.uniform(0.2, 0.45, 60), rng.uniform(0.65, 0.9, 1000))
             + _pairs(rng.uniform(0.2, 0.52, 30), [0.47, *rng.uniform(0.55, 0.8, 80)],
                      "East Asian (Japan)"))
    th, detail = cal.pick_thresholds(pairs, margin=0.02)
    assert detail["accept_bound_by"] == "East Asian"
    assert th.accept < 0.47 - 0.02 + 1e-9
    for name, sub in cal.constraint_sets(pairs).items():
        r = cal.rates(sub, th)
        assert r["false_accept_rate"] <= cal.MAX_FALSE_ACCEPT, name
        assert r["false_reject_rate"] <= cal.MAX_FALSE_REJECT, name


def test_calibration_rule_never_returns_accept_above_reject():
    cal = _calibrate_module()
    th, _ = cal.pick_thresholds(_pairs([0.1, 0.2, 0.25], [0.8, 0.9, 0.95]), margin=0.02)
    assert th.accept <= th.reject


# ------------------------------------------------------------------ per-model settings


def _config(**overrides):
    from kiosk.core.config import DEFAULTS

    return {**DEFAULTS, **overrides}


def test_each_model_gets_its_own_thresholds_from_the_settings():
    from kiosk.vision.engine import EkycEngine

    sface = EkycEngine.from_config(_config())
    assert sface.face_model == "sface" and sface.thresholds == FaceThresholds(0.58, 0.75)
    dlib = EkycEngine.from_config(_config(FACE_MODEL="dlib"))
    assert dlib.face_model == "dlib" and dlib.thresholds == DEFAULT_THRESHOLDS


@pytest.mark.parametrize("key", ["FACE_ACCEPT_DISTANCE", "FACE_REJECT_DISTANCE"])
def test_a_single_number_threshold_is_refused(key):
    # after a switch of FACE_MODEL a bare number would silently be the other model's threshold
    from kiosk.vision.engine import EkycEngine

    with pytest.raises(ValueError, match=key):
        EkycEngine.from_config(_config(**{key: 0.42}))


def test_a_model_without_its_own_thresholds_is_refused():
    from kiosk.vision.engine import EkycEngine

    with pytest.raises(ValueError, match="'dlib'"):
        EkycEngine.from_config(_config(FACE_MODEL="dlib", FACE_ACCEPT_DISTANCE={"sface": 0.58}))


@pytest.mark.parametrize("settings", [{"FACE_MODEL": "arcface"},
                                      {"FACE_SHADOW_MODEL": "sface"},  # itself
                                      {"FACE_SHADOW_MODEL": "facenet"}])
def test_unknown_models_and_a_self_shadow_are_refused(settings):
    from kiosk.vision.engine import EkycEngine

    with pytest.raises(ValueError, match="FACE_"):
        EkycEngine.from_config(_config(**settings))


def test_the_shadow_model_gets_its_own_thresholds():
    from kiosk.vision.engine import EkycEngine

    engine = EkycEngine.from_config(_config(FACE_SHADOW_MODEL="dlib"))
    assert engine.thresholds == FaceThresholds(0.58, 0.75)
    assert engine.shadow_model == "dlib" and engine.shadow_thresholds == DEFAULT_THRESHOLDS


def test_docs_state_each_models_configured_thresholds():
    from kiosk.core.config import DEFAULTS

    text = (ROOT / "docs" / "vision-faces.md").read_text(encoding="utf-8")
    for model in ("sface", "dlib"):
        accept = DEFAULTS["FACE_ACCEPT_DISTANCE"][model]
        reject = DEFAULTS["FACE_REJECT_DISTANCE"][model]
        assert f"{model}: FaceThresholds(accept={accept}, reject={reject})" in text.replace(
            f"{model}:  ", f"{model}: ")
