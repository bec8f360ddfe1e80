"""A tiny engine and jobs for the vision pool's own tests (tests/test_vision_pool.py): they run
in real worker processes, so they live in a module the workers can import, and they need no
model."""
from __future__ import annotations

import os
import time

from kiosk.vision.images import ImageError


class TinyEngine:
    """Built in each worker from a plain dict, as the real engine is (EkycEngine.from_config)."""

    def __init__(self, config: dict):
        self.config = config
        self.loaded = False

    @classmethod
    def from_config(cls, config: dict) -> TinyEngine:
        return cls(config)

    def preload(self) -> None:
        time.sleep(float(self.config.get("load_seconds", 0)))
        self.loaded = True


def echo(engine, value):
    return {"value": value, "loaded": engine.loaded, "pid": os.getpid(),
            "nice": os.nice(0) if hasattr(os, "nice") else None}


def opencv_threads(engine) -> int:
    import cv2

    return cv2.getNumThreads()


def sleep(engine, seconds: float):
    time.sleep(seconds)
    return seconds


def wait_for_file(engine, path: str, limit: float = 30.0):
    """Hold the worker until the test creates ``path`` (a job that runs as long as the test
    needs, with no fixed sleep)."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.exists(path)


def refuse(engine):
    raise ImageError("Ảnh không đọc được")


def die(engine):
    os._exit(3)
