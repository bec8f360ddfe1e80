"""One connection per request: the kiosk's device look-up starts the request's transaction, and
a transaction that has only read ends before the sign-in throttle takes a connection of its
own (services/unit_of_work.end_read). Runs on SQLite, and on PostgreSQL in the second pass."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office
from kiosk.services import kiosk_devices, unit_of_work
from tests.app_factory import KIOSK_DEVICE_TOKEN, data_key_rotated


@pytest.fixture
def checkouts(app):
    """How many times the pool hands out a connection while the test runs."""
    counted = []
    with app.app_context():
        engine = db.engine

    def _count(*_args):
        counted.append(1)

    event.listen(engine, "checkout", _count)
    yield counted
    event.remove(engine, "checkout", _count)


def test_a_wizard_page_takes_one_connection_for_its_kiosk_and_its_work(client, checkouts):
    # the welcome page: the device look-up, then the office's details for the page
    assert client.get("/").status_code == 200
    assert len(checkouts) == 1


def test_the_device_look_up_leaves_its_transaction_to_the_request(app):
    with app.test_request_context("/"):
        kiosk = kiosk_devices.identify(KIOSK_DEVICE_TOKEN)
        assert kiosk is not None
        assert db.session().in_transaction()


def test_a_digest_moved_after_a_key_rotation_is_committed_at_once(app, client):
    with data_key_rotated(app) as ring, app.test_request_context("/"):
        kiosk = kiosk_devices.identify(KIOSK_DEVICE_TOKEN)
        primary = ring.lookup_digests("kiosk-device:" + KIOSK_DEVICE_TOKEN)[0]
        assert kiosk.device_token_digest == primary
        assert not db.session.dirty  # written, not left pending for the request
    with app.app_context():  # another session sees it: committed
        assert db.session.scalar(select(Kiosk.device_token_digest)
                                 .where(Kiosk.id == kiosk.id)) == primary


def test_end_read_ends_a_transaction_that_has_only_read(app, checkouts):
    with app.app_context():
        office = db.session.scalar(select(Office))
        assert db.session().in_transaction()
        unit_of_work.end_read()
        assert not db.session().in_transaction()
        assert office.name  # still usable: a commit expires nothing here
        assert len(checkouts) == 1


def test_end_read_leaves_a_transaction_that_has_written(app):
    with app.app_context():
        office = db.session.scalar(select(Office))
        office.name = "Đã đổi tên"
        db.session.flush()  # written, no longer pending
        unit_of_work.end_read()
        assert db.session().in_transaction()
        office_id = office.id
        db.session.rollback()
        assert db.session.get(Office, office_id).name != "Đã đổi tên"


def test_end_read_leaves_a_transaction_with_changes_pending(app):
    with app.app_context():
        office = db.session.scalar(select(Office))
        office.name = "Chưa ghi"
        unit_of_work.end_read()
        assert db.session().in_transaction()
        assert office in db.session.dirty
        db.session.rollback()


def test_a_new_transaction_forgets_the_last_ones_writes(app):
    with app.app_context():
        office = db.session.scalar(select(Office))
        office.hotline = "1800 1260"
        db.session.flush()
        db.session.commit()
        db.session.scalar(select(Office))  # the next transaction has only read
        unit_of_work.end_read()
        assert not db.session().in_transaction()


def test_a_wizard_page_reads_its_kiosk_and_the_office_it_shows_in_one_statement(app, client):
    statements = []
    with app.app_context():
        engine = db.engine

    def _count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        html = client.get("/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    with app.app_context():
        office = db.session.scalar(select(Office).join(Kiosk, Kiosk.office_id == Office.id))
    assert office.phone in html  # the footer's contact is the kiosk's office
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
