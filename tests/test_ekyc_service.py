"""services.ekyc called directly, as the console and the CLI would: what add_capture hands back,
and that it leaves the commit to its caller."""
from __future__ import annotations

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk
from kiosk.services import ekyc, evidence, registrations
from tests.kiosk_driver import jpeg_bytes


def test_add_capture_returns_the_latest_photo_of_each_kind(app):
    with app.app_context():
        reg = registrations.start(Kiosk(code="K-TEST"))
        db.session.commit()
        first = ekyc.add_capture(reg, "card_back", jpeg_bytes(seed=1), "camera")
        assert set(first) == {"card_back"}
        retaken = ekyc.add_capture(reg, "card_back", jpeg_bytes(seed=2), "upload")
        # a retake replaces the earlier photo of its kind
        assert retaken["card_back"].id != first["card_back"].id
        assert retaken["card_back"].source == "upload"
        with_face = ekyc.add_capture(reg, "face", jpeg_bytes(seed=3), "camera")
        assert set(with_face) == {"card_back", "face"}
        assert with_face["card_back"].id == retaken["card_back"].id
        # the same rows the screen would otherwise read again
        assert {k: row.id for k, row in with_face.items()} == \
            {k: row.id for k, row in evidence.latest_captures(reg).items()}


def test_add_capture_flushes_and_leaves_the_commit_to_the_request(app):
    with app.app_context():
        reg = registrations.start(Kiosk(code="K-TEST"))
        db.session.commit()
        ekyc.add_capture(reg, "card_back", jpeg_bytes(seed=4), "camera")
        assert set(evidence.latest_captures(reg)) == {"card_back"}  # flushed: visible here
        db.session.rollback()  # what a failed request does
        assert evidence.latest_captures(reg) == {}
