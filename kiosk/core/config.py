"""Default configuration and the instance-folder secrets generated on first run."""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

DEFAULTS = {
    # Wizard behaviour
    "IDLE_TIMEOUT_SECONDS": 120,
    "IDLE_WARNING_SECONDS": 20,
    "DONE_RETURN_SECONDS": 90,
    # How often a step page asks whether the console changed its registration (a cancel)
    "KIOSK_STATUS_POLL_SECONDS": 5,
    "MIN_CUSTOMER_AGE": 18,
    # Activation code (OTP) rules of step 5
    "OTP_TTL_SECONDS": 300,
    "OTP_MAX_ATTEMPTS": 5,
    "OTP_RESEND_COOLDOWN_SECONDS": 60,
    "OTP_MAX_RESENDS": 3,
    # Staff confirmation on the kiosk (step 6) and staff logins
    # Failures are counted per source (console client, kiosk form), never per clerk account.
    "STAFF_MAX_FAILED_LOGINS": 5,
    "STAFF_LOCK_SECONDS": 900,
    "STAFF_THROTTLE_WINDOW_SECONDS": 900,
    # Staff console sessions: idle timeout and absolute lifetime (one shift)
    "STAFF_IDLE_TIMEOUT_SECONDS": 15 * 60,
    "STAFF_SESSION_MAX_SECONDS": 9 * 3600,
    # A resume code a clerk hands to a kiosk is good this long
    "RESUME_CODE_TTL_SECONDS": 600,
    # Reports: an unfinished registration with no activity for this long counts as abandoned
    "ABANDONED_AFTER_SECONDS": 30 * 60,
    # Uploads: a 4K JPEG is < 8 MB; anything bigger is not a camera frame
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 40_000_000,
    # Face identity (docs/vision-faces.md): "sface" = OpenCV Zoo's YuNet + SFace (default),
    # "dlib" = dlib's ResNet encoder (fallback). The shadow model ("dlib"/"sface"/None) is
    # only measured during a roll-out: its distance goes into the audit trail, never decides.
    "FACE_MODEL": "sface",
    "FACE_SHADOW_MODEL": None,
    "FACE_MODELS_DIR": None,  # YuNet/SFace .onnx files; None = <repo>/models (scripts/setup.sh)
    # Decision thresholds *per model* (their distances are on different scales, so a switch of
    # FACE_MODEL can never use the other model's numbers): <= accept → match; <= reject →
    # clerk review; above → no match. Calibrated by bench/calibrate_faces.py.
    "FACE_ACCEPT_DISTANCE": {"sface": 0.58, "dlib": 0.42},
    "FACE_REJECT_DISTANCE": {"sface": 0.75, "dlib": 0.59},
    "FACE_MAX_ATTEMPTS": 3,  # automatic no_match retries before a clerk decides
    "LIVENESS_MIRRORED": False,
    # Photo analysis runs in a pool of worker processes (services/vision_pool.py, docs/deploy.md):
    # "auto" = one vision process per core across the server; 0 = in the request thread.
    # VISION_QUEUE: jobs waiting or running per web process before «Máy đang bận» ("auto" =
    # half the request threads, at least one); a job past the timeout is given up.
    "VISION_WORKERS": "auto",
    "VISION_QUEUE": "auto",
    "VISION_TIMEOUT_SECONDS": 60,
    "VISION_NICE": 10,  # the vision processes' lower CPU priority: web requests win the CPU
    "VISION_THREADS": 1,  # OpenCV's threads per vision process (the processes run in parallel)
    "VISION_ENGINE_FACTORY": None,  # "module:callable"(config) → engine; None = EkycEngine  # frames are sent unmirrored (camera.js never flips the image)
    # Providers: "sandbox" is the embedded default; "http" talks to a real service
    "SMARTCA_BACKEND": "sandbox",
    "SMARTCA_BACKEND_URL": None,
    "SMARTCA_BACKEND_TOKEN": None,
    "SMS_PROVIDER": "sandbox",
    "SMS_GATEWAY_URL": None,
    "SMS_GATEWAY_TOKEN": None,
    "PRINTER": "browser",  # browser | cups | file
    "PRINTER_QUEUE": None,
    # In the sandbox nobody receives the SMS: show it on the kiosk, clearly labelled.
    "SANDBOX_SHOW_SMS": True,
    # Chip reading over a PC/SC contactless reader (docs/chip.md). Off: the camera path only.
    "CHIP_READER": False,
    "CHIP_READER_NAME": None,  # part of the reader's name; None = the first reader
    "CHIP_CSCA_DIR": None,  # folder of CSCA certificates; None = instance/csca
    # Session cookie: the kiosk browser keeps only the opaque registration token in it
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session; idle timeout ends it
    # hide_parameters: a database error's message (logged with its traceback) names the SQL,
    # never the values bound to it: those are personal data and secrets' digests.
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
    # Behind a reverse proxy: how many proxies to believe for X-Forwarded-* (0 = none). With
    # HTTPS at the proxy, cookies become Secure and HSTS is sent (web/security.py).
    "TRUSTED_PROXIES": 0,
    "ALLOWED_ORIGINS": (),  # other origins allowed to POST (e.g. "https://kiosk.vnpt.vn")
    # The office's seal on the signed contract and acceptance record (docs/signing.md): a
    # PKCS#12 file, or a PKCS#11 token; neither = the sandbox certificate in instance/signing/.
    # Passwords and PINs belong in instance/secrets.py or the environment (KIOSK_…).
    "OFFICE_SIGNING_P12": None,
    "OFFICE_SIGNING_P12_PASSWORD": None,
    "OFFICE_SIGNING_PKCS11_LIB": None,  # path of the token's PKCS#11 module (.so)
    "OFFICE_SIGNING_PKCS11_TOKEN": None,  # the token's label
    "OFFICE_SIGNING_PKCS11_KEY": None,  # the private key's label
    "OFFICE_SIGNING_PKCS11_CERT": None,  # the certificate's label; None = the key's
    "OFFICE_SIGNING_PKCS11_PIN": None,
    # CA certificate(s) of the office's real certificate, PEM paths (list, or joined by ':'):
    # required with a real certificate, the trust roots of «Kiểm tra chữ ký».
    "OFFICE_SIGNING_TRUST_ROOTS": None,
    # RFC 3161 timestamp server: set, the seal is PAdES B-T; unset, B-B.
    "TSA_URL": None,
    # Monitoring (docs/operations.md, «Theo dõi / Monitoring»). METRICS_TOKEN: the bearer token
    # Prometheus sends to /metrics (put it in instance/secrets.py or KIOSK_METRICS_TOKEN); unset,
    # only a signed-in administrator reads /metrics.
    "METRICS_TOKEN": None,
    # An enrolled kiosk not heard from for this long counts as silent (kiosk_kiosks_silent).
    "KIOSK_SILENT_AFTER_SECONDS": 300,
    # Logs: "json" (one object a line) or "text"; unset = text under the debug server, JSON
    # otherwise (kiosk/core/logs.py). LOG_LEVEL applies to the app's own loggers.
    "LOG_FORMAT": None,
    "LOG_LEVEL": "INFO",
    # Retention (docs/security.md): card/face/signature images are deleted this many days
    # after the registration ended; the audit trail, document hashes and decision stay.
    "RETENTION_DAYS": 90,
}


