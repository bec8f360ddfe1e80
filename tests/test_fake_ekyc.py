"""The eKYC fake (tests/support/fake_ekyc.py) stays honest: the engine's public methods with the
same signatures, blank answers shaped like the real engine's on a photo with nothing in it, and
the default wiring (the fake unless a test is marked real_vision)."""
from __future__ import annotations

import inspect
import random

import pytest

from kiosk.domain.face_decision import FaceThresholds, decide
from kiosk.services.ekyc import EXTENSION_KEY
from kiosk.vision.engine import EkycEngine, LivenessVerdict
from kiosk.vision.images import ImageError
from tests.kiosk_driver import jpeg_bytes
from tests.support.fake_ekyc import FakeEkycEngine

# what the fake adds for scripting; everything else public must be the engine's
SCRIPTING = {"around", "like", "script", "on", "calls", "card", "decision", "distance",
             "reference", "liveness", "liveness_reason", "portrait", "advice"}
THRESHOLDS = FaceThresholds(accept=0.58, reject=0.7)


def _public_methods(cls) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in inspect.getmembers(cls)
            if not name.startswith("_") and callable(member)}


def _shape(signature: inspect.Signature) -> list[tuple]:
    return [(p.name, p.kind, p.default, p.annotation) for p in signature.parameters.values()]


def test_the_fake_has_the_engines_public_methods_with_the_same_signatures():
    real, fake = _public_methods(EkycEngine), _public_methods(FakeEkycEngine)
    assert set(real) <= set(fake), f"the fake lacks {sorted(set(real) - set(fake))}"
    assert set(fake) - set(real) <= SCRIPTING, sorted(set(fake) - set(real) - SCRIPTING)
    for name, signature in real.items():
        assert _shape(fake[name]) == _shape(signature), name
        if name != "from_config":  # returns its own class
            assert fake[name].return_annotation == signature.return_annotation, name
    assert _shape(inspect.signature(FakeEkycEngine)) == _shape(inspect.signature(EkycEngine))
    # static stays static: the services call prompts() on the instance and on the class
    assert isinstance(inspect.getattr_static(FakeEkycEngine, "prompts"), staticmethod)


def _keys(value):
    """The nested key structure of a JSON-like value (lists by their first element)."""
    if isinstance(value, dict):
        return {key: _keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value and isinstance(value[0], dict | list) else []
    return None


def test_the_fakes_blank_answers_are_the_real_engines_on_a_photo_with_nothing_in_it():
    real = EkycEngine(THRESHOLDS, 40_000_000)
    fake = FakeEkycEngine(THRESHOLDS, 40_000_000)
    photo, other, face = jpeg_bytes(seed=0), jpeg_bytes(seed=1), jpeg_bytes(seed=7)

    assert _keys(fake.read_card([photo])) == _keys(real.read_card([photo]))
    assert _keys(fake.read_card([photo, other])) == _keys(real.read_card([photo, other]))
    real_compare, fake_compare = real.compare([photo, other], face), fake.compare([photo, other], face)
    assert _keys(fake_compare) == _keys(real_compare)
    for key in ("decision", "distance", "reference", "shadow", "model"):
        assert fake_compare[key] == real_compare[key], key
    assert fake.card_portrait_jpeg(photo) == real.card_portrait_jpeg(photo) is None
    assert fake.guidance(photo) == real.guidance(photo)
    challenge = real.new_challenge(random.Random(1))
    frames = [jpeg_bytes(seed=i) for i in range(3)]
    real_verdict = real.judge_liveness([0, 125, 250], frames, challenge)
    fake_verdict = fake.judge_liveness([0, 125, 250], frames, challenge)
    assert (fake_verdict.state, fake_verdict.reason, fake_verdict.message) == (
        real_verdict.state, real_verdict.reason, real_verdict.message)


def test_the_fake_refuses_what_the_real_engine_refuses():
    fake = FakeEkycEngine(THRESHOLDS, 40_000_000)
    for call in (lambda: fake.read_card([b"not an image"]), lambda: fake.preview(b"GIF89a"),
                 lambda: fake.card_portrait_jpeg(b""), lambda: fake.check_image(b"\xff\xd8"),
                 lambda: fake.judge_liveness([0], [b"junk"], ["blink"])):
        with pytest.raises(ImageError):
            call()
    assert fake.compare(b"junk", jpeg_bytes())["decision"] == "no_face"


def test_scripted_answers_follow_the_engines_thresholds():
    fake = FakeEkycEngine(THRESHOLDS, 40_000_000)
    for decision in ("match", "review", "no_match"):
        distance = fake.script(decision=decision).compare(jpeg_bytes(), jpeg_bytes())["distance"]
        assert decide(distance, THRESHOLDS) == decision, distance
    fake.script(card={"card_found": True, "id_number": "038085012345"}, liveness="passed")
    assert fake.read_card(jpeg_bytes())["id_number"] == "038085012345"
    frame = jpeg_bytes(seed=3)
    verdict = fake.judge_liveness([0], [frame], ["blink"])
    assert verdict == LivenessVerdict("passed", None, "ok", False, frame)
    with pytest.raises(AttributeError):
        fake.script(decisoin="match")  # a typo must not script nothing silently
    with pytest.raises(AttributeError):
        fake.on("comapre", print)


def test_a_fake_around_the_real_engine_scripts_only_what_it_names():
    real = EkycEngine(THRESHOLDS, 40_000_000)
    fake = FakeEkycEngine.around(real, scripted={"judge_liveness"}).script(liveness="passed",
                                                                          decision="match")
    assert fake.compare(jpeg_bytes(), jpeg_bytes(seed=7))["decision"] == "no_face"  # real
    assert fake.judge_liveness([0], [jpeg_bytes()], ["blink"]).state == "passed"  # scripted
    with pytest.raises(AttributeError):
        FakeEkycEngine.around(real, scripted={"check_image"})


def test_the_app_fixture_installs_the_fake(app):
    assert isinstance(app.extensions[EXTENSION_KEY], FakeEkycEngine)


@pytest.mark.real_vision
def test_a_real_vision_test_gets_the_real_engine(app):
    assert type(app.extensions[EXTENSION_KEY]) is EkycEngine
