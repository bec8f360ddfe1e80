"""Where a registration's CPU goes: whole walks in-process under cProfile, per step.

    .venv/bin/python bench/profile_walk.py [--walks 10] [--top 25] > profile.json
    KIOSK_CODE=/path/to/other/checkout .venv/bin/python bench/profile_walk.py  # same walk, other code

The same walk as bench/load.py (scripted face comparison, clerk confirmation, production
argon2 parameters) through Flask's test client on a fresh SQLite instance (DATABASE_URL is
honoured for PostgreSQL). Prints JSON: CPU ms per step (mean over the walks, after two warm-up
walks), SQL statements per step, and the top functions by cumulative time, grouped into
templates (Jinja), SQL (SQLAlchemy + driver), PDFs (ReportLab), argon2 and the rest.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
# KIOSK_CODE=<another checkout> profiles that code with this walk (e.g. today's main).
sys.path[:0] = [os.environ.get("KIOSK_CODE", str(HERE.parent)), str(HERE)]

from load import KIOSK_COOKIE, STAFF, Kiosk, Results  # noqa: E402


class _Response:
    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response.headers
        self.content = response.get_data()

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class TestClientSession:
    """requests.Session's surface that Kiosk uses, over Flask's test client."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.cookies = self
        self.kept: dict[str, str] = {}

    def set(self, name, value, domain=None):
        """requests' cookies.set: the kiosk's device cookie, kept across clear()."""
        self.kept[name] = value
        self.client.set_cookie(name, value)

    def clear(self):
        self.client = self.app.test_client()
        for name, value in self.kept.items():
            self.client.set_cookie(name, value)

    def request(self, method, url, headers=None, allow_redirects=False, timeout=None, **kw):
        data, files = kw.pop("data", None), kw.pop("files", None)
        if files:  # text fields of a multipart form, as load.py's requests sends them
            boundary, body = _multipart(tuple(sorted((k, v[1]) for k, v in files.items())))
            kw["data"] = body
            kw["content_type"] = f"multipart/form-data; boundary={boundary}"
        elif data:
            # Encoded once and reused: the client's own urlencoding of the photos would
            # otherwise dominate the in-process profile of the capture steps.
            kw["data"] = _encoded(tuple(sorted(data.items())))
            kw["content_type"] = "application/x-www-form-urlencoded"
        return _Response(self.client.open(url, method=method, headers=headers or {}, **kw))


@lru_cache(maxsize=16)
def _multipart(items: tuple) -> tuple[str, bytes]:
    from werkzeug.test import encode_multipart

    return encode_multipart(dict(items))


@lru_cache(maxsize=256)
def _encoded(items: tuple) -> bytes:
    from urllib.parse import urlencode

    return urlencode(items).encode()


def make_app():
    """The kiosk as load.py serves it (scripted eKYC), on a fresh instance, migrated and seeded
    with the bench clerk: (app, engine). DATABASE_URL, when set, is used instead of SQLite."""
    instance = tempfile.mkdtemp(prefix="kiosk-profile-")
    os.environ["KIOSK_INSTANCE_PATH"] = instance
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{instance}/kiosk.sqlite")
    from flask_migrate import upgrade
    from load_app import create

    from kiosk.core.extensions import db
    from kiosk.core.models import StaffUser
    from kiosk.core.seed import seed
    from kiosk.domain.credentials import hash_secret

    app = create()
    with app.app_context():
        upgrade()
        seed()
        clerk = StaffUser(username=STAFF[0], full_name="Nhân viên thử",
                          password_hash=hash_secret(STAFF[1]))
        if hasattr(StaffUser, "office_id"):  # a clerk belongs to an office (the kiosk's)
            from kiosk.services import kiosk_devices

            clerk.office_id = kiosk_devices.by_code("quay-01").office_id
        db.session.add(clerk)
        _enroll_the_seeded_kiosk()
        db.session.commit()
        return app, db.engine


