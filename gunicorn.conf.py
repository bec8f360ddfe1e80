"""gunicorn settings for the Linux app servers behind nginx (docs/deploy.md).

Start from the repository root (gunicorn reads ./gunicorn.conf.py by itself):

    .venv/bin/gunicorn wsgi:app

Every value can be overridden from the environment (KIOSK_BIND, WEB_CONCURRENCY,
KIOSK_THREADS, KIOSK_TIMEOUT) or on the command line. A single kiosk PC (and Windows) keeps
waitress: scripts/run.sh.

Graceful reload after an upgrade: ``kill -HUP <master pid>`` (systemd: ``systemctl reload``)
starts new workers on the new code; old workers finish the requests they hold first.
"""
import os

# nginx terminates TLS in front; the app server listens on loopback (or a private address).
bind = os.environ.get("KIOSK_BIND", "127.0.0.1:8000")

# The expensive requests are CPU bound (OpenCV and dlib at step 6, ReportLab at steps 7–9)
# and hold the GIL, so one process per core uses the machine; more processes only add memory
# (~150 MB each once the face models are loaded, docs/performance.md).
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
# The app sizes its vision pool from these (services/vision_pool.py: about one vision process
# per core across all web processes): say them even when they were left to their defaults.
os.environ["WEB_CONCURRENCY"] = str(workers)

# Threads cover the waits: the database, the SMS gateway and the SmartCA backend over HTTP,
# and the kiosks' polling (the resend countdown) while a thread is busy with vision.
worker_class = "gthread"
threads = int(os.environ.get("KIOSK_THREADS", 4))
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

# Recycle workers now and then, staggered, so native libraries cannot grow memory forever.
max_requests = 2000
max_requests_jitter = 200

# Not preloaded: each worker imports the code itself, so a HUP reload picks up new code, and
# the face models load lazily in each worker on its first step-6 request.
preload_app = False

# The heartbeat file on tmpfs: a slow disk must not make gunicorn think a worker hangs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# nginx on the same host sets X-Forwarded-* (trusted from loopback only).
forwarded_allow_ips = os.environ.get("KIOSK_FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("KIOSK_LOG_LEVEL", "info")
