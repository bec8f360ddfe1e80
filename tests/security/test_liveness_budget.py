"""Third attack pass, item 8: one liveness request has a hard budget.

A 240-frame recording took 95 s on a loaded machine, while gunicorn kills a worker at 120 s. The
recording is now capped by frame count (checked on the request before anything is decoded) and
by wall-clock seconds (the judge stops and asks the customer to try again).
"""
from __future__ import annotations

import time

import pytest

from kiosk.domain.face_decision import FaceThresholds
from kiosk.vision import engine as engine_module
from kiosk.vision import liveness
from kiosk.vision.engine import EkycEngine
from kiosk.vision.images import ImageError
from tests.security import bombs

WORKER_TIMEOUT_S = 120  # gunicorn.conf.py


def _engine(monkeypatch) -> EkycEngine:
    engine = EkycEngine(FaceThresholds(accept=0.58, reject=0.75), max_pixels=40_000_000)
    monkeypatch.setattr(engine, "face_model_instance", lambda name=None: None)
    return engine


def test_the_budgets_stay_well_under_the_worker_timeout():
    assert engine_module.LIVENESS_TIME_BUDGET_S <= WORKER_TIMEOUT_S / 2
    # liveness.js: 8 frames a second for the challenge's 20 s, and a little room
    assert 8 * liveness.LivenessParams().time_limit_s <= engine_module.LIVENESS_MAX_FRAMES <= 200


def test_a_recording_over_the_frame_cap_is_refused_before_any_frame_is_decoded(monkeypatch):
    engine = _engine(monkeypatch)
    decoded = []
    monkeypatch.setattr(engine_module, "decode_image",
                        lambda *a, **k: decoded.append(1) or (_ for _ in ()).throw(AssertionError))
    frame = bombs.uniform_jpeg(320, 240)  # small frames: the pixel budget alone let 240 through
    count = engine_module.LIVENESS_MAX_FRAMES + 1
    started = time.monotonic()
    with pytest.raises(ImageError, match="quá lớn"):
        engine.judge_liveness([i / 8 for i in range(count)], [frame] * count,
                              ["blink", "turn_left"])
    assert decoded == [] and time.monotonic() - started < 5


def test_the_judge_stops_when_its_time_is_spent_and_asks_to_try_again(monkeypatch):
    engine = _engine(monkeypatch)
    engine.liveness_time_budget_s = 0.5
    looked = []

    def slow_observe(frame, with_encoding=False, model=None, detector=None):
        looked.append(1)
        time.sleep(0.2)  # a loaded machine: each frame costs far more than usual
        return None

    monkeypatch.setattr(liveness, "observe", slow_observe)
    frames = 160
    started = time.monotonic()
    verdict = engine.judge_liveness([i / 8 for i in range(frames)],
                                    [bombs.uniform_jpeg(320, 240)] * frames, ["blink", "turn_left"])
    spent = time.monotonic() - started
    assert verdict.state == "failed" and verdict.reason == "busy"
    assert verdict.message == liveness.REASONS["busy"] and "thử lại" in verdict.message
    assert verdict.face_jpeg is None
    assert len(looked) < 10 and spent < 3, (len(looked), spent)


def test_run_sequence_with_a_deadline_already_past_judges_nothing(monkeypatch):
    monkeypatch.setattr(liveness, "observe", lambda *a, **k: pytest.fail("a frame was looked at"))
    status, best = liveness.run_sequence([(0.0, None), (0.125, None)], ["blink"],
                                         deadline=0.0, clock=lambda: 1.0)
    assert status.state == "failed" and status.reason == "busy" and best is None
