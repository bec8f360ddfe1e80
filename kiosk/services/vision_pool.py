"""The vision pool of this web process (``kiosk.vision.pool``), built from the settings and kept
in ``app.extensions["kiosk_vision_pool"]``; the services call :func:`run` for every slow vision
job (a card read, a portrait cut, a face compare, a liveness judgement).

Settings (docs/deploy.md, «Vision pool»):

- VISION_WORKERS: worker processes per web process. "auto" (default) = max(1, cores // web
  processes), so that the whole server runs about one vision process per core (gunicorn starts
  WEB_CONCURRENCY web processes, waitress one). 0 = no pool: the job runs in the request thread
  with the app's own engine (the tests, the CLI, a developer's laptop).
- VISION_QUEUE: jobs waiting or running per web process before the next one is refused with
  «Máy đang bận» (503, the kiosk retries by itself). "auto" = half of the web process's request
  threads (at least one): a photo waiting its turn holds a thread but no CPU, so waiting is
  kinder than a «busy» bounce, and the other half always answer the other requests.
- VISION_TIMEOUT_SECONDS: a job longer than this (default 60) is given up, its worker replaced.
- VISION_NICE: how much lower the workers' CPU priority is (default 10; 0 = the same as the
  web threads).
- VISION_THREADS: OpenCV's threads in each worker (default 1: the processes are the
  parallelism; 0 = OpenCV's own choice, one per core).
- VISION_ENGINE_FACTORY: "module:callable" building a worker's engine from the settings
  (default: EkycEngine.from_config); a benchmark's scripted engine goes there, since the
  workers cannot see an engine put into this process's app.extensions.

The pool's processes start with the first request (not at import: ``flask db upgrade`` and the
other commands spawn nothing), and load the models in the background at once.
"""
from __future__ import annotations

import os

from flask import Flask, current_app

from kiosk.vision.pool import BUSY_MESSAGE, InlinePool, VisionBusy, VisionPool

__all__ = ["BUSY_MESSAGE", "EXTENSION_KEY", "RETRY_AFTER_SECONDS", "VisionBusy", "init_app",
           "pool", "run"]

EXTENSION_KEY = "kiosk_vision_pool"
RETRY_AFTER_SECONDS = 2
# What a worker needs to build its engine (EkycEngine.from_config): plain, picklable values.
ENGINE_SETTINGS = ("FACE_MODEL", "FACE_SHADOW_MODEL", "FACE_MODELS_DIR", "FACE_ACCEPT_DISTANCE",
                   "FACE_REJECT_DISTANCE", "MAX_IMAGE_PIXELS", "LIVENESS_MIRRORED")


def _int_setting(value, name: str) -> int | None:
    """An int, or None for "auto"/unset; ValueError naming the setting otherwise."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a whole number or 'auto', not {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def web_processes(environ=os.environ) -> int:
    """How many web processes share this machine: gunicorn's WEB_CONCURRENCY (gunicorn.conf.py
    sets it when it is not set), else 1 (waitress is one process)."""
    try:
        return max(1, int(environ.get("WEB_CONCURRENCY", "1")))
    except ValueError:
        return 1


def request_threads(environ=os.environ) -> int:
    """Request threads of this web process: KIOSK_THREADS, which gunicorn.conf.py sets (8 by
    default); waitress in scripts/run.sh runs 8 too."""
    try:
        return max(1, int(environ.get("KIOSK_THREADS", "8")))
    except ValueError:
        return 8


def sizes(config, environ=os.environ, cores: int | None = None) -> tuple[int, int]:
    """(workers, queue) for this web process from VISION_WORKERS and VISION_QUEUE."""
    cores = cores or os.cpu_count() or 1
    workers = _int_setting(config.get("VISION_WORKERS", "auto"), "VISION_WORKERS")
    if workers is None:
        workers = max(1, cores // web_processes(environ))
    queue = _int_setting(config.get("VISION_QUEUE", "auto"), "VISION_QUEUE")
    if queue is None:
        queue = max(1, request_threads(environ) // 2)
    return workers, max(queue, 1)


def build(app: Flask, engine_key: str):
    """The pool the settings ask for; inline, it uses the engine in
    ``app.extensions[engine_key]``, looked up at each job (a test may put a fake there after
    the app is built)."""
    workers, queue = sizes(app.config)
    if workers == 0:
        return InlinePool(lambda: app.extensions[engine_key])
    from kiosk.vision.engine import EkycEngine

    named = app.config.get("VISION_ENGINE_FACTORY")
    factory = _named(named) if named else EkycEngine.from_config
    config = {key: app.config.get(key) for key in ENGINE_SETTINGS}
    return VisionPool(factory, config, workers=workers, queue=queue,
                      timeout=float(app.config.get("VISION_TIMEOUT_SECONDS", 60)),
                      nice=int(app.config.get("VISION_NICE", 10)),
                      threads=_int_setting(app.config.get("VISION_THREADS", 1),
                                           "VISION_THREADS") or 0)


def _named(spec: str):
    """The object a "package.module:Name.attr" setting names (ValueError naming the setting)."""
    import importlib

    module, _, path = spec.partition(":")
    try:
        found = importlib.import_module(module)
        for part in path.split(".") if path else ():
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"VISION_ENGINE_FACTORY {spec!r} names nothing importable: "
                         f"{exc}") from None
    return found


def init_app(app: Flask, engine_key: str) -> None:
    built = app.extensions.setdefault(EXTENSION_KEY, build(app, engine_key))

    @app.before_request
    def _start_vision_pool():
        # Cheap after the first time (a lock and a pid check); spawns in a forked worker only.
        built.start()


def pool():
    return current_app.extensions[EXTENSION_KEY]


def run(kind: str, fn, *args, registration=None):
    """``fn(engine, *args)`` (a job of kiosk.vision.jobs) in the pool: its answer, its own
    exception (ImageError), or VisionBusy. ``registration``: the photos' registration; its
    jobs go to one worker whenever it is idle, where its photos' reads are kept."""
    affinity = None if registration is None else registration.id
    return pool().run(kind, fn, *args, affinity=affinity)
