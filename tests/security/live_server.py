"""A real threaded HTTP server on 127.0.0.1 for attacks that need parallel requests, and a way
to fire N copies of one request at it at the same instant."""
from __future__ import annotations

import contextlib
import re
import threading

import requests
from werkzeug.serving import make_server

from tests.app_factory import KIOSK_COOKIE, KIOSK_DEVICE_TOKEN


@contextlib.contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def browser_session(kiosk) -> requests.Session:
    """A requests session holding the kiosk browser's cookie (the test client's)."""
    session = requests.Session()
    cookie = kiosk.client.get_cookie("session")
    session.cookies.set("session", cookie.value)
    session.cookies.set(KIOSK_COOKIE, KIOSK_DEVICE_TOKEN)  # the enrolled test kiosk
    return session


def burst(url: str, session_cookie: str, csrf: str, count: int, data=None, rounds: int = 1):
    """POST ``count`` copies at once (released together by a barrier); the responses."""
    results: list = []
    lock = threading.Lock()

    def fire(barrier, payload):
        s = requests.Session()
        s.cookies.set("session", session_cookie)
        s.cookies.set(KIOSK_COOKIE, KIOSK_DEVICE_TOKEN)  # the enrolled test kiosk
        barrier.wait()
        try:
            r = s.post(url, data=payload, timeout=60,
                       headers={"X-CSRFToken": csrf, "HX-Request": "true"})
            item = (r.status_code, r.text)
        except requests.RequestException as exc:  # counted as a failure by the caller
            item = (0, repr(exc))
        with lock:
            results.append(item)

    for _ in range(rounds):
        barrier = threading.Barrier(count)
        payloads = data if isinstance(data, list) else [data or {}] * count
        threads = [threading.Thread(target=fire, args=(barrier, payloads[i])) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    return results


def bare_500(text: str) -> bool:
    return bool(re.search(r"Internal Server Error", text))
