"""/metrics, /healthz and /readyz (docs/operations.md, «Theo dõi / Monitoring»)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, Registration, utcnow
from tests.app_factory import STAFF, make_app
from tests.staff_console import ADMIN, Clerk, add_admin
from tests.support.prometheus_text import value
from tests.support.stand_in_pool import StandInPool

TOKEN = "scrape-token-5c1f0e2a9d"


@pytest.fixture
def scrape(app, client):
    app.config["METRICS_TOKEN"] = TOKEN

    def get() -> str:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        assert response.content_type.startswith("text/plain; version=0.0.4")
        return response.get_data(as_text=True)

    return get


def office_of(app, token: str) -> str:
    with app.app_context():
        reg = db.session.query(Registration).filter_by(token=token).one()
        if reg.office_id is None:
            return "none"
        return db.session.get(Office, reg.office_id).code


# ---- who may read /metrics ---------------------------------------------------------------------
def test_metrics_refused_without_admin_or_token(client):
    assert client.get("/metrics").status_code == 403


def test_metrics_refused_with_a_wrong_token(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    for header in (f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 403


def test_no_token_is_accepted_when_none_is_configured(app, client):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers={"Authorization": "Bearer None"}).status_code == 403
    app.config["METRICS_TOKEN"] = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_metrics_with_the_token(scrape):
    text = scrape()
    assert "kiosk_http_request_duration_seconds" in text
    assert value(text, "kiosk_database_up") == 1


def test_metrics_for_a_signed_in_admin_not_for_a_clerk(app):
    add_admin(app)
    assert Clerk(app, *ADMIN).get("/metrics").status_code == 200
    assert Clerk(app, *STAFF).get("/metrics").status_code == 403


def test_metrics_refused_to_an_admin_whose_session_went_idle(app):
    add_admin(app)
    admin = Clerk(app, *ADMIN)
    app.config["STAFF_IDLE_TIMEOUT_SECONDS"] = -1
    assert admin.get("/metrics").status_code == 403


def test_a_wrong_token_is_not_rescued_by_an_admin_session(app):
    add_admin(app)
    app.config["METRICS_TOKEN"] = TOKEN
    admin = Clerk(app, *ADMIN)
    assert admin.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403


# ---- the counters move -------------------------------------------------------------------------
def test_started_and_finished_counted_per_office(app, kiosk, scrape):
    before = scrape()
    kiosk.start()
    office = office_of(app, kiosk.token)
    after_start = scrape()
    assert value(after_start, "kiosk_registrations_started_total", office=office) == \
        value(before, "kiosk_registrations_started_total", office=office) + 1
    assert value(after_start, "kiosk_events_total", event="registration_started",
                 office=office) == value(before, "kiosk_events_total",
                                         event="registration_started", office=office) + 1
    assert value(after_start, "kiosk_registration_steps_reached_total", office=office,
                 step="1") == value(before, "kiosk_registration_steps_reached_total",
                                    office=office, step="1") + 1
    assert value(after_start, "kiosk_registrations_finished_total", office=office) == \
        value(before, "kiosk_registrations_finished_total", office=office)

    kiosk.walk_to(10)
    done = scrape()
    assert value(done, "kiosk_registrations_finished_total", office=office) == \
        value(before, "kiosk_registrations_finished_total", office=office) + 1
    for step in range(2, 10):
        assert value(done, "kiosk_registration_steps_reached_total", office=office,
                     step=str(step)) == value(before, "kiosk_registration_steps_reached_total",
                                              office=office, step=str(step)) + 1, step
    # the fake engine finds no face; the clerk confirms at the kiosk
    for decision in ("no_face", "staff_confirmed"):
        assert value(done, "kiosk_ekyc_decisions_total", decision=decision, office=office) > \
            value(before, "kiosk_ekyc_decisions_total", decision=decision, office=office), decision


def test_a_step_done_again_is_not_reached_again(app, kiosk, scrape):
    kiosk.walk_to(3)
    office = office_of(app, kiosk.token)
    before = scrape()
    kiosk.account()  # back to step 1 and on again: the furthest step does not move
    after = scrape()
    assert value(after, "kiosk_registration_steps_reached_total", office=office, step="2") == \
        value(before, "kiosk_registration_steps_reached_total", office=office, step="2")
    assert value(after, "kiosk_events_total", event="step_completed", office=office) == \
        value(before, "kiosk_events_total", event="step_completed", office=office) + 1


def test_the_office_label_is_the_registrations_office_code(app, kiosk, scrape):
    from kiosk.core import audit

    kiosk.start()
    with app.app_context():
        office = db.session.query(Office).first()
        code = office.code
        kiosk.row().office_id = office.id  # what an enrolled kiosk's start sets
        db.session.commit()
    before = scrape()
    kiosk.walk_to(3)
    after = scrape()
    assert value(after, "kiosk_registration_steps_reached_total", office=code, step="3") == \
        value(before, "kiosk_registration_steps_reached_total", office=code, step="3") + 1
    # a renamed office counts under its new code from its office_updated event on
    with app.app_context():
        db.session.query(Office).update({Office.code: "doi-ten"})
        audit.record("office_updated", actor="staff:qt.lan", fields=["code"])
        audit.record("step_completed", kiosk.row(), step=3)
        db.session.commit()
    assert value(scrape(), "kiosk_events_total", event="step_completed", office="doi-ten") == 1


def test_nothing_is_counted_when_the_transaction_rolls_back(app, scrape):
    from kiosk.core import audit
    from kiosk.core.models import AuditEvent

    before = scrape()
    with app.app_context():
        audit.record("registration_started", None, actor="system")
        db.session.flush()
        db.session.rollback()
        assert db.session.query(AuditEvent).filter_by(event="registration_started").count() == 0
    assert value(scrape(), "kiosk_registrations_started_total", office="none") == \
        value(before, "kiosk_registrations_started_total", office="none")
    with app.app_context():
        audit.record("registration_started", None, actor="system")
        db.session.commit()
    assert value(scrape(), "kiosk_registrations_started_total", office="none") == \
        value(before, "kiosk_registrations_started_total", office="none") + 1


def test_queue_wait_observed_when_a_clerk_handles_the_call(app, kiosk, scrape):
    from kiosk.services import registrations

    kiosk.walk_to(2)
    office = office_of(app, kiosk.token)
    before = scrape()
    with app.app_context():
        reg = db.session.query(Registration).filter_by(token=kiosk.token).one()
        registrations.request_help(reg, "customer_asked")
        reg.help_requested_at = utcnow() - timedelta(seconds=100)
        db.session.commit()
        queued = scrape()
        registrations.help_handled(reg, "staff:nv.hoa", "helped")
        db.session.commit()
    after = scrape()
    assert value(queued, "kiosk_queue_length", office=office) == 1
    assert value(queued, "kiosk_queue_oldest_wait_seconds", office=office) >= 100
    count = "kiosk_queue_wait_seconds_count"
    assert value(after, count, office=office) == value(before, count, office=office) + 1
    waited = (value(after, "kiosk_queue_wait_seconds_sum", office=office)
              - value(before, "kiosk_queue_wait_seconds_sum", office=office))
    assert 100 <= waited < 130
    assert value(after, "kiosk_queue_wait_seconds_bucket", office=office, le="60.0") == \
        value(before, "kiosk_queue_wait_seconds_bucket", office=office, le="60.0")
    assert value(after, "kiosk_queue_length", office=office) == 0


def test_a_console_approval_ends_the_wait_and_counts_the_clerks_decision(app, kiosk, scrape):
    kiosk.walk_to(6)
    kiosk.capture_all()  # the fake finds no face: the case waits for a clerk
    office = office_of(app, kiosk.token)
    number = kiosk.registration().number
    before = scrape()
    assert value(before, "kiosk_queue_length", office=office) == 1
    assert Clerk(app).post(f"/staff/review/{number}/approve").status_code == 303
    after = scrape()
    assert value(after, "kiosk_queue_wait_seconds_count", office=office) == \
        value(before, "kiosk_queue_wait_seconds_count", office=office) + 1
    assert value(after, "kiosk_ekyc_decisions_total", decision="staff_confirmed",
                 office=office) == value(before, "kiosk_ekyc_decisions_total",
                                         decision="staff_confirmed", office=office) + 1
    assert value(after, "kiosk_registration_steps_reached_total", office=office, step="7") == \
        value(before, "kiosk_registration_steps_reached_total", office=office, step="7") + 1
    assert value(after, "kiosk_queue_length", office=office) == 0


def test_request_latency_and_server_errors_by_group(app, client, scrape):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    before = scrape()
    assert client.get("/boom-for-test").status_code == 500
    assert client.get("/no-such-page").status_code == 404
    after = scrape()
    assert value(after, "kiosk_http_server_errors_total", group="boom") == \
        value(before, "kiosk_http_server_errors_total", group="boom") + 1
    assert value(after, "kiosk_http_request_duration_seconds_count", group="unmatched",
                 status="4xx") == value(before, "kiosk_http_request_duration_seconds_count",
                                        group="unmatched", status="4xx") + 1


# ---- gauges read at scrape time ----------------------------------------------------------------
def test_in_progress_gauge_by_step_and_abandoned_ones_left_out(app, kiosk, scrape):
    kiosk.walk_to(3)
    office = office_of(app, kiosk.token)
    assert value(scrape(), "kiosk_registrations_in_progress", office=office, step="3") == 1
    with app.app_context():
        db.session.query(Registration).update(
            {Registration.updated_at: utcnow() - timedelta(hours=2)})
        db.session.commit()
    assert value(scrape(), "kiosk_registrations_in_progress", office=office, step="3") == 0


def test_silent_kiosks_per_office(app, scrape):
    from tests.support.offices import SAM_SON

    now = utcnow()
    with app.app_context():
        # An office of their own: the seeded office has the test kiosk, enrolled.
        office = Office(**SAM_SON)
        db.session.add(office)
        db.session.flush()
        code = office.code
        db.session.add_all([
            Kiosk(code="k-live", name="Quầy 1", office_id=office.id, device_token_digest="a" * 64,
                  enrolled_at=now, last_seen_at=now - timedelta(seconds=30)),
            Kiosk(code="k-quiet", name="Quầy 2", office_id=office.id,
                  device_token_digest="b" * 64, enrolled_at=now,
                  last_seen_at=now - timedelta(minutes=10)),
            Kiosk(code="k-never", name="Quầy 3", office_id=office.id,
                  device_token_digest="c" * 64, enrolled_at=now),
            # revoked, and never enrolled: not counted
            Kiosk(code="k-gone", name="Quầy 4", office_id=office.id, revoked_at=now),
            Kiosk(code="k-new", name="Quầy 5", office_id=office.id),
        ])
        db.session.commit()
    text = scrape()
    assert value(text, "kiosk_kiosks_enrolled", office=code) == 3
    assert value(text, "kiosk_kiosks_silent", office=code) == 2


def test_vision_pool_figures_exported_when_there_is_a_pool(app, scrape):
    app.extensions.pop("kiosk_vision_pool")  # an app without a pool exports no pool figures
    assert "kiosk_vision_pool_workers" not in scrape()
    app.extensions["kiosk_vision_pool"] = StandInPool()
    text = scrape()
    assert value(text, "kiosk_vision_pool_workers") == 2
    assert value(text, "kiosk_vision_pool_queued") == 3
    assert value(text, "kiosk_vision_pool_running") == 2
    assert value(text, "kiosk_vision_pool_ready") == 1
    assert value(text, "kiosk_vision_pool_rejected_total") == 7
    assert value(text, "kiosk_vision_jobs_total", kind="face") == 11
    assert value(text, "kiosk_vision_seconds_total", kind="card") == 2.0


def test_the_pool_mirror_turns_totals_into_increments(app):
    """Under gunicorn each process copies its pool's totals into counters: only what grew is
    added, and a pool that restarted (totals back to small numbers) counts from zero again."""
    from kiosk.core import metrics
    from kiosk.services.monitoring import PoolMirror

    class Pool(StandInPool):
        jobs = 11

        def stats(self):
            return {**super().stats(), "jobs_total": {"mirror-test": self.jobs}}

    pool, mirror = Pool(), PoolMirror()
    counter = metrics.pool_metrics()["jobs"].labels(kind="mirror-test")
    start = counter._value.get()
    with app.app_context():
        mirror.copy(pool)
        assert counter._value.get() - start == 11
        mirror.copy(pool)  # nothing new
        assert counter._value.get() - start == 11
        pool.jobs = 15
        mirror.copy(pool)
        assert counter._value.get() - start == 15
        pool.jobs = 3  # the pool restarted
        mirror.copy(pool)
        assert counter._value.get() - start == 18
    assert metrics.pool_metrics()["gauges"]["workers"]._value.get() == 2


def test_a_scrape_before_the_copying_thread_starts_is_not_counted_twice(app, monkeypatch):
    """Under gunicorn a worker's first request can be the scrape: it copies the pool's totals,
    then its request hook starts the copying thread, which must not copy them again."""
    from kiosk.core import metrics
    from kiosk.services.monitoring import PoolMirror

    class Pool(StandInPool):
        def stats(self):
            return {**super().stats(), "jobs_total": {"mirror-first": 11}}

    copied = threading.Event()
    mirror = PoolMirror()
    real_copy = mirror.copy

    def copy_and_tell(pool):
        real_copy(pool)
        copied.set()

    monkeypatch.setattr(mirror, "copy", copy_and_tell)
    app.extensions["kiosk_vision_pool"] = Pool()
    counter = metrics.pool_metrics()["jobs"].labels(kind="mirror-first")
    start = counter._value.get()
    with app.app_context():
        mirror.copy(app.extensions["kiosk_vision_pool"])  # the scrape
        copied.clear()
        mirror.keep_copying(app)  # the same request's hook
    try:
        assert copied.wait(10), "the copying thread did not run"
        assert counter._value.get() - start == 11
    finally:
        mirror.stop()


def test_a_broken_pool_leaves_the_rest_of_the_scrape(app, scrape):
    app.extensions["kiosk_vision_pool"] = StandInPool(broken=True)
    text = scrape()
    assert "kiosk_vision_pool_workers" not in text
    assert "kiosk_queue_length" in text


# ---- health ------------------------------------------------------------------------------------
def test_healthz_needs_nothing(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_data(as_text=True)) == (200, "ok\n")
    assert "Set-Cookie" not in response.headers


def test_readyz_ok(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {
        "database": "ok", "migrations": "ok", "face_models": "ok", "vision_pool": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_readyz_503_while_the_database_is_behind_the_codes_migrations(app, client):
    """Code deployed without ``flask db upgrade`` fails customers at the first page that reads
    a new column: the server is not ready until the schema is the code's."""
    from flask_migrate import downgrade, stamp, upgrade

    with app.app_context():
        downgrade(revision="0009_offices_kiosks_findings")
        db.session.commit()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["checks"]["database"] == "ok"
        assert response.json["checks"]["migrations"].startswith("behind")
    finally:
        with app.app_context():
            upgrade()
    assert client.get("/readyz").json["checks"]["migrations"] == "ok"
    try:
        # a schema newer than this code: an upgrade under way (the new code's ``init`` has run,
        # this server is not reloaded yet); the migrations keep the old code working meanwhile
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = '9999_from_later'"))
            db.session.commit()
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.json["checks"]["migrations"].startswith("newer than this code")
        with app.app_context():
            db.session.execute(text("DROP TABLE alembic_version"))
            db.session.commit()
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json["checks"]["migrations"] == "not migrated"
    finally:
        with app.app_context():  # the schema is the code's: say so again (a shared database)
            stamp(revision="head", purge=True)
    assert client.get("/readyz").json["checks"]["migrations"] == "ok"