def database_uri(instance_path: str) -> str:
    """DATABASE_URL wins (PostgreSQL for a province-wide deployment); else SQLite in instance/."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the dialect "postgres"; SQLAlchemy 2 wants "postgresql".
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        return url
    return "sqlite:///" + os.path.join(instance_path, "kiosk.sqlite")


def ensure_instance_secrets(instance_path: str) -> Path:
    """Create instance/secrets.py with SECRET_KEY and DATA_KEY once; never overwrite it.

    The data key encrypts personal data and biometrics: losing it loses that data,
    so it is generated once and kept next to the database (see docs/operations.md).
    """
    path = Path(instance_path) / "secrets.py"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    secret_key = secrets.token_urlsafe(48)
    data_key = base64.b64encode(secrets.token_bytes(32)).decode()
    content = (
        "# Generated on first run. Keep this file private and backed up with the database.\n"
        f"SECRET_KEY = {secret_key!r}\n"
        f"DATA_KEY = {data_key!r}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    return path


# ---- The data-key ring (docs/operations.md, «Xoay khóa dữ liệu») ----------------------------
# instance/secrets.py names the keys: DATA_KEY (the primary: every new ciphertext), and the keys
# still read but never written — DATA_KEYS_RETIRING (earlier primaries, until `rotate-key
# --retire` finds no row under them) and DATA_KEY_NEXT (made by `rotate-key --prepare`, copied
# to every app server before it becomes the primary).
KEY_NAMES = ("DATA_KEY", "DATA_KEYS_RETIRING", "DATA_KEY_NEXT", "DATA_KEY_ROTATED_AT")


def read_secrets(path: Path) -> dict:
    """The literal assignments of a secrets file, without running it (it is read again while
    the app runs, whenever it changes)."""
    import ast

    found: dict = {}
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return found
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


def ring_keys(values: dict) -> tuple[str, list[str]] | None:
    """(primary, keys only read) from a secrets file's values, or None without a DATA_KEY."""
    primary = values.get("DATA_KEY")
    if not isinstance(primary, str) or not primary:
        return None
    others = [k for k in values.get("DATA_KEYS_RETIRING") or () if isinstance(k, str)]
    if isinstance(values.get("DATA_KEY_NEXT"), str):
        others.append(values["DATA_KEY_NEXT"])
    return primary, others


class SecretsFileKeys:
    """A key ring's source: instance/secrets.py, read again when its mtime, size or inode
    change (rotate-key replaces the file: a new inode even within one mtime tick)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def stamp(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def load(self) -> tuple[str, list[str]] | None:
        return ring_keys(read_secrets(self.path))


def key_ring(config, instance_path: str):
    """The app's data-key ring. DATA_KEY from the environment (KIOSK_DATA_KEY) is final: no file
    is watched. Otherwise instance/secrets.py is watched whether or not the app was started from
    it, so an app built from a test config follows a rotation written there too."""
    from kiosk.core.crypto import KeyRing

    if os.environ.get("KIOSK_DATA_KEY"):
        return KeyRing(config["DATA_KEY"])
    source = SecretsFileKeys(Path(instance_path) / "secrets.py")
    values = read_secrets(source.path)
    others = (ring_keys(values) or ("", []))[1]
    if values.get("DATA_KEY") and values["DATA_KEY"] != config["DATA_KEY"]:
        others.append(values["DATA_KEY"])
    return KeyRing(config["DATA_KEY"], others, source)
