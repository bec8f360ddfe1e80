"""services.chip_reading with the simulated chip: evidence stored encrypted, audit facts, no keys."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from kiosk.chip.simulated import (
    SAMPLE_PERSON,
    SimulatedChip,
    make_card_files,
    make_test_pki,
)
from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent, Evidence
from kiosk.services import chip_reading, kiosk_devices, registrations
from tests.app_factory import make_app


@pytest.fixture(scope="module")
def card_files():
    return make_card_files(SAMPLE_PERSON, make_test_pki())


@pytest.fixture
def chip_app(tmp_path):
    app = make_app(tmp_path, CHIP_READER=True)
    yield app
    with app.app_context():
        db.engine.dispose()


def _events(reg, name):
    return [e.details for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.registration_id == reg.id, AuditEvent.event == name))]


def test_read_stores_portrait_and_data_and_audits_levels(chip_app, card_files):
    chip_reading.set_transport_factory(chip_app, lambda: SimulatedChip(card_files, SAMPLE_PERSON))
    with chip_app.app_context():
        reg = registrations.start(kiosk_devices.by_code("quay-01"))
        outcome = chip_reading.read_for(reg, SAMPLE_PERSON.id_number)
        db.session.commit()
        assert outcome.ok, outcome.message
        assert outcome.pa_level == "signature" and outcome.access == "PACE"
        assert outcome.data["DG13"]["full_name"] == "Nguyễn Thị Thu Hà"
        rows = {e.kind: e for e in db.session.scalars(select(Evidence).where(Evidence.registration_id == reg.id))}
        assert rows["chip_portrait"].content == card_files.jpeg
        assert rows["chip_portrait"].source == "chip"
        assert json.loads(rows["chip_data"].content)["DG13"]["id_number"] == SAMPLE_PERSON.id_number
        (details,) = _events(reg, "chip_read")
        assert details["pa_level"] == "signature"
        assert details["active_authentication"] == "passed"
        assert details["id_matches_declared"] is True
        stored = json.dumps([e.details for e in db.session.scalars(select(AuditEvent))], ensure_ascii=False)
        assert SAMPLE_PERSON.can not in stored.replace(SAMPLE_PERSON.id_number, "")
        # encrypted at rest: the portrait bytes are not in the database file as they are
        raw = db.session.execute(db.text("select content from evidence where kind='chip_portrait'")).scalar()
        assert card_files.jpeg[:64] not in bytes(raw)


def test_tampered_portrait_is_not_stored(chip_app, card_files):
    def tampered():
        card = SimulatedChip(card_files, SAMPLE_PERSON)
        card.tamper("DG2")
        return card

    chip_reading.set_transport_factory(chip_app, tampered)
    with chip_app.app_context():
        reg = registrations.start(kiosk_devices.by_code("quay-01"))
        outcome = chip_reading.read_for(reg, SAMPLE_PERSON.id_number)
        assert not outcome.ok and outcome.pa_level == "none"
        assert db.session.scalars(select(Evidence).where(Evidence.registration_id == reg.id)).first() is None
        assert _events(reg, "chip_read")[0]["pa_problems"] == ["dg2_hash_mismatch"]


def test_wrong_declared_number_is_refused_by_the_chip(chip_app, card_files):
    chip_reading.set_transport_factory(chip_app, lambda: SimulatedChip(card_files, SAMPLE_PERSON))
    with chip_app.app_context():
        reg = registrations.start(kiosk_devices.by_code("quay-01"))
        outcome = chip_reading.read_for(reg, "038195009999")
        assert not outcome.ok and "CAN" in outcome.message
        assert _events(reg, "chip_read_failed") == [{"error": "access_denied"}]


def test_card_removed_gives_a_failed_outcome(chip_app, card_files):
    chip_reading.set_transport_factory(
        chip_app, lambda: SimulatedChip(card_files, SAMPLE_PERSON, remove_after=20))
    with chip_app.app_context():
        reg = registrations.start(kiosk_devices.by_code("quay-01"))
        outcome = chip_reading.read_for(reg, SAMPLE_PERSON.id_number)
        assert not outcome.ok and "thẻ" in outcome.message
        assert _events(reg, "chip_read_failed") == [{"error": "transport"}]


def test_off_by_default(app):
    assert app.config["CHIP_READER"] is False
    with app.app_context():
        reg = registrations.start(kiosk_devices.by_code("quay-01"))
        outcome = chip_reading.read_for(reg, SAMPLE_PERSON.id_number)
        assert not outcome.ok
        assert _events(reg, "chip_read") == [] and _events(reg, "chip_read_failed") == []
        assert chip_reading.reader_status()["ready"] is False
