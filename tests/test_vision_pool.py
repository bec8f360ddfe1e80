"""The vision pool: photo analysis in worker processes, bounded, with a calm «Máy đang bận»;
and each photo's findings (card read, frame hash, portrait, preview) stored once when it is
taken, so that the console never decodes a photo again."""
from __future__ import annotations

import io
import threading
import time

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import Evidence
from kiosk.services import vision_pool
from kiosk.vision.images import ImageError, difference_hash
from kiosk.vision.pool import BUSY_MESSAGE, InlinePool, VisionBusy, VisionPool
from tests.support import pool_jobs
from tests.support.stand_in_pool import RecordingPool

from .kiosk_driver import data_url, jpeg_bytes
from .staff_console import Clerk

CARD = {"card_found": True, "id_number": "038085012345", "date_of_birth": "1985-09-05",
        "full_name": "NGUYỄN VĂN AN"}


def _until(predicate, limit=60.0):
    """Wait for a state (polling), never a fixed sleep."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def make_pool():
    pools = []

    def make(**kw):
        kw = {"workers": 1, "queue": 2, "timeout": 30.0, **kw}
        pool = VisionPool(pool_jobs.TinyEngine.from_config, kw.pop("config", {}), **kw)
        pool.start()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


class _Holder:
    """A job that keeps a worker until released (a file the job waits for)."""

    def __init__(self, pool, tmp_path, name="release"):
        self.flag = tmp_path / name
        self.answer = []
        self.thread = threading.Thread(target=lambda: self.answer.append(
            pool.run("hold", pool_jobs.wait_for_file, str(self.flag))))
        self.pool = pool

    def __enter__(self):
        self.thread.start()
        assert _until(lambda: self.pool.stats()["running"] == 1)
        return self

    def __exit__(self, *exc):
        self.flag.write_text("go")
        self.thread.join(30)

    def answered_while_held(self, call):
        """``call()``'s answer (or the exception it raised), which must come while this job still
        holds the pool's worker: anything that waited for the worker could not answer before
        the job is released. Run in a thread and waited for, not timed, so that a busy machine
        does not fail it; 30 s only keeps a broken pool from hanging the test run."""
        outcome = []

        def run():
            try:
                outcome.append(("answer", call()))
            except Exception as exc:  # the caller asserts on it
                outcome.append(("raised", exc))

        caller = threading.Thread(target=run)
        caller.start()
        caller.join(30)
        assert outcome, "the call waited for the held worker"
        assert self.thread.is_alive() and self.pool.stats()["running"] == 1
        kind, value = outcome[0]
        if kind == "raised":
            raise value
        return value


# ---- the pool's mechanics, in real processes (spawn) -------------------------------------------

def test_a_job_runs_in_a_lower_priority_worker_with_its_models_loaded(make_pool):
    import os

    pool = make_pool(config={"load_seconds": 0.2})
    answer = pool.run("echo", pool_jobs.echo, "xin chào")
    assert answer["value"] == "xin chào" and answer["loaded"]
    assert answer["pid"] != os.getpid()
    assert answer["nice"] > os.nice(0)  # the web threads win the CPU
    assert _until(pool.ready)
    stats = pool.stats()
    assert stats["workers"] == 1 and stats["ready"] and stats["jobs_total"] == {"echo": 1}
    assert stats["seconds_total"]["echo"] > 0
    assert (stats["queued"], stats["running"], stats["rejected_total"]) == (0, 0, 0)


def test_ready_says_no_until_the_models_are_loaded(make_pool, tmp_path):
    pool = make_pool(config={"load_seconds": 1.5})
    assert not pool.ready() and not pool.stats()["ready"]
    assert _until(pool.ready)


def test_a_job_does_not_wait_past_its_time_for_the_models_to_load(make_pool):
    pool = make_pool(config={"load_seconds": 4}, timeout=0.5)
    began = time.monotonic()
    with pytest.raises(VisionBusy) as busy:
        pool.run("echo", pool_jobs.echo, 1)
    assert busy.value.reason == "timeout" and time.monotonic() - began < 2
    first = [w.process.pid for w in pool._all]
    assert _until(pool.ready)
    pool.timeout = 30.0
    answer = pool.run("echo", pool_jobs.echo, 2)
    assert answer["loaded"] and [answer["pid"]] == first  # slow to load is not broken: kept


def test_the_jobs_own_error_comes_back_as_it_was(make_pool):
    pool = make_pool()
    with pytest.raises(ImageError) as err:
        pool.run("refuse", pool_jobs.refuse)
    assert err.value.message == "Ảnh không đọc được"
    assert pool.run("echo", pool_jobs.echo, 1)["value"] == 1  # the worker is still good


def test_a_full_queue_answers_busy_at_once(make_pool, tmp_path):
    pool = make_pool(workers=1, queue=1)
    with _Holder(pool, tmp_path) as holder:
        with pytest.raises(VisionBusy) as busy:
            holder.answered_while_held(lambda: pool.run("echo", pool_jobs.echo, 2))
        assert busy.value.reason == "full" and str(busy.value) == BUSY_MESSAGE
        assert pool.stats()["rejected_total"] == 1
    assert pool.run("echo", pool_jobs.echo, 3)["value"] == 3


def test_a_job_waits_for_a_free_worker_within_the_queue(make_pool, tmp_path):
    pool = make_pool(workers=1, queue=2)
    with _Holder(pool, tmp_path) as holder:
        waiting = []
        second = threading.Thread(target=lambda: waiting.append(pool.run("echo", pool_jobs.echo,
                                                                         4)))
        second.start()
        assert _until(lambda: pool.stats()["queued"] == 1)
    second.join(30)
    assert holder.answer == [True] and waiting[0]["value"] == 4


def test_a_job_past_the_timeout_is_given_up_and_the_worker_replaced(make_pool):
    pool = make_pool(timeout=1.0)
    first = pool.run("echo", pool_jobs.echo, 0)["pid"]
    began = time.monotonic()
    with pytest.raises(VisionBusy) as busy:
        pool.run("slow", pool_jobs.sleep, 20)
    assert busy.value.reason == "timeout" and time.monotonic() - began < 5
    pool.timeout = 30.0
    after = pool.run("echo", pool_jobs.echo, 5)
    assert after["value"] == 5 and after["pid"] != first
    assert pool.stats()["workers"] == 1


def test_a_worker_that_dies_gives_busy_and_is_replaced(make_pool):
    pool = make_pool()
    with pytest.raises(VisionBusy) as busy:
        pool.run("die", pool_jobs.die)
    assert busy.value.reason == "died"
    assert pool.run("echo", pool_jobs.echo, 6)["value"] == 6
    assert pool.stats()["workers"] == 1


def test_a_worker_that_cannot_be_spawned_again_is_spawned_by_the_next_job(make_pool,
                                                                          monkeypatch):
    """The memory pressure that killed a worker may refuse its replacement too: the job still
    gets the calm busy answer (not a 500), the pool says it is not ready, and the next job
    spawns the missing worker and runs."""
    pool = make_pool()
    real_spawn = pool._spawn
    refusals = []

    def refuse_once(slot):
        if not refusals:
            refusals.append(True)
            raise OSError(12, "Cannot allocate memory")
        return real_spawn(slot)

    monkeypatch.setattr(pool, "_spawn", refuse_once)
    with pytest.raises(VisionBusy) as busy:
        pool.run("die", pool_jobs.die)
    assert busy.value.reason == "died" and refusals
    assert not pool.ready()
    assert pool.run("echo", pool_jobs.echo, 7)["value"] == 7
    assert pool.stats()["workers"] == 1 and pool.ready()


def _slot_keys(pool) -> tuple[int, int]:
    """Two affinity keys that fall on different workers of a two-worker pool."""
    first = 0
    second = next(k for k in range(1, 10) if hash(k) % pool.workers != hash(first) % pool.workers)
    return first, second


def test_the_jobs_of_one_registration_go_to_one_worker(make_pool):
    pool = make_pool(workers=2, queue=4)
    one, other = _slot_keys(pool)
    pids = {key: {pool.run("echo", pool_jobs.echo, i, affinity=key)["pid"] for i in range(4)}
            for key in (one, other)}
    assert len(pids[one]) == 1 and len(pids[other]) == 1
    assert pids[one] != pids[other]  # and another registration's to the other


def test_a_job_does_not_wait_for_its_busy_worker_while_another_is_idle(make_pool, tmp_path):
    pool = make_pool(workers=2, queue=4)
    one, _ = _slot_keys(pool)
    own = pool.run("echo", pool_jobs.echo, 0, affinity=one)["pid"]
    flag = tmp_path / "release"
    held = []
    holder = threading.Thread(target=lambda: held.append(
        pool.run("hold", pool_jobs.wait_for_file, str(flag), affinity=one)))
    holder.start()
    assert _until(lambda: pool.stats()["running"] == 1)
    try:
        answer = pool.run("echo", pool_jobs.echo, 1, affinity=one)  # its worker is busy
        assert answer["value"] == 1 and answer["pid"] != own
    finally:
        flag.write_text("go")
        holder.join(30)
    assert held == [True]


def test_a_replaced_worker_takes_the_jobs_of_the_one_it_replaced(make_pool):
    pool = make_pool(workers=2, queue=4)
    one, other = _slot_keys(pool)
    before = {key: pool.run("echo", pool_jobs.echo, 0, affinity=key)["pid"] for key in (one, other)}
    with pytest.raises(VisionBusy):
        pool.run("die", pool_jobs.die, affinity=one)
    after = {key: pool.run("echo", pool_jobs.echo, 0, affinity=key)["pid"] for key in (one, other)}
    assert after[other] == before[other]
    assert after[one] != before[one]
    assert pool.run("echo", pool_jobs.echo, 0, affinity=one)["pid"] == after[one]


def test_a_job_that_waited_its_turn_still_gets_its_whole_time(make_pool, tmp_path):
    pool = make_pool(timeout=3.0)
    with _Holder(pool, tmp_path) as holder:
        waiting = []
        thread = threading.Thread(target=lambda: waiting.append(
            pool.run("slow", pool_jobs.sleep, 2)))
        thread.start()
        time.sleep(2)  # the second job waits 2 of its 3 s for the worker
        holder.flag.write_text("go")
        thread.join(30)
    assert waiting, "a job that runs 2 s after waiting 2 s must not be given up"


def test_the_pool_size_follows_the_cores_and_the_web_processes():
    sizes = vision_pool.sizes
    gunicorn = {"WEB_CONCURRENCY": "2", "KIOSK_THREADS": "4"}
    assert sizes({"VISION_WORKERS": "auto"}, gunicorn, cores=2) == (1, 2)
    # waitress: one process, 8 threads; half of them may wait on the vision
    assert sizes({"VISION_WORKERS": "auto"}, {}, cores=2) == (2, 4)
    assert sizes({"VISION_WORKERS": "auto"}, {"KIOSK_THREADS": "8"}, cores=4) == (4, 4)
    assert sizes({"VISION_WORKERS": 0}, gunicorn, cores=2)[0] == 0
    assert sizes({"VISION_WORKERS": "3", "VISION_QUEUE": 7}, gunicorn, cores=2) == (3, 7)
    with pytest.raises(ValueError, match="VISION_WORKERS"):
        sizes({"VISION_WORKERS": "many"}, {}, cores=2)


def test_a_worker_runs_opencv_on_one_thread_by_default(make_pool):
    """The processes are the parallelism (about one per core): OpenCV's own threads on top
    only cost CPU."""
    assert make_pool().run("threads", pool_jobs.opencv_threads) == 1
    assert make_pool(threads=3).run("threads", pool_jobs.opencv_threads) == 3


# ---- in the app --------------------------------------------------------------------------------

def test_the_app_builds_its_pool_from_the_settings(tmp_path):
    from tests.app_factory import make_app

    app = make_app(tmp_path, VISION_WORKERS=1, VISION_QUEUE=3, VISION_TIMEOUT_SECONDS=9,
                   VISION_NICE=4, VISION_THREADS=2,
                   VISION_ENGINE_FACTORY="tests.support.pool_jobs:TinyEngine.from_config")
    pool = app.extensions[vision_pool.EXTENSION_KEY]
    try:
        assert isinstance(pool, VisionPool)
        assert (pool.workers, pool.queue, pool.timeout, pool.nice) == (1, 3, 9.0, 4)
        assert pool.stats()["workers"] == 0  # nothing spawned before the first request
        app.test_client().get("/")
        assert pool.stats()["workers"] == 1
        assert pool.run("echo", pool_jobs.echo, 7)["value"] == 7
        assert pool.run("threads", pool_jobs.opencv_threads) == 2
    finally:
        pool.close()
    with pytest.raises(ValueError, match="VISION_ENGINE_FACTORY"):
        make_app(tmp_path / "other", VISION_WORKERS=1, VISION_ENGINE_FACTORY="no.such:thing")


def test_vision_workers_0_runs_the_jobs_inline(app, kiosk, fake_ekyc):
    pool = app.extensions[vision_pool.EXTENSION_KEY]
    assert isinstance(pool, InlinePool)
    kiosk.walk_to(6)
    kiosk.capture("card_front")
    stats = pool.stats()
    assert stats["workers"] == 0 and stats["ready"]
    assert stats["jobs_total"]["card_photo"] == 1
    # the app's own engine, reading a camera shot as one side of a card held up
    assert ("read_card", {"read_print": False, "held_card": True}) in fake_ekyc.calls


def _evidence(app, kind=None):
    with app.app_context():
        query = select(Evidence).order_by(Evidence.id)
        if kind:
            query = query.where(Evidence.kind == kind)
        rows = db.session.scalars(query).all()
        for row in rows:  # loaded while the session is open
            _ = (row.findings, row.preview, row.portrait, row.content)
        return rows


def test_a_full_pool_answers_busy_and_the_other_pages_still_answer(app, kiosk, make_pool,
                                                                    tmp_path):
    kiosk.walk_to(6)
    pool = make_pool(workers=1, queue=1)
    app.extensions[vision_pool.EXTENSION_KEY] = pool
    before = len(_evidence(app))
    with _Holder(pool, tmp_path) as holder:
        busy = holder.answered_while_held(lambda: kiosk.capture("card_front"))
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        body = busy.get_data(as_text=True)
        assert "Máy đang bận, xin chờ trong giây lát." in body
        assert 'data-vision-busy' in body and 'data-retry-after="2"' in body
        page = holder.answered_while_held(lambda: kiosk.get(kiosk.url(6), htmx=True))
        assert page.status_code == 200
    assert len(_evidence(app)) == before  # nothing was kept of the refused photo


def test_busy_at_the_face_compare_decides_nothing(app, kiosk, fake_ekyc):
    class CompareBusy(InlinePool):
        def run(self, kind, fn, *args, affinity=None):
            if kind == "compare":
                raise VisionBusy("full")
            return super().run(kind, fn, *args)

    kiosk.walk_to(6)
    fake_ekyc.script(decision="match", card=CARD)
    kiosk.capture("card_front")
    kiosk.capture("card_back")
    app.extensions[vision_pool.EXTENSION_KEY] = CompareBusy(lambda: fake_ekyc)
    answer = kiosk.capture("face")
    assert answer.status_code == 503
    reg = kiosk.registration()
    assert reg.face_attempts == 0 and reg.kyc_decision is None  # not recorded as no_face
    assert [e.kind for e in _evidence(app)].count("face") == 0


def test_a_busy_answer_without_htmx_is_a_whole_page(app, kiosk, make_pool, tmp_path):
    kiosk.walk_to(6)
    pool = make_pool(workers=1, queue=1)
    app.extensions[vision_pool.EXTENSION_KEY] = pool
    with _Holder(pool, tmp_path):
        from .kiosk_driver import data_url

        answer = kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
                            {"image_data": data_url("image/jpeg", jpeg_bytes())}, htmx=False)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert "<title>Máy đang bận" in answer.get_data(as_text=True)


# ---- findings stored once ----------------------------------------------------------------------

def test_a_card_photo_keeps_its_findings_preview_and_portrait(app, kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.script(card=CARD, portrait=jpeg_bytes(seed=9))
    photo = jpeg_bytes(width=1600, height=1200, seed=1)
    kiosk.capture("card_front", photo)
    row = _evidence(app, "card_front")[-1]
    assert row.findings["card"]["id_number"] == CARD["id_number"]
    assert row.findings["frame_hash"] == f"{difference_hash(photo, 40_000_000):016x}"
    assert row.portrait == jpeg_bytes(seed=9)
    preview = cv2.imdecode(np.frombuffer(row.preview, np.uint8), cv2.IMREAD_COLOR)
    assert max(preview.shape[:2]) == 960
    kiosk.capture("card_back")
    back = _evidence(app, "card_back")[-1]
    assert back.portrait is None and back.findings["card"] is not None


def _review_case(app, kiosk, fake_ekyc):
    kiosk.walk_to(6)
    fake_ekyc.script(decision="review", card=CARD, portrait=jpeg_bytes(seed=9))
    kiosk.capture_all()
    reg = kiosk.registration()
    assert reg.help_requested_at is not None
    return reg


def _console_views(app, reg) -> str:
    clerk = Clerk(app)
    html = clerk.html(f"/staff/review/{reg.number}")
    for row in _evidence(app):
        assert clerk.get(f"/staff/r/{reg.number}/evidence/{row.id}").status_code == 200
        if row.kind == "card_front":
            answer = clerk.get(f"/staff/r/{reg.number}/evidence/{row.id}/portrait")
            assert answer.data == jpeg_bytes(seed=9)
    return html


def test_the_console_review_decodes_no_photo(app, kiosk, fake_ekyc):
    reg = _review_case(app, kiosk, fake_ekyc)
    asked = list(fake_ekyc.calls)
    html = _console_views(app, reg)
    assert fake_ekyc.calls == asked  # no card read, no portrait cut: the stored findings
    assert CARD["full_name"] in html  # what the card said, beside what was declared
    clerk = Clerk(app)
    face = _evidence(app, "face")[-1]
    shown = clerk.get(f"/staff/r/{reg.number}/evidence/{face.id}")
    assert shown.data == face.preview  # the stored downscaled copy


def test_an_older_photo_is_analysed_once_then_served_from_what_was_stored(app, kiosk,
                                                                         fake_ekyc):
    reg = _review_case(app, kiosk, fake_ekyc)
    with app.app_context():  # photos taken before findings existed
        for row in db.session.scalars(select(Evidence)):
            row.findings, row.preview, row.portrait = None, None, None
        db.session.commit()
    asked = len(fake_ekyc.calls)
    html = _console_views(app, reg)
    first = [name for name, _ in fake_ekyc.calls[asked:]]
    assert sorted(first) == ["card_portrait_jpeg", "read_card", "read_card"]
    assert CARD["full_name"] in html
    rows = _evidence(app)
    assert all(row.findings is not None and row.preview is not None for row in rows)
    assert next(r for r in rows if r.kind == "card_front").portrait == jpeg_bytes(seed=9)
    asked = len(fake_ekyc.calls)
    _console_views(app, reg)
    assert len(fake_ekyc.calls) == asked  # stored: never again


class _AlwaysBusy(InlinePool):
    def run(self, kind, fn, *args, affinity=None):
        raise VisionBusy("full")


def test_busy_during_a_liveness_recording_writes_nothing(app, kiosk, fake_ekyc):
    import io

    kiosk.walk_to(6)
    kiosk.capture("card_front")
    kiosk.capture("card_back")
    kiosk.get(kiosk.url(6))  # the face camera's screen gives the challenge
    challenge = kiosk.registration().liveness_challenge
    assert challenge
    app.extensions[vision_pool.EXTENSION_KEY] = _AlwaysBusy(lambda: fake_ekyc)
    answer = kiosk.post(f"/r/{kiosk.token}/step/6/liveness",
                        {"frames": [(io.BytesIO(jpeg_bytes(seed=i)), f"f{i}.jpg")
                                    for i in range(3)], "timestamps": "0,0.1,0.2"},
                        content_type="multipart/form-data")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    reg = kiosk.registration()
    assert reg.liveness_challenge == challenge  # the same recording is judged when sent again
    assert reg.liveness_passed_at is None and not _evidence(app, "face")


def test_a_busy_preview_frame_gets_calm_advice(app, kiosk, fake_ekyc):
    import io

    kiosk.start()
    app.extensions[vision_pool.EXTENSION_KEY] = _AlwaysBusy(lambda: fake_ekyc)
    answer = kiosk.post(f"/r/{kiosk.token}/guidance", {"frame": (io.BytesIO(jpeg_bytes()),
                                                                  "f.jpg")},
                        content_type="multipart/form-data")
    assert answer.status_code == 200
    assert answer.get_json() == {"ok": False, "issues": ["busy"], "messages": [BUSY_MESSAGE]}


def test_a_vision_bug_in_the_portrait_cut_does_not_cost_the_photo(app, kiosk, fake_ekyc):
    def broken(*_args, **_kw):
        raise RuntimeError("detector exploded")

    kiosk.walk_to(6)
    fake_ekyc.script(card=CARD)
    fake_ekyc.on("card_portrait_jpeg", broken)
    assert kiosk.capture("card_front").status_code == 200
    row = _evidence(app, "card_front")[-1]
    assert row.portrait is None and row.findings["card"]["id_number"] == CARD["id_number"]
    assert row.preview is not None


def test_an_uploaded_card_photo_is_read_as_a_page_that_may_show_both_sides(app, kiosk,
                                                                          fake_ekyc):
    """Only a camera shot is one side of a card held up: an uploaded file may be a scan of
    both sides, read (and compared) as such."""
    kiosk.walk_to(6)
    kiosk.post(f"/r/{kiosk.token}/step/6/capture/card_front",
               {"image_data": "", "image_file": (io.BytesIO(jpeg_bytes(seed=5)), "scan.jpg")})
    kiosk.capture("face")
    reads = [kwargs for method, kwargs in fake_ekyc.calls if method == "read_card"]
    compares = [kwargs for method, kwargs in fake_ekyc.calls if method == "compare"]
    assert reads and all(kwargs["held_card"] is False for kwargs in reads)
    assert compares and compares[-1]["held_card"] is False
    kiosk.capture("card_back")
    compares = [kwargs for method, kwargs in fake_ekyc.calls if method == "compare"]
    assert compares[-1]["held_card"] is False  # one upload among the card photos is enough
    with app.app_context():
        sources = {row.kind: row.source for row in _evidence(app)}
    assert sources["card_front"] == "upload" and sources["card_back"] == "camera"


def test_a_registrations_photo_jobs_and_its_face_compare_share_a_worker(app, kiosk,
                                                                         fake_ekyc):
    """Each worker keeps the card reads it made: the comparison finds them only in the worker
    that read the photos."""
    seen = []
    app.extensions[vision_pool.EXTENSION_KEY] = RecordingPool(lambda: fake_ekyc, seen)
    kiosk.walk_to(6)
    fake_ekyc.script(decision="review", card=CARD)
    kiosk.capture_all()
    reg = kiosk.registration()
    photo_jobs = [(kind, key) for kind, _, key in seen if kind in ("card_photo", "compare")]
    assert {kind for kind, _ in photo_jobs} == {"card_photo", "compare"}
    assert {key for _, key in photo_jobs} == {reg.id}


def test_camera_shots_are_compared_as_a_card_held_up(app, kiosk, fake_ekyc):
    kiosk.walk_to(6)
    kiosk.capture_all()
    compares = [kwargs for method, kwargs in fake_ekyc.calls if method == "compare"]
    assert compares and all(kwargs["held_card"] is True for kwargs in compares)


def test_a_scan_at_step_1_is_read_as_a_card_held_up_and_an_uploaded_one_as_a_page(kiosk,
                                                                                  fake_ekyc):
    kiosk.start()
    scan = f"/r/{kiosk.token}/step/1/scan"
    kiosk.post(scan + "/consent", {"consent": "y"})
    kiosk.post(scan, {"image_data": data_url("image/jpeg", jpeg_bytes(seed=8))})
    kiosk.post(scan, {"image_data": "",
                      "image_file": (io.BytesIO(jpeg_bytes(seed=9)), "scan.jpg")})
    reads = [kwargs["held_card"] for method, kwargs in fake_ekyc.calls if method == "read_card"]
    assert reads == [True, False]
