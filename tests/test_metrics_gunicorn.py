"""One /metrics for all gunicorn workers: real gunicorn (gunicorn.conf.py) with two worker
processes on 127.0.0.1, counting into one PROMETHEUS_MULTIPROC_DIR."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.app_factory import KIOSK_COOKIE, KIOSK_DEVICE_TOKEN
from tests.support.prometheus_text import by_label, value

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "gunicorn-scrape-token-91ab"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_counting(folder: Path) -> set[str]:
    """The worker pids with a histogram file in the folder (each worker writes its own)."""
    return {m.group(1) for f in folder.glob("histogram_*.db")
            if (m := re.fullmatch(r"histogram_(\d+)\.db", f.name))}


@pytest.fixture
def gunicorn_server(app, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_1.db"
    stale.write_bytes(b"left over from the last run")  # the master must empty the folder
    port = free_port()
    env = {**os.environ,
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "KIOSK_TEST_INSTANCE_PATH": app.instance_path,
           "KIOSK_TEST_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "KIOSK_TEST_DATA_KEY": app.config["DATA_KEY"],
           "KIOSK_TEST_METRICS_TOKEN": TOKEN,
           "KIOSK_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "KIOSK_THREADS": "2"}
    log = (tmp_path / "gunicorn.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             "tests.support.gunicorn_app:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:  # until both workers have booted and one answers
        assert proc.poll() is None, Path(log.name).read_text()[-3000:]
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # refused, or accepted before a worker is up
            pass
        assert time.monotonic() < deadline, "gunicorn did not answer within 90 s"
        time.sleep(0.2)
    yield base, metrics_dir, stale, Path(log.name)
    stop(proc, log)


def stop(proc: subprocess.Popen, log) -> None:
    """gunicorn stopped as systemd stops it (SIGTERM), killed if it lingers; its log closed."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()


def scrape(base: str) -> str:
    response = requests.get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                            timeout=10)
    assert response.status_code == 200, response.status_code
    return response.text


def start_registration(base: str) -> None:
    """The enrolled kiosk's «Bắt đầu» on a connection (and session) of its own."""
    with requests.Session() as s:
        s.cookies.set(KIOSK_COOKIE, KIOSK_DEVICE_TOKEN, domain="127.0.0.1")
        html = s.get(base + "/", timeout=10).text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
        response = s.post(base + "/start", data={"csrf_token": token}, timeout=10,
                          headers={"Origin": base}, allow_redirects=False)
        assert response.status_code == 303, response.status_code


def test_two_workers_counters_are_added_up(gunicorn_server):
    base, metrics_dir, stale, log_path = gunicorn_server
    assert not stale.exists()
    before = scrape(base)
    healthz = started = 0
    # New connections until both workers have answered some (the kernel hands each accepted
    # connection to whichever worker takes it), then a few more registrations.
    while len(pids_counting(metrics_dir)) < 2 or started < 4:
        assert healthz < 400, "one worker took every connection"
        requests.get(base + "/healthz", headers={"Connection": "close"}, timeout=10)
        healthz += 1
        if healthz % 5 == 0:
            start_registration(base)
            started += 1
    assert len(pids_counting(metrics_dir)) == 2
    after = scrape(base)
    count = "kiosk_http_request_duration_seconds_count"
    served = (value(after, count, group="ops", status="2xx")
              - value(before, count, group="ops", status="2xx"))
    # every /healthz above plus the first scrape, whichever worker answered each
    assert served == healthz + 1
    # each worker's vision pool (2 workers, 11 face jobs each) — copied by each process once
    assert value(after, "kiosk_vision_pool_workers") == 4
    assert value(after, "kiosk_vision_jobs_total", kind="face") == 11 * 2
    assert value(after, "kiosk_vision_pool_ready") == 1
    started_total = "kiosk_registrations_started_total"
    assert sum(by_label(after, started_total, "office").values()) \
        - sum(by_label(before, started_total, "office").values()) == started


def test_logs_are_json_lines_with_the_request_id_and_no_access_log(gunicorn_server):
    base, _dir, _stale, log_path = gunicorn_server
    rid = "lb-check-000042"
    assert requests.get(base + "/readyz", headers={"X-Request-ID": rid},
                        timeout=10).headers["X-Request-ID"] == rid
    deadline = time.monotonic() + 10
    while rid not in log_path.read_text():  # the worker writes its line after answering
        assert time.monotonic() < deadline
        time.sleep(0.1)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    ours = [p for p in parsed if p.get("request_id") == rid]
    assert ours and ours[0]["endpoint"] == "ops.readyz" and ours[0]["status"] == 200
    # gunicorn's own lines are JSON as well, and it writes no access line of its own
    assert any(p["logger"] == "gunicorn.error" and "Booting worker" in p["msg"] for p in parsed)
    assert len(ours) == 1, "one line per request, not one per handler"
    assert not [line for line in lines if '"GET /readyz' in line]


def test_a_worker_moves_what_it_imported_out_of_the_collectors_sight(tmp_path):
    """gunicorn.conf.py's post_worker_init freezes the objects the worker imported, so a full
    garbage collection pauses the worker for what came after only (run in a process of its
    own: a frozen test process would never free them)."""
    probe = (
        "import gc, runpy; conf = runpy.run_path('gunicorn.conf.py'); import kiosk; "
        "before = gc.get_freeze_count(); conf['post_worker_init'](None); "
        "print(before, gc.get_freeze_count(), len(gc.get_objects()))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    before, frozen, left = (int(x) for x in out.stdout.split())
    assert before == 0 and frozen > 10_000 and left < frozen / 10


@pytest.mark.parametrize("arguments, expected", [
    # the command line overrides the file and the environment: the workers follow it
    (["--workers", "1", "--threads", "2"], {"WEB_CONCURRENCY": "1", "KIOSK_THREADS": "2",
                                            "vision_workers": 4, "vision_queue": 1}),
    # nothing on the command line: the environment's values (as in a systemd unit)
    ([], {"WEB_CONCURRENCY": "2", "KIOSK_THREADS": "6", "vision_workers": 2, "vision_queue": 3}),
])
def test_each_worker_sizes_its_vision_pool_for_the_workers_and_threads_in_force(
        tmp_path, arguments, expected):
    """gunicorn.conf.py reads WEB_CONCURRENCY and KIOSK_THREADS before gunicorn applies its
    command line; its pre_fork hook hands every worker the values gunicorn runs with, so a
    worker started with ``--threads 2`` lets one photo wait for the vision, not three."""
    port = free_port()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
           "KIOSK_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "KIOSK_THREADS": "6"}
    log = (tmp_path / "gunicorn.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                             *arguments, "tests.support.pool_sizing_app:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, Path(log.name).read_text()[-3000:]
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.RequestException:  # not listening yet
                assert time.monotonic() < deadline, "gunicorn did not answer within 60 s"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json() == expected
    finally:
        stop(proc, log)
