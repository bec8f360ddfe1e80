"""A WSGI app that answers how a gunicorn worker would size its vision pool: the environment
the worker inherited, read by the same function the kiosk uses (services/vision_pool.sizes). No
database and no Flask app: the test is about what gunicorn.conf.py hands each worker."""
from __future__ import annotations

import json
import os

from kiosk.services import vision_pool


def app(environ, start_response):
    workers, queue = vision_pool.sizes({"VISION_WORKERS": "auto", "VISION_QUEUE": "auto"},
                                       cores=4)
    body = json.dumps({"WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY"),
                       "KIOSK_THREADS": os.environ.get("KIOSK_THREADS"),
                       "vision_workers": workers, "vision_queue": queue}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
