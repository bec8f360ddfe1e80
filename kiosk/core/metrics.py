"""The process's Prometheus metrics (docs/operations.md, «Theo dõi / Monitoring»).

Counted here, shown by services/monitoring.py at ``/metrics``. Labels stay low-cardinality: an
office code, a step number, an event or decision name — never a registration number, a token
or a person.

Under gunicorn every worker process counts for itself: with ``PROMETHEUS_MULTIPROC_DIR`` set
(gunicorn.conf.py sets it) prometheus_client keeps the values in memory-mapped files in that
folder and the scrape adds them up over the workers. Without it (waitress, the tests) the
values live in this process and the registry below is the one read.

A count about the data (an event, a step reached, a queue wait) is only taken when the
transaction that wrote it commits: a request that fails half-way rolls back its rows, and must
not leave a registration counted as started or finished that the database never kept. So the
services *note* a count in the session (:func:`count_on_commit`) and a session hook adds the
notes up after the commit, or drops them on a rollback.
"""
from __future__ import annotations

import os
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import event as sa_event
from sqlalchemy import select

from kiosk.core.extensions import db

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# The metrics this process defines. In multiprocess mode the scrape reads the folder instead
# (services/monitoring.py), this registry only keeps the definitions from clashing with any
# other prometheus_client user in the process.
REGISTRY = CollectorRegistry(auto_describe=True)

# Seconds: the wizard's pages answer in tens of milliseconds, step 6 (vision) in seconds, a
# signed PDF in up to a few seconds; the timeout of a request is 120 s (gunicorn.conf.py).
REQUEST_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# A customer waiting for a clerk: seconds to half an hour.
QUEUE_BUCKETS = (15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600)

EVENTS = Counter("kiosk_events", "Audit events recorded (and committed), by event and office.",
                 ["event", "office"], registry=REGISTRY)
STARTED = Counter("kiosk_registrations_started", "Registrations started, by office.",
                  ["office"], registry=REGISTRY)
FINISHED = Counter("kiosk_registrations_finished", "Registrations finished (all nine steps), "
                   "by office.", ["office"], registry=REGISTRY)
STEP_REACHED = Counter("kiosk_registration_steps_reached", "Registrations reaching a step for "
                       "the first time (the furthest step advanced), by office and step.",
                       ["office", "step"], registry=REGISTRY)
EKYC_DECISIONS = Counter("kiosk_ekyc_decisions", "eKYC decisions: the machine's at each face "
                         "check (match, review, no_match, no_face) and the clerk's "
                         "(staff_confirmed, staff_rejected), by office.",
                         ["decision", "office"], registry=REGISTRY)
QUEUE_WAIT = Histogram("kiosk_queue_wait_seconds", "Seconds from a call for a clerk (help "
                       "request or a case the machine could not decide) to a clerk handling it.",
                       ["office"], buckets=QUEUE_BUCKETS, registry=REGISTRY)
REQUEST_SECONDS = Histogram("kiosk_http_request_duration_seconds", "Request latency by "
                            "endpoint group (blueprint) and status class.",
                            ["group", "status"], buckets=REQUEST_BUCKETS, registry=REGISTRY)
REQUEST_ERRORS = Counter("kiosk_http_server_errors", "Responses with a 5xx status, by endpoint "
                         "group.", ["group"], registry=REGISTRY)

# The vision pool, under gunicorn: each web process has its own pool, so each process copies
# its pool's figures into these (services/monitoring.py, PoolMirror) and the scrape adds them
# up over the live processes — "ready" is the least of them: 1 only when every pool is ready.
# Made on first use, by a process that has a pool: a metric exists (and is exported, at 0) from
# the moment it is made, and a server without a pool must not report one that is down. Not in
# REGISTRY: a single process reads its pool directly at scrape time instead.
_pool_metrics: dict | None = None
_pool_lock = threading.Lock()


def pool_metrics() -> dict:
    global _pool_metrics
    if _pool_metrics is None:
        with _pool_lock:
            if _pool_metrics is None:
                gauges = {key: Gauge(f"kiosk_vision_pool_{key}", help_text, registry=None,
                                     multiprocess_mode=mode)
                          for key, help_text, mode in (
                              ("workers", "Vision worker processes.", "livesum"),
                              ("queued", "Vision jobs waiting for a worker.", "livesum"),
                              ("running", "Vision jobs being worked on.", "livesum"),
                              ("ready", "1 when the vision pool takes jobs.", "livemin"))}
                _pool_metrics = {
                    "gauges": gauges,
                    "rejected": Counter("kiosk_vision_pool_rejected", "Vision jobs refused "
                                        "because the queue was full (the kiosk said «máy đang "
                                        "bận»).", registry=None),
                    "jobs": Counter("kiosk_vision_jobs", "Vision jobs done, by kind.", ["kind"],
                                    registry=None),
                    "seconds": Counter("kiosk_vision_seconds", "Seconds spent in vision jobs, "
                                       "by kind.", ["kind"], registry=None),
                }
    return _pool_metrics


