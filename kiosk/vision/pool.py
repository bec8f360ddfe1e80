"""A pool of worker PROCESSES for photo analysis, bounded, so that vision never queues the web
requests behind it.

Why processes: a card read, a portrait cut and a face compare cost ~0.7 s of CPU per
registration and hold the GIL for much of it; run in the request threads, every other request
of the web process (a step page, a status poll) waited behind them. In their own processes,
at a lower CPU priority (``os.nice``), the web threads win the CPU and the vision uses what is
left.

Why 'spawn' (or 'forkserver'): the web server has threads; ``fork`` of a threaded process can
copy a lock held by another thread and hang the child. Each worker imports the code itself and
builds its own engine from a picklable ``factory(config)``, loading the models once (at start,
in the background: :meth:`VisionPool.ready` tells when).

Bounded: at most ``queue`` jobs waiting or running per pool (one pool per web process). One
more is refused at once with :class:`VisionBusy` (the kiosk says «Máy đang bận» and retries by
itself), so vision waiters never hold more than a share of the request threads. A job past
``timeout`` seconds, or a worker that dies, is also :class:`VisionBusy`: the worker is killed
and replaced, and the next job works.

A job is a module-level function ``fn(engine, *args)`` (pickled by reference, so the worker
imports it); its answer comes back pickled. An exception it raises (ImageError for an unusable
photo) is raised again in the caller.

:class:`InlinePool` has the same interface and runs the job in the calling thread (VISION_WORKERS
= 0: the tests and the CLI). Pure: no Flask.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

BUSY_MESSAGE = "Máy đang bận, xin chờ trong giây lát."


class VisionBusy(Exception):
    """No answer from the vision now: the queue is full, the job took too long, or its worker
    died. Nothing was decided; the same photo may be sent again in a moment."""

    def __init__(self, reason: str):
        super().__init__(BUSY_MESSAGE)
        self.reason = reason  # "full" | "timeout" | "died"


class JobFailed(Exception):
    """The job raised something that could not be sent back as it was."""


def _worker_main(conn, factory, config, ready, nice: int, threads: int = 0) -> None:
    """A worker process: lower priority, one engine, models loaded once, then jobs until the
    pipe closes. ``threads``: OpenCV's threads in this process (0 = OpenCV's own choice)."""
    # Ctrl+C reaches the whole process group: the web process stops, and its closed pipe ends
    # this loop; no KeyboardInterrupt traceback from every worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(nice)
    if threads:
        # The server runs about one vision process per core: the parallelism is the
        # processes'. OpenCV's own threads on top only make each job cost more CPU (handing
        # work out and spinning: ~20 % more per photo, docs/performance.md).
        import cv2

        cv2.setNumThreads(threads)
    engine = factory(config)
    preload = getattr(engine, "preload", None)
    if preload is not None:
        try:
            preload()
        except Exception:  # a missing model fails each job the same way: the caller decides
            log.exception("vision worker: models could not be loaded")
    ready.set()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            answer = ("ok", fn(engine, *args))
        except BaseException as exc:
            answer = ("error", exc)
        try:
            conn.send(answer)
        except Exception as exc:  # an unpicklable answer or exception
            conn.send(("error", JobFailed(f"{type(exc).__name__}: {exc}")))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: object
    ready: object  # a multiprocessing Event
    slot: int = 0  # its place in the pool: a replacement takes the slot of the one it replaces


@dataclass
class _Counters:
    rejected_total: int = 0
    jobs_total: dict[str, int] = field(default_factory=dict)
    seconds_total: dict[str, float] = field(default_factory=dict)

    def count(self, kind: str, seconds: float) -> None:
        self.jobs_total[kind] = self.jobs_total.get(kind, 0) + 1
        self.seconds_total[kind] = self.seconds_total.get(kind, 0.0) + seconds


class VisionPool:
    """``workers`` processes, at most ``queue`` jobs waiting or running, ``timeout`` seconds a
    job. :meth:`start` spawns them (it returns at once: the models load in the background)."""

    def __init__(self, factory: Callable, config: dict, *, workers: int, queue: int,
                 timeout: float = 60.0, nice: int = 10, threads: int = 1,
                 context: str = "spawn"):
        if workers < 1:
            raise ValueError("a vision pool needs at least one worker (0 = InlinePool)")
        self.factory, self.config = factory, dict(config)
        self.workers, self.queue = workers, max(1, queue)
        self.timeout, self.nice, self.threads = timeout, nice, threads
        self._ctx = multiprocessing.get_context(context)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._admitted = 0  # waiting + running
        self._running = 0
        self._counters = _Counters()
        self._started = False
        self._closed = False
        self._pid = None
        self._missing = 0  # workers that could not be spawned again (no memory…): retried

    # ---- life ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the workers (once per process: a pool created before a fork starts anew in
        the child, never sharing the parent's pipes)."""
        with self._cond:
            if self._started and self._pid == os.getpid():
                return
            self._idle, self._all = [], []
            self._admitted = self._running = self._missing = 0
            self._started, self._pid, self._closed = True, os.getpid(), False
            for slot in range(self.workers):
                worker = self._spawn(slot)
                self._idle.append(worker)

    def _spawn(self, slot: int) -> _Worker:
        parent, child = self._ctx.Pipe()
        ready = self._ctx.Event()
        process = self._ctx.Process(target=_worker_main, name="kiosk-vision",
                                    args=(child, self.factory, self.config, ready, self.nice,
                                          self.threads),
                                    daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent, ready, slot)
        self._all.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker | None:
        """Kill a worker that timed out or died; a new one takes its place (called with the
        condition held). None when the new one cannot be spawned now (the memory pressure that
        killed the old one, say): counted missing and spawned again by the next job."""
        try:
            worker.process.kill()
            worker.process.join(2)
        except Exception:  # already gone
            pass
        with contextlib.suppress(OSError):
            worker.conn.close()
        if worker in self._all:
            self._all.remove(worker)
        try:
            return self._spawn(worker.slot)
        except Exception:
            log.exception("vision worker could not be replaced: retried with the next job")
            self._missing += 1
            return None

    def _respawn_missing(self) -> None:
        """(condition held) Spawn again the workers that could not be replaced, in the slots
        left empty."""
        while self._missing:
            taken = {w.slot for w in self._all}
            slot = next((i for i in range(self.workers) if i not in taken), 0)
            try:
                self._idle.append(self._spawn(slot))
            except Exception:
                log.exception("vision worker still cannot be spawned")
                return
            self._missing -= 1

    def _take_idle(self, affinity) -> _Worker:
        """(condition held, a worker idle) The worker of ``affinity``'s slot when it is idle,
        else any idle one: a job never waits for its own worker while another could run it."""
        if affinity is not None:
            slot = hash(affinity) % self.workers
            for i, worker in enumerate(self._idle):
                if worker.slot == slot:
                    return self._idle.pop(i)
        return self._idle.pop()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers, self._all, self._idle = self._all, [], []
            self._started = False
        for worker in workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
            worker.conn.close()

    # ---- jobs ------------------------------------------------------------------------------------
    def run(self, kind: str, fn: Callable, *args, affinity=None):
        """``fn(engine, *args)`` in a worker: its answer, or its exception raised again;
        :class:`VisionBusy` when the pool is full, the job took too long or the worker died.

        ``affinity``: jobs with the same value go to the same worker whenever it is idle (one
        registration's photos: each worker keeps the reads it made, ``photo_cache``, so the
        face comparison finds the card photos already read instead of reading them again)."""
        self.start()
        deadline = time.monotonic() + self.timeout
        with self._cond:
            self._respawn_missing()
            if self._admitted >= self.queue:
                self._counters.rejected_total += 1
                raise VisionBusy("full")
            self._admitted += 1
            while not self._idle:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    self._admitted -= 1
                    raise VisionBusy("timeout")
                self._cond.wait(remaining)
            worker = self._take_idle(affinity)
            self._running += 1
        began = time.monotonic()
        healthy = False
        try:
            # A worker still loading its models reads no job yet, and a send to it could block
            # past the deadline: wait for it within the job's time instead.
            while not worker.ready.wait(min(0.5, max(0.0, deadline - time.monotonic()))):
                if not worker.process.is_alive():
                    raise EOFError("the worker ended while loading its models")
                if time.monotonic() >= deadline:
                    healthy = True  # slow to load, not broken: kept
                    raise VisionBusy("timeout")
            worker.conn.send((fn, args))
            # The job's own time runs from here: a job that waited its turn in the queue
            # still gets the whole timeout, so a healthy worker is not killed for the wait.
            if not worker.conn.poll(self.timeout):
                log.warning("vision job %s took over %.0f s: its worker is replaced", kind,
                            self.timeout)
                raise VisionBusy("timeout")
            status, payload = worker.conn.recv()
            healthy = True
        except (EOFError, OSError) as exc:
            log.warning("vision worker died during a %s job: replaced", kind)
            raise VisionBusy("died") from exc
        finally:
            with self._cond:
                self._running -= 1
                self._admitted -= 1
                if not self._closed:
                    replacement = worker if healthy else self._replace(worker)
                    if replacement is not None:
                        self._idle.append(replacement)
                self._counters.count(kind, time.monotonic() - began)
                self._cond.notify()
        if status == "error":
            raise payload
        return payload

    # ---- what /metrics and /readyz read ----------------------------------------------------
    def ready(self) -> bool:
        """Every worker has its models loaded."""
        with self._cond:
            workers, missing = list(self._all), self._missing
        return bool(workers) and not missing and all(w.ready.is_set() for w in workers)

    def stats(self) -> dict:
        with self._cond:
            c = self._counters
            return {"workers": len(self._all), "queued": self._admitted - self._running,
                    "running": self._running, "rejected_total": c.rejected_total,
                    "jobs_total": dict(c.jobs_total), "seconds_total": dict(c.seconds_total),
                    "ready": bool(self._all) and all(w.ready.is_set() for w in self._all)}


class InlinePool:
    """The same interface, the job run in the calling thread with the app's own engine
    (VISION_WORKERS = 0). Not bounded: the request threads are the bound."""

    def __init__(self, engine: Callable[[], object]):
        self._engine = engine
        self._lock = threading.Lock()
        self._running = 0
        self._counters = _Counters()

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def run(self, kind: str, fn: Callable, *args, affinity=None):
        with self._lock:
            self._running += 1
        began = time.monotonic()
        try:
            return fn(self._engine(), *args)
        finally:
            with self._lock:
                self._running -= 1
                self._counters.count(kind, time.monotonic() - began)

    def ready(self) -> bool:
        return True

    def stats(self) -> dict:
        with self._lock:
            c = self._counters
            return {"workers": 0, "queued": 0, "running": self._running,
                    "rejected_total": 0, "jobs_total": dict(c.jobs_total),
                    "seconds_total": dict(c.seconds_total), "ready": True}
