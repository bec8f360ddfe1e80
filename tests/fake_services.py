"""A tiny real HTTP server on 127.0.0.1 for testing the HTTP adapters.

    with FakeService() as svc:
        svc.reply("POST", "/subscribers", 201, {"subscriber_ref": "S-1"})
        svc.reply("POST", "/sms", 500)           # replies queue up per route:
        svc.reply("POST", "/sms", 200, {"id": 1})  # first 500, then 200 (the last one sticks)
        ... call svc.url + "/subscribers" ...
        svc.requests[0].json, svc.requests[0].headers["Authorization"]

Unknown routes answer 404 {"error": "not_found"}. A reply may be delayed (``delay``
seconds) to provoke client timeouts.
"""
from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Self

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: object = None
    raw_uri: str = ""


@dataclass
class CannedReply:
    status: int = 200
    json: object = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class FakeService:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._replies: dict[tuple[str, str], deque[CannedReply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- set-up --------------------------------------------------------------------------
    def reply(self, method: str, path: str, status: int = 200, json: object = None,
              *, delay: float = 0.0, headers: dict[str, str] | None = None) -> Self:
        with self._lock:
            self._replies[(method.upper(), path)].append(
                CannedReply(status, json, delay, headers or {})
            )
        return self

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- inspection ----------------------------------------------------------------------
    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests
                    if (method is None or r.method == method) and (path is None or r.path == path)]

    # -- the WSGI app --------------------------------------------------------------------
    def _wsgi(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, request.path, dict(request.headers), body, parsed,
                                environ.get("RAW_URI") or environ.get("REQUEST_URI", ""))
            )
            queue = self._replies.get((request.method, request.path))
            if queue:
                canned = queue.popleft() if len(queue) > 1 else queue[0]
            else:
                canned = CannedReply(404, {"error": "not_found"})
        if canned.delay:
            time.sleep(canned.delay)
        payload = b"" if canned.json is None else json.dumps(canned.json).encode()
        response = Response(payload, status=canned.status, headers=canned.headers,
                            content_type="application/json")
        return response(environ, start_response)


def unused_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