# Events that also count into the named counters above (the event counter has them too).
_BY_EVENT = {"registration_started": STARTED, "registration_finished": FINISHED}
# The clerk's decisions, named like Decision's values (domain/kyc.py); kyc_confirmed also
# records the machine's own match going through, already counted at its face_match.
_STAFF_DECISIONS = {"kyc_rejected": "staff_rejected"}

NO_OFFICE = "none"
_PENDING = "kiosk_metrics_pending"


# ---- office id → code, per process -----------------------------------------------------------
_office_codes: dict[int, str] = {}
_office_lock = threading.Lock()


def office_label(office_id: int | None) -> str:
    """The office's code for a label ("none" without one). Codes rarely change and are looked up
    once per process; a renamed office shows under its new code after a restart
    (:func:`forget_offices` is called when an office is saved)."""
    if office_id is None:
        return NO_OFFICE
    code = _office_codes.get(office_id)
    if code is None:
        from kiosk.core.models import Office

        with db.session.no_autoflush:
            code = db.session.scalar(select(Office.code).where(Office.id == office_id))
        code = code or f"office-{office_id}"
        with _office_lock:
            _office_codes[office_id] = code
    return code


def forget_offices() -> None:
    with _office_lock:
        _office_codes.clear()


# ---- counted when the transaction commits ----------------------------------------------------
def count_on_commit(metric, labels: dict, amount: float = 1.0, observe: bool = False) -> None:
    """Note a count (``observe``: a histogram observation) to take when the session commits."""
    db.session.info.setdefault(_PENDING, []).append((metric, labels, amount, observe))


def audited(event: str, office_id: int | None, details: dict) -> None:
    """The audit trail's hook (core/audit.py ``record``): every event passes here."""
    if event.startswith("office_"):
        forget_offices()  # an office's code may have changed
    office = office_label(office_id)
    count_on_commit(EVENTS, {"event": event, "office": office})
    if event in _BY_EVENT:
        count_on_commit(_BY_EVENT[event], {"office": office})
    if event == "registration_started":  # every registration reaches step 1 as it starts
        count_on_commit(STEP_REACHED, {"office": office, "step": "1"})
    decision = (details.get("decision")
                if event == "face_match" or (event == "kyc_confirmed"
                                             and details.get("decision") == "staff_confirmed")
                else _STAFF_DECISIONS.get(event))
    if decision:
        count_on_commit(EKYC_DECISIONS, {"decision": str(decision)[:30], "office": office})


def step_reached(office_id: int | None, step: int) -> None:
    count_on_commit(STEP_REACHED, {"office": office_label(office_id), "step": str(int(step))})


def queue_waited(office_id: int | None, seconds: float) -> None:
    count_on_commit(QUEUE_WAIT, {"office": office_label(office_id)}, max(0.0, seconds),
                    observe=True)


def _take(session) -> None:
    for metric, labels, amount, observe in session.info.pop(_PENDING, ()):
        child = metric.labels(**labels)
        if observe:
            child.observe(amount)
        else:
            child.inc(amount)


def _drop(session, *_args) -> None:
    session.info.pop(_PENDING, None)


_hooked = False


def init_app(app) -> None:
    """Hook the commit and rollback of every session of the app, once per process."""
    global _hooked
    forget_offices()  # a new app may be another database (tests build one per test)
    if _hooked:
        return
    from sqlalchemy.orm import Session

    sa_event.listen(Session, "after_commit", _take)
    # after_soft_rollback: also a rollback of a savepoint — only the outermost one drops the
    # notes (a nested rollback keeps the outer transaction's rows).
    sa_event.listen(Session, "after_soft_rollback",
                    lambda session, previous: previous.parent is None and _drop(session))
    _hooked = True


# ---- requests --------------------------------------------------------------------------------
def request_done(group: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(group=group, status=f"{status // 100}xx").observe(seconds)
    if status >= 500:
        REQUEST_ERRORS.labels(group=group).inc()