def _enroll_the_seeded_kiosk() -> None:
    """Only an enrolled kiosk walks: the seeded kiosk gets a device token, which every walk's
    client carries (as load.py's kiosks carry the one they redeemed). Older code has none."""
    import secrets

    try:
        from kiosk.services import kiosk_devices
    except ImportError:
        return
    token = secrets.token_urlsafe(32)
    kiosk_devices.bind_device(kiosk_devices.by_code("quay-01"), token)
    Kiosk.device_token = token


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--walks", type=int, default=10)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--step", help="profile only the requests of this step (e.g. '7 contract'; 'all': every step)")
    ap.add_argument("--show-sql", action="store_true",
                    help="with --step: list the SQL statements that step sends in one walk")
    args = ap.parse_args(argv)

    app, engine = make_app()
    from sqlalchemy import event

    statements = [0]
    shown: list[str] = []  # --show-sql: the statements of --step in the first measured walk
    current = [None]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args):
        statements[0] += 1
        if args.show_sql and current[0] is not None and args.step in (current[0], "all") \
                and len(shown) < 400:
            shown.append(f"{current[0]}: " + " ".join(statement.split())[:140])

    cpu = defaultdict(float)
    sql = defaultdict(int)
    results = Results()

    class Measured(Kiosk):
        def send(self, label, method, path, *a, **kw):
            c0, s0 = time.process_time(), statements[0]
            current[0] = label if self.measure else None
            only = self.profiler is not None and args.step in (label, "all")
            if only:
                self.profiler.enable()
            try:
                return super().send(label, method, path, *a, **kw)
            finally:
                if only:
                    self.profiler.disable()
                if self.measure:
                    cpu[label] += time.process_time() - c0
                    sql[label] += statements[0] - s0

    kiosk = Measured("", results, random.Random(1), None, time.monotonic() + 3600)
    kiosk.http = TestClientSession(app)
    if Kiosk.device_token:
        kiosk.http.cookies.set(KIOSK_COOKIE, Kiosk.device_token)
    kiosk.measure = False
    kiosk.profiler = None
    kiosk.run(2, 0)  # warm-up: templates compiled, fonts registered, caches filled
    # As a gunicorn worker does once the app is loaded (post_worker_init in gunicorn.conf.py):
    # without it a full collection over the imported modules lands in whichever step
    # allocates at that moment, and that step looks several times its cost.
    gc.collect()
    gc.freeze()
    kiosk.measure = True
    kiosk.run(args.walks, 100)  # CPU and SQL per step, without the profiler's overhead
    kiosk.measure = False
    profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
    if args.step:
        kiosk.profiler = profiler
        kiosk.run(args.walks, 200)
    else:
        profiler.enable()
        kiosk.run(args.walks, 200)
        profiler.disable()
    if results.errors:
        print(json.dumps({"errors": results.samples}), file=sys.stderr)
        return 1

    stats = pstats.Stats(profiler)
    groups = {"templates (jinja2)": "jinja2", "SQL (sqlalchemy)": "sqlalchemy",
              "PDF (reportlab)": "reportlab", "argon2": "argon2", "WTForms": "wtforms",
              "werkzeug": "werkzeug", "images (PIL, OpenCV)": "PIL", "crypto": "cryptography"}
    own = defaultdict(float)  # tottime by group: no double counting
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = filename + name  # C functions have "~" as file and their name in `name`
        group = next((g for g, key in groups.items() if key in where), None)
        if group is None and ("cv2" in where or "imdecode" in where or "imencode" in where):
            group = "images (PIL, OpenCV)"
        if group is None and ("argon2" in where or "_ffi" in where):
            group = "argon2"
        if group is None:
            group = "kiosk code" if "/kiosk/" in filename else "other (stdlib, C calls)"
        own[group] += tottime
    total = sum(own.values())
    by_own = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:15]
    top_own = [f"{tottime / total * 100:5.1f} %  {name}  ({Path(filename).name}:{line})"
               for (filename, line, name), (_cc, _nc, tottime, _ct, _callers) in by_own]
    out = io.StringIO()
    stats.stream = out
    stats.sort_stats("cumulative").print_stats(args.top)
    report = {
        "walks": args.walks,
        "database": os.environ["DATABASE_URL"].split(":")[0],
        "cpu_ms_per_registration": round(sum(cpu.values()) / args.walks * 1000, 1),
        "cpu_ms_per_step": {k: round(v / args.walks * 1000, 1) for k, v in sorted(cpu.items())},
        "sql_statements_per_step": {k: round(v / args.walks, 1) for k, v in sorted(sql.items())},
        "profile_share_by_library_pct": {k: round(v / total * 100, 1) for k, v in
                                         sorted(own.items(), key=lambda kv: -kv[1])},
        "top_own_time": top_own,
        "top_cumulative": out.getvalue().splitlines()[-args.top - 2:],
    }
    if args.show_sql:
        per_walk = sum(sql.values()) if args.step == "all" else sql.get(args.step, 0)
        report["sql_of_step"] = shown[: int(per_walk / args.walks) or None]
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
