"""The WSGI app a test starts real gunicorn workers on (tests/test_metrics_gunicorn.py): the
test's database and instance folder, named in the environment, with the scripted eKYC fake
and a stand-in vision pool."""
from __future__ import annotations

import os

from kiosk import create_app
from tests.app_factory import install_fake_ekyc
from tests.support.stand_in_pool import StandInPool

app = create_app({
    "TESTING": False,
    "INSTANCE_PATH": os.environ["KIOSK_TEST_INSTANCE_PATH"],
    "SQLALCHEMY_DATABASE_URI": os.environ["KIOSK_TEST_DATABASE_URI"],
    "SECRET_KEY": "gunicorn-test-secret",
    "DATA_KEY": os.environ["KIOSK_TEST_DATA_KEY"],
    "PRINTER": "file",
    "METRICS_TOKEN": os.environ["KIOSK_TEST_METRICS_TOKEN"],
})
install_fake_ekyc(app)
# each worker process has its own pool (the same figures in each: the scrape adds them up)
app.extensions["kiosk_vision_pool"] = StandInPool()