def test_readyz_503_when_the_database_does_not_answer(tmp_path):
    from kiosk import create_app
    from tests.app_factory import copy_sandbox_signing, install_fake_ekyc

    copy_sandbox_signing(tmp_path / "instance")
    broken = create_app({
        "TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "x",
        "DATA_KEY": "A" * 43 + "=", "PRINTER": "file",
        # nothing listens on port 1
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/none"})
    install_fake_ekyc(broken)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "fail"
    assert response.json["checks"]["database"].startswith("error")
    assert response.json["checks"]["migrations"] == "unknown"
    assert "127.0.0.1" not in response.get_data(as_text=True)
    assert broken.test_client().get("/healthz").status_code == 200
    # the scrape still answers, with the database reported down
    broken.config["METRICS_TOKEN"] = TOKEN
    scraped = broken.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    assert value(scraped.get_data(as_text=True), "kiosk_database_up") == 0


def test_readyz_503_when_the_face_models_are_missing(tmp_path):
    app = make_app(tmp_path, FACE_MODELS_DIR=str(tmp_path / "no-models"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["face_models"] == "missing"
    assert str(tmp_path) not in response.get_data(as_text=True)


def test_readyz_503_when_the_vision_pool_is_not_ready(app, client):
    app.extensions["kiosk_vision_pool"] = StandInPool(ready=False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["vision_pool"] == "not ready"
