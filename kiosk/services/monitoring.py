"""What an operator watches (docs/operations.md, «Theo dõi / Monitoring»): the Prometheus
exposition behind ``/metrics``, the readiness checks behind ``/readyz``, and who may scrape.

The counters and histograms are counted as things happen (core/metrics.py). What the database
holds right now — registrations in progress, the clerks' queue, silent kiosks — and the vision
pool's figures are read when Prometheus asks (one scrape every 15–60 s), with a few grouped
queries on indexed columns, instead of being kept up to date on every request.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
from datetime import timedelta

from flask import current_app
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import case, func, select, text

from kiosk.core import metrics
from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, Registration, utcnow

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
POOL_KEY = "kiosk_vision_pool"
# /readyz answers within this: a load balancer polls it every few seconds.
READY_DB_TIMEOUT_SECONDS = 2.0


def request_done(group: str, status: int, seconds: float) -> None:
    """A request's latency and status class (the web layer's per-request hook)."""
    metrics.request_done(group, status, seconds)
    if metrics.MULTIPROCESS:
        _MIRROR.keep_copying(current_app._get_current_object())


# ---- who may scrape ----------------------------------------------------------------------------
def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def token_matches(presented: str | None) -> bool:
    """The bearer token against METRICS_TOKEN. Digests of equal length are compared in constant
    time, so the answer's timing tells nothing of the token; without METRICS_TOKEN no token is
    accepted (only a signed-in administrator may read the metrics)."""
    configured = current_app.config.get("METRICS_TOKEN")
    if not configured or not presented:
        return False
    return hmac.compare_digest(token_digest(presented), token_digest(str(configured)))


def scrape(token: str | None, admin: bool) -> bytes | None:
    """The exposition for a caller with ``token`` (a bearer token, or None when none was
    sent) or an administrator's session; None when refused. A token, when one is sent,
    decides alone: a wrong token is not rescued by a session."""
    allowed = token_matches(token) if token is not None else admin
    return exposition() if allowed else None


# ---- the exposition ----------------------------------------------------------------------------
def exposition() -> bytes:
    """The metrics in Prometheus' text format: this process's (or, under gunicorn, every
    worker's, added up from PROMETHEUS_MULTIPROC_DIR), the database's and the vision pool's."""
    registry = CollectorRegistry(auto_describe=False)
    pool = current_app.extensions.get(POOL_KEY)
    if metrics.MULTIPROCESS:
        from prometheus_client import multiprocess

        if pool is not None:
            _MIRROR.copy(pool)  # this process's figures as of now; the others' are ≤ 5 s old
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
        if pool is not None:
            registry.register(PoolCollector(pool))
    registry.register(DatabaseCollector(current_app.config))
    return generate_latest(registry)


class _ProcessMetrics:
    """This process's counters (single-process servers: waitress, the tests)."""

    def collect(self):
        return metrics.REGISTRY.collect()


class DatabaseCollector:
    """Gauges read from the database at scrape time: the same for every worker that answers."""

    def __init__(self, config):
        self.active_seconds = int(config.get("ABANDONED_AFTER_SECONDS") or 1800)
        self.silent_seconds = int(config.get("KIOSK_SILENT_AFTER_SECONDS") or 300)

    def collect(self):
        """All or nothing: a database that fails half-way leaves its gauges out (and
        kiosk_database_up at 0) instead of failing the whole scrape."""
        try:
            families = list(self._families())
        except Exception:
            current_app.logger.warning("database gauges unavailable for /metrics", exc_info=True)
            from kiosk.services import unit_of_work

            unit_of_work.discard()
            families = []
        yield GaugeMetricFamily("kiosk_database_up", "1 when the database answered the scrape's "
                                "queries.", value=1.0 if families else 0.0)
        yield from families

    def _families(self):
        now = utcnow()
        offices = dict(db.session.execute(select(Office.id, Office.code)).all())
        active = [oid for oid, in db.session.execute(
            select(Office.id).where(Office.active.is_(True))).all()]

        def office(oid):
            return metrics.NO_OFFICE if oid is None else offices.get(oid) or f"office-{oid}"

        in_progress = GaugeMetricFamily(
            "kiosk_registrations_in_progress",
            f"Registrations in progress with activity in the last {self.active_seconds} s, by "
            "office and the step shown.", labels=["office", "step"])
        for oid, step, count in db.session.execute(
                select(Registration.office_id, Registration.current_step, func.count())
                .where(Registration.status == "in_progress",
                       Registration.updated_at >= now - timedelta(seconds=self.active_seconds))
                .group_by(Registration.office_id, Registration.current_step)):
            in_progress.add_metric([office(oid), str(step)], count)
        yield in_progress

        length = GaugeMetricFamily("kiosk_queue_length", "Registrations waiting for a clerk, "
                                   "by office.", labels=["office"])
        oldest = GaugeMetricFamily("kiosk_queue_oldest_wait_seconds", "Seconds the longest "
                                   "waiting customer has waited for a clerk, by office.",
                                   labels=["office"])
        # help_requested_at is indexed: only the waiting rows are read.
        waiting = {oid: (count, first) for oid, count, first in db.session.execute(
            select(Registration.office_id, func.count(), func.min(Registration.help_requested_at))
            .where(Registration.help_requested_at.is_not(None),
                   Registration.status == "in_progress")
            .group_by(Registration.office_id))}
        for oid in sorted(set(active) | set(waiting), key=lambda o: (o is None, o or 0)):
            count, first = waiting.get(oid, (0, None))
            length.add_metric([office(oid)], count)
            oldest.add_metric([office(oid)], _seconds_since(first, now))
        yield length
        yield oldest

        enrolled = GaugeMetricFamily("kiosk_kiosks_enrolled", "Enrolled kiosks (not revoked), "
                                     "by office.", labels=["office"])
        silent = GaugeMetricFamily("kiosk_kiosks_silent", "Enrolled kiosks not heard from for "
                                   f"{self.silent_seconds} s, by office.", labels=["office"])
        cutoff = now - timedelta(seconds=self.silent_seconds)
        quiet = (Kiosk.last_seen_at.is_(None)) | (Kiosk.last_seen_at < cutoff)
        counts = {oid: (total, quiet_count) for oid, total, quiet_count in db.session.execute(
            select(Kiosk.office_id, func.count(), func.sum(case((quiet, 1), else_=0)))
            .where(Kiosk.device_token_digest.is_not(None), Kiosk.revoked_at.is_(None),
                   Kiosk.active.is_(True))
            .group_by(Kiosk.office_id))}
        for oid in sorted(set(active) | set(counts), key=lambda o: (o is None, o or 0)):
            total, quiet_count = counts.get(oid, (0, 0))
            enrolled.add_metric([office(oid)], total)
            silent.add_metric([office(oid)], quiet_count or 0)
        yield enrolled
        yield silent


def _seconds_since(moment, now) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0


class PoolCollector:
    """The vision pool's own figures, read at scrape time from its ``stats()``: workers, jobs
    queued and running, jobs refused because the queue was full («máy đang bận»), jobs and
    seconds by kind. A pool that cannot answer leaves its metrics out; the scrape still works."""

    def __init__(self, pool):
        self.pool = pool

    def collect(self):
        try:
            stats = dict(self.pool.stats())
        except Exception:  # the pool's trouble shows in /readyz; the other metrics still go out
            current_app.logger.exception("vision pool stats unavailable")
            return
        for name, key, help_text in (
                ("kiosk_vision_pool_workers", "workers", "Vision worker processes."),
                ("kiosk_vision_pool_queued", "queued", "Vision jobs waiting for a worker."),
                ("kiosk_vision_pool_running", "running", "Vision jobs being worked on.")):
            yield GaugeMetricFamily(name, help_text, value=float(stats.get(key) or 0))
        yield GaugeMetricFamily("kiosk_vision_pool_ready", "1 when the vision pool takes jobs.",
                                value=1.0 if stats.get("ready") else 0.0)
        yield CounterMetricFamily("kiosk_vision_pool_rejected", "Vision jobs refused because "
                                  "the queue was full (the kiosk said «máy đang bận»).",
                                  value=float(stats.get("rejected_total") or 0))
        jobs = CounterMetricFamily("kiosk_vision_jobs", "Vision jobs done, by kind.",
                                   labels=["kind"])
        for kind, count in sorted((stats.get("jobs_total") or {}).items()):
            jobs.add_metric([str(kind)[:40]], float(count))
        yield jobs
        seconds = CounterMetricFamily("kiosk_vision_seconds", "Seconds spent in vision jobs, "
                                      "by kind.", labels=["kind"])
        for kind, total in sorted((stats.get("seconds_total") or {}).items()):
            seconds.add_metric([str(kind)[:40]], float(total))
        yield seconds


class PoolMirror:
    """Under gunicorn each web process has its own vision pool and any one of them answers the
    scrape: each process copies its pool's figures every few seconds into the multiprocess
    metrics (core/metrics.py), which the scrape adds up over the live processes. The pool's
    totals become counter increments (a pool that restarted counts from zero again)."""

    INTERVAL_SECONDS = 5.0

    def __init__(self):
        self._lock = threading.Lock()
        self._last: dict[tuple, float] = {}
        self._thread: threading.Thread | None = None
        self._pid: int | None = None  # the process whose copying thread runs
        self._copied_by: int | None = None  # the process whose totals _last holds
        self._stopping = threading.Event()

    def copy(self, pool) -> None:
        made = metrics.pool_metrics()
        # The scrape and the copying thread both copy: each reads the pool's totals under the
        # lock, so an older reading never lands after a newer one (it would look like a
        # restarted pool, and its whole total would be added again).
        with self._lock:
            try:
                stats = dict(pool.stats())
            except Exception:
                current_app.logger.exception("vision pool stats unavailable")
                return
            if self._copied_by != os.getpid():  # a forked worker starts from its own pool's zero
                self._copied_by, self._last = os.getpid(), {}
            for key, gauge in made["gauges"].items():
                raw = bool(stats.get("ready")) if key == "ready" else stats.get(key)
                gauge.set(float(raw or 0))
            self._add(made["rejected"], None, stats.get("rejected_total"))
            for kind, total in (stats.get("jobs_total") or {}).items():
                self._add(made["jobs"], str(kind)[:40], total)
            for kind, total in (stats.get("seconds_total") or {}).items():
                self._add(made["seconds"], str(kind)[:40], total)

    def _add(self, counter, kind: str | None, total) -> None:
        total = float(total or 0)
        key = (counter._name, kind)
        last = self._last.get(key, 0.0)
        delta = total - last if total >= last else total
        if delta > 0:
            (counter.labels(kind=kind) if kind is not None else counter).inc(delta)
        self._last[key] = total

    def keep_copying(self, app) -> None:
        """Start this process's copying thread (once per process; cheap when it runs). What was
        copied already stays copied: a scrape answered before the thread started has counted
        its pool's totals, and counting them again doubled them."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, args=(app,), daemon=True,
                                            name="metrics-vision-pool")
            self._thread.start()

    def _run(self, app) -> None:
        while not self._stopping.is_set():
            pool = app.extensions.get(POOL_KEY)
            if pool is not None:
                with app.app_context():
                    self.copy(pool)
            self._stopping.wait(self.INTERVAL_SECONDS)

    def stop(self) -> None:
        """End the copying thread (a test's mirror; a worker's runs as long as the worker)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.INTERVAL_SECONDS + 1)


