"""Does the time of a refused staff sign-in tell whether the username exists?

    .venv/bin/python bench/bench_staff_login.py [--rounds 30]

Times `POST /staff/login` (console) and the step-6 clerk form's credential check
(`services.staff_auth.check` with a kiosk source) with production argon2id parameters, for a
known username with a wrong password and for an unknown username, interleaved. Each attempt
comes from its own source address so the per-source throttle never answers early.

Baseline in the same run: the check as it was before the timing fix (look the user up; an unknown
name returned at once, a known one paid one argon2 verify), on the same database.
Prints JSON (medians in ms; `gap_ms` = known − unknown).
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import select

    from kiosk import create_app
    from kiosk.core.extensions import db
    from kiosk.core.models import StaffUser
    from kiosk.core.seed import seed
    from kiosk.domain.credentials import hash_secret, verify_secret
    from kiosk.services.staff_auth import check

    tmp = tempfile.mkdtemp()
    app = create_app({
        "TESTING": True, "INSTANCE_PATH": os.path.join(tmp, "instance"), "SECRET_KEY": "bench",
        "DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/kiosk.sqlite", "WTF_CSRF_ENABLED": False,
        "STAFF_MAX_FAILED_LOGINS": 10**6,
    })
    with app.app_context():
        upgrade()
        seed()
        db.session.add(StaffUser(username="nv.hoa", full_name="Bench", password_hash=hash_secret("Staff@2026")))
        db.session.commit()

    def old_check(username, password):
        user = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None or not user.active:
            return None
        return user if verify_secret(user.password_hash, password) else None

    client = app.test_client()
    results = {"console": {"known": [], "unknown": []}, "kiosk_form": {"known": [], "unknown": []},
               "baseline_before_issue_8": {"known": [], "unknown": []}}
    for i in range(args.rounds):
        for label, name in (("known", "nv.hoa"), ("unknown", f"khong.co.{i}")):
            addr = f"10.{i % 250}.{1 if label == 'known' else 2}.{i // 250 + 1}"
            t0 = time.perf_counter()
            response = client.post("/staff/login", data={"username": name, "password": "Wrong@2026"},
                                   environ_base={"REMOTE_ADDR": addr})
            results["console"][label].append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200 and re.search("không đúng", response.get_data(as_text=True))
            with app.test_request_context():
                t0 = time.perf_counter()
                user, _ = check(name, "Wrong@2026", source=f"kiosk:quay-01:{addr}")
                results["kiosk_form"][label].append((time.perf_counter() - t0) * 1000)
                assert user is None
                db.session.rollback()
                t0 = time.perf_counter()
                old_check(name, "Wrong@2026")
                results["baseline_before_issue_8"][label].append((time.perf_counter() - t0) * 1000)

    out = {"rounds": args.rounds}
    for where, series in results.items():
        known, unknown = statistics.median(series["known"]), statistics.median(series["unknown"])
        out[where] = {"known_ms": round(known, 1), "unknown_ms": round(unknown, 1),
                      "gap_ms": round(known - unknown, 1)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
