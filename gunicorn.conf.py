"""gunicorn settings for the Linux app servers behind nginx (docs/deploy.md).

Start from the repository root (gunicorn reads ./gunicorn.conf.py by itself):

    .venv/bin/gunicorn wsgi:app

Every value can be overridden from the environment (KIOSK_BIND, WEB_CONCURRENCY,
KIOSK_THREADS, KIOSK_TIMEOUT) or on the command line. A single kiosk PC (and Windows) keeps
waitress: scripts/run.sh.

Graceful reload after an upgrade: ``kill -HUP <master pid>`` (systemd: ``systemctl reload``)
starts new workers on the new code; old workers finish the requests they hold first.
"""
import glob
import os
import tempfile

# nginx terminates TLS in front; the app server listens on loopback (or a private address).
bind = os.environ.get("KIOSK_BIND", "127.0.0.1:8000")

# The photo analysis runs in each web process's vision processes (services/vision_pool.py);
# what stays here (ReportLab and the seal at steps 7–9, argon2id) holds the GIL, so one web
# process per core uses the machine; more only add memory (~340–410 MB each, measured with 100
# paced kiosks: docs/deploy.md «Memory»).
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
# The app sizes its vision pool from these (services/vision_pool.py: about one vision process
# per core across all web processes, half the threads may wait for one): said even when they
# were left to their defaults, and said again by pre_fork below with the configured values.
os.environ["WEB_CONCURRENCY"] = str(workers)

# Threads cover the waits: the database, the SMS gateway and the SmartCA backend over HTTP,
# and the kiosks' polling (the resend countdown) while a thread is busy with vision.
worker_class = "gthread"
threads = int(os.environ.get("KIOSK_THREADS", 8))
os.environ["KIOSK_THREADS"] = str(threads)

# A liveness recording is up to 240 frames decoded and searched for a face: several seconds
# on a busy core. Past this the worker is killed and restarted (the request is lost), so it
# stays well above the slowest legitimate request.
timeout = int(os.environ.get("KIOSK_TIMEOUT", 120))
# On reload/stop, workers get this long to finish what they are doing.
graceful_timeout = 30
# Idle keep-alive connections wait in gthread's poller (no thread held), so keep them long:
# longer than nginx's upstream keepalive_timeout (60 s, docs/deploy.md), so that nginx always
# closes first. With gunicorn's default of 5 s, a kiosk (or nginx) reusing a connection just as
# gunicorn closes it gets a reset: 14 of 200 walks failed so in the paced benchmark.
keepalive = 75

# Recycle workers now and then, staggered, so native libraries cannot grow memory forever. Not
# often: a registration is ~34 requests, and a recycle costs ~2.3 s of CPU (the app imported
# again, its vision processes started and their models loaded) and starts with cold caches.
# Every 2,000 requests that was ~40 ms a registration; every 10,000 it is ~8 ms. A worker's
# memory rose 7 MB over its first ~3,400 requests, levelling off (docs/performance-results.md).
max_requests = 10000
max_requests_jitter = 1000

# Not preloaded: each worker imports the code itself, so a HUP reload picks up new code, and
# the face models load lazily in each worker on its first step-6 request.
preload_app = False

# The heartbeat file on tmpfs: a slow disk must not make gunicorn think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# nginx on the same host sets X-Forwarded-* (trusted from loopback only).
forwarded_allow_ips = os.environ.get("KIOSK_FORWARDED_ALLOW_IPS", "127.0.0.1")

# The app writes one line per request itself (kiosk/web/request_log.py): JSON, with the request
# id, the route pattern instead of the path (a path holds a registration token), the duration.
# gunicorn's access log would repeat it with the raw path and query string: off.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("KIOSK_LOG_LEVEL", "info")

# gunicorn's own lines (worker booted, timeout, exit) in the app's format: JSON lines like the
# app's (kiosk/core/logs.py), unless KIOSK_LOG_FORMAT=text is in the environment (read here:
# the master does not load the app's settings).
if os.environ.get("KIOSK_LOG_FORMAT", "json").lower() != "text":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "kiosk.core.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json",
                        "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"},
        },
        # the root logger is the app's (kiosk/core/logs.py installs its handler there)
        "root": {"level": "WARNING", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_console"],
                               "propagate": False, "qualname": "gunicorn.error"},
            # with a logging config gunicorn writes access lines whatever accesslog says:
            # silenced here (the app's own line replaces it)
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False,
                                "qualname": "gunicorn.access"},
        },
    }

# ---- Prometheus: one /metrics for all the workers (docs/operations.md) ------------------------
# Each worker counts in memory-mapped files in this folder and a scrape, answered by whichever
# worker, adds them all up. The folder must be empty at start (old files would be counted
# again): the master empties it once as it starts (on_starting — not on a HUP reload, while
# workers still write there). Set PROMETHEUS_MULTIPROC_DIR to choose it (on tmpfs: the files
# are written on every request); unset, a new private folder under /dev/shm or /tmp is made.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="kiosk-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.remove(stale)


def pre_fork(server, worker):
    # The command line wins over this file (`gunicorn -c gunicorn.conf.py --threads 4`), but
    # the lines above ran before it was read: without this a worker would size its vision pool
    # for the file's workers and threads (a queue of 4 photos where 2 threads serve). Set in the
    # master just before each fork, so every worker, a HUP reload's too, inherits the values
    # gunicorn is configured with. TTIN/TTOU change the number of workers without changing
    # the configuration: workers started after them still count the configured number.
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
    os.environ["KIOSK_THREADS"] = str(server.cfg.threads)


def child_exit(server, worker):
    # A dead worker's gauges leave the sums; its counters stay counted (they happened).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    # The worker has imported the app (~185,000 objects: modules, templates, the fonts): moved
    # out of the garbage collector's sight, as they live as long as the worker. A full
    # collection then looks only at what came after, and pauses every thread of the worker
    # ~26 ms instead of ~107 ms (measured in-process over 30 registrations: one such
    # collection each time; docs/performance.md).
    import gc

    gc.collect()
    gc.freeze()