_MIRROR = PoolMirror()


# ---- readiness ---------------------------------------------------------------------------------
def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" or why not}). Cheap enough to poll every few seconds; says nothing
    about anybody and no path or address of the server."""
    database, revisions = _database_answers(READY_DB_TIMEOUT_SECONDS)
    checks = {"database": database,
              "migrations": _migrations(revisions) if database == "ok" else "unknown",
              "face_models": _face_models(),
              "vision_pool": _vision_pool()}
    return all(v in READY_STATES for v in checks.values()), checks


# What lets a server serve: "absent" is a vision pool the server runs without; a schema newer
# than the code is an upgrade under way (``init`` has run, this server is not reloaded yet), and
# migrations are written so that the old code keeps working on the new schema meanwhile.
NEWER_SCHEMA = "newer than this code (an upgrade under way?)"
READY_STATES = ("ok", "absent", NEWER_SCHEMA)


def _database_answers(timeout: float) -> tuple[str, frozenset[str] | None]:
    """(``SELECT 1`` on a connection of its own, given ``timeout`` seconds; the schema's
    migration revisions, or None when it has none). It runs in a thread so that a database
    that does not answer (a half-open connection, a host gone) makes the check fail on time
    instead of holding the load balancer's probe; one check at a time per app, so a hung
    database cannot pile up threads."""
    app = current_app._get_current_object()
    lock = app.extensions.setdefault("kiosk_ready_lock", threading.Lock())
    if not lock.acquire(blocking=False):
        return "no answer (the previous check is still waiting)", None
    outcome: dict = {"revisions": None}
    finished = threading.Event()

    def check():
        try:
            with app.app_context(), db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                outcome["result"] = "ok"
                try:
                    outcome["revisions"] = frozenset(conn.execute(
                        text("SELECT version_num FROM alembic_version")).scalars())
                except Exception:  # no alembic_version table: a database never migrated
                    outcome["revisions"] = None
        except Exception as exc:  # the message may hold the server's address: the type only
            outcome["result"] = f"error ({type(exc).__name__})"
        finally:
            finished.set()
            lock.release()

    threading.Thread(target=check, name="readyz-db", daemon=True).start()
    if not finished.wait(timeout):
        return f"no answer within {timeout:g} s", None
    return outcome["result"], outcome["revisions"]


def _migrations(revisions: frozenset[str] | None) -> str:
    """Whether the database's schema is one this code can serve on: its migration revisions are
    the code's heads, or newer ones (:data:`NEWER_SCHEMA`). Code deployed without ``flask db
    upgrade`` would fail customers at the first page that reads a new column: "behind"."""
    if not revisions:
        return "not migrated"
    heads, known = _migration_scripts()
    if revisions == heads:
        return "ok"
    if revisions <= known:
        return "behind (run flask db upgrade)"
    return NEWER_SCHEMA


def _migration_scripts() -> tuple[frozenset[str], frozenset[str]]:
    """(the heads, every revision) of the app's migrations folder, read once per process: the
    files do not change under a running server (a deployment restarts it)."""
    app = current_app._get_current_object()
    cached = app.extensions.get("kiosk_migration_scripts")
    if cached is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", app.extensions["migrate"].directory)
        scripts = ScriptDirectory.from_config(config)
        cached = (frozenset(scripts.get_heads()),
                  frozenset(rev.revision for rev in scripts.walk_revisions()))
        app.extensions["kiosk_migration_scripts"] = cached
    return cached


def _face_models() -> str:
    from kiosk.services import ekyc

    engine = current_app.extensions.get(ekyc.EXTENSION_KEY)
    problem = getattr(engine, "model_problem", lambda: None)() if engine is not None else "none"
    return "ok" if not problem else "missing"


def _vision_pool() -> str:
    pool = current_app.extensions.get(POOL_KEY)
    if pool is None:
        return "absent"
    try:
        return "ok" if pool.ready() else "not ready"
    except Exception as exc:
        return f"error ({type(exc).__name__})"
