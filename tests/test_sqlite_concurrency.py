"""Two kiosks on one SQLite file: slow vision on one must not lock the other out.

SQLite has a single write lock. Kiosk A's request runs a slow comparison (the eKYC fake,
waiting until kiosk B is done); meanwhile kiosk B submits a step, which writes. If A's
request had written anything before the slow part, B would wait past the (shortened) busy
timeout and fail with "database is locked" — the 500s seen under load.
"""
from __future__ import annotations

import threading

import pytest

from kiosk.core.extensions import db
from kiosk.services.ekyc import EXTENSION_KEY
from tests.app_factory import kiosk_client, make_app
from tests.kiosk_driver import KioskDriver, jpeg_bytes
from tests.support.fake_ekyc import FakeEkycEngine

BUSY_TIMEOUT_MS = 300
WAIT_SECONDS = 10


class SlowComparison:
    """Makes the fake engine's face comparison block until the other kiosk is done."""

    def __init__(self, engine: FakeEkycEngine):
        self.inside = threading.Event()   # the slow part has started
        self.release = threading.Event()  # the other kiosk has finished its write
        # Judging frames happened before any write even before the fix; the slow part that
        # matters is the comparison with the card that follows a passed challenge.
        engine.script(decision="match", distance=0.3, liveness="passed")
        engine.on("compare", self._slow)

    def _slow(self, *args, **kwargs):
        self.inside.set()
        assert self.release.wait(WAIT_SECONDS), "the other kiosk never finished"


@pytest.fixture
def app(tmp_path):
    # SQLite on purpose, also in the PostgreSQL pass: its single write lock is the subject.
    app = make_app(tmp_path, fake_vision=True, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS,
                   SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'kiosk.sqlite'}")
    yield app
    with app.app_context():
        db.engine.dispose()


def _run_alongside(app, slow_request, engine: SlowComparison):
    """Run ``slow_request`` (kiosk A) in a thread; while it is inside the slow part, kiosk B
    submits step 3. Returns (A's status, B's status, B's registration)."""
    other = KioskDriver(kiosk_client(app))
    other.walk_to(3)
    results: dict[str, object] = {}

    def kiosk_a():
        try:
            results["a"] = slow_request().status_code
        except Exception as exc:
            results["a"] = exc
        finally:
            engine.inside.set()  # never leave kiosk B waiting

    thread = threading.Thread(target=kiosk_a)
    thread.start()
    try:
        assert engine.inside.wait(WAIT_SECONDS)
        try:
            results["b"] = other.personal().status_code
        except Exception as exc:
            results["b"] = exc
    finally:
        engine.release.set()
        thread.join(WAIT_SECONDS)
    return results["a"], results["b"], other.registration()


def _at_step6_with_a_slow_engine(app) -> tuple[KioskDriver, SlowComparison]:
    """Kiosk A at step 6 with both card photos taken; its next comparison blocks."""
    kiosk = KioskDriver(kiosk_client(app))
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    kiosk.capture("card_back")
    return kiosk, SlowComparison(app.extensions[EXTENSION_KEY])


def test_a_slow_face_comparison_does_not_lock_out_another_kiosk(app):
    kiosk, engine = _at_step6_with_a_slow_engine(app)

    a, b, other = _run_alongside(app, lambda: kiosk.capture("face", jpeg_bytes(seed=7)), engine)

    assert b == 200, b
    assert other.furthest_step == 4
    assert a == 200, a
    reg = kiosk.registration()
    assert reg.kyc_decision is not None and reg.face_attempts == 1
    assert {e.kind for e in reg.evidence} >= {"card_front", "card_back", "face"}


def test_the_comparison_after_a_liveness_challenge_does_not_lock_out_another_kiosk(app):
    kiosk, engine = _at_step6_with_a_slow_engine(app)
    kiosk.get(kiosk.url(6))  # the screen asks for the challenge first (a short write)

    def record():
        frame = jpeg_bytes(seed=9)
        return kiosk.post(f"/r/{kiosk.token}/step/6/liveness",
                          {"timestamps": "0,100",
                           "frames": [(_file(frame), "f0.jpg"), (_file(frame), "f1.jpg")]},
                          content_type="multipart/form-data")

    a, b, other = _run_alongside(app, record, engine)

    assert b == 200, b
    assert other.furthest_step == 4
    assert a == 200, a
    reg = kiosk.registration()
    assert reg.liveness_passed_at is not None and reg.face_attempts == 1


def _file(data: bytes):
    import io

    return io.BytesIO(data)
