"""What a registration must spend, against a third of the reference commit's CPU. JSON.

    .venv/bin/python bench/cpu_floor.py [--runs 20] [--walks 8] [--repeats 3] [--today 6a83500]

Issue 11 asks for CPU per registration at most a third of today's code (6a83500), measured
with bench/load.py's walk. Part of what that walk costs is fixed before any code of ours runs,
by the project's standards or by the walk itself:

* its requests (every step, the photos and documents its screens embed), each with the
  signed cookie session and a CSRF token: every one that answers with a wizard screen counted
  as the cheapest of steps 1–6 as htmx fetches them, every other one as the welcome page;
* the clerk's password checked with argon2id at OWASP's minimum parameters (t=2, 19 MiB): the
  walk scripts every face comparison as "review", so the clerk confirms on the kiosk's screen;
* three PDFs laid out by ReportLab (contract, acceptance record, receipt) and two signed copies;
* the three camera photos and the two pad drawings checked before they are kept.

Each part is measured alone in this process (median CPU over --runs), while both codes walk
whole registrations in-process (bench/profile_walk.py, two subprocesses), so the host's drift
hits all three; the whole is repeated --repeats times for the ratio's spread. The sum of the
parts is the floor. Of the database only the cheapest screen's lookup is in it;
``least_writes`` adds the least each POST stores (one UPDATE and its commit). Everything else
a walk does is left out. Every request goes through Flask's test client (~0.1 ms a request),
in the floor as in both walks. SQLite throughout.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_documents import cpu_times, pad_drawing, sample_context, sample_receipt  # noqa: E402
from load import (  # noqa: E402
    PHOTOS,
    SIGNATURE,
    STAFF,
    Kiosk,
    Results,
    export_commit,
    machine,
)
from profile_walk import TestClientSession, make_app  # noqa: E402


def median_cpu_ms(work, runs: int) -> float:
    """Median process CPU of ``work()`` in milliseconds, after one warm-up call."""
    times, _ = cpu_times(lambda _run: work(), runs)
    return round(statistics.median(times), 2)


def start_walk(walks: int, code: Path | None) -> subprocess.Popen:
    """bench/profile_walk.py for ``code`` (None: this checkout) on a fresh SQLite instance, as
    a subprocess whose standard output is its JSON report."""
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    if code is not None:
        env["KIOSK_CODE"] = str(code)
        env["PYTHONPATH"] = str(code)  # its sitecustomize hides a package it did not depend on
    return subprocess.Popen(
        [sys.executable, str(HERE / "profile_walk.py"), "--walks", str(walks), "--top", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def finish_walk(proc: subprocess.Popen, name: str) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"profile_walk.py for {name} exited {proc.returncode}")
    return json.loads(out)


def requests_per_walk(app) -> dict:
    """The requests one whole registration of bench/load.py's walk sends: how many, how many
    answer with a wizard screen (HTML drawn from a step's template, not the welcome page, a
    redirect, a photo or a PDF), how many are POSTs."""
    sent = {"total": 0, "screens": 0, "posts": 0}

    class Counting(Kiosk):
        def send(self, label, method, path, *args, **kwargs):
            response = super().send(label, method, path, *args, **kwargs)
            sent["total"] += 1
            sent["posts"] += method == "POST"
            if response.status_code == 200 and path != "/" and response.content \
                    and "HX-Redirect" not in response.headers \
                    and response.headers.get("Content-Type", "").startswith("text/html"):
                sent["screens"] += 1
            return response

    results = Results()
    kiosk = Counting("", results, random.Random(7), None, time.monotonic() + 600)
    kiosk.http = TestClientSession(app)
    kiosk.run(1, 900)
    if results.errors or results.finished != 1:
        raise SystemExit(f"the counting walk failed: {results.samples}")
    return sent


def cheapest_request_ms(app, runs: int) -> float:
    """The welcome page for a kiosk with no registration: the cookie session, a CSRF token, a
    page."""
    client = app.test_client()

    def welcome():
        response = client.get("/")
        assert response.status_code == 200, response.status_code

    return median_cpu_ms(welcome, runs)


class _AtStep6(Exception):
    pass


def screens_ms(app, runs: int) -> tuple[dict, str]:
    """Steps 1–6 as htmx fetches them, for a registration that has reached the clerk at step 6
    (each: the lookup by token, the step's template and form, the cookie session). Median CPU
    ms per step, and the registration's token."""
    base = {}

    class ToStep6(Kiosk):
        def send(self, label, method, path, *args, **kwargs):
            response = super().send(label, method, path, *args, **kwargs)
            found = re.match(r"(/r/[^/]+)/step/", path)
            if found:
                base["path"] = found.group(1)
            if label == "6 capture face":
                raise _AtStep6
            return response

    kiosk = ToStep6("", Results(), random.Random(11), None, time.monotonic() + 600)
    kiosk.http = TestClientSession(app)
    with contextlib.suppress(_AtStep6):  # stopped before the clerk confirms
        kiosk.register(901)
    client = kiosk.http.client
    times = {}
    for step in range(1, 7):
        url = f"{base['path']}/step/{step}"
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, (url, response.status_code)
        times[step] = median_cpu_ms(lambda url=url: client.get(url, headers={"HX-Request": "true"}),
                                    runs)
    return times, base["path"].split("/")[2]


def lookup_ms(app, token: str, runs: int) -> float:
    """The registration looked up by its token (a prebuilt SELECT through the ORM, as every
    kiosk request starts), in a fresh session each time."""
    from kiosk.core.extensions import db
    from kiosk.services.registrations import by_token

    def lookup():
        assert by_token(token) is not None
        db.session.remove()  # the next lookup starts a session, as the next request does

    with app.app_context():
        return median_cpu_ms(lookup, runs)


def least_write_ms(app, token: str, runs: int) -> float:
    """The least a POST stores: the lookup, one UPDATE of the registration and its commit."""
    from kiosk.core.extensions import db
    from kiosk.core.models import utcnow
    from kiosk.services.registrations import by_token

    def write():
        by_token(token).updated_at = utcnow()
        db.session.commit()
        db.session.remove()

    with app.app_context():
        return median_cpu_ms(write, runs)


def argon2_ms(runs: int) -> float:
    from kiosk.domain.credentials import hash_secret, verify_secret

    stored = hash_secret(STAFF[1])
    return median_cpu_ms(lambda: verify_secret(stored, STAFF[1]), runs)


def documents_ms(runs: int) -> dict:
    from kiosk.documents import (
        Signature,
        render_acceptance,
        render_contract,
        render_receipt,
        sign_pdf,
    )
    from kiosk.vision.images import check_signature

    context = sample_context()
    png = pad_drawing()
    signature = Signature(png_bytes=png, signed_at=datetime(2026, 11, 29, 9, 41),
                          picture=check_signature(png))
    contract, acceptance = render_contract(context, None), render_acceptance(context, None)
    receipt = sample_receipt(context)
    parts = {
        "contract_layout": median_cpu_ms(lambda: render_contract(context, None), runs),
        "acceptance_layout": median_cpu_ms(lambda: render_acceptance(context, None), runs),
        "receipt_layout": median_cpu_ms(lambda: render_receipt(receipt), runs),
        "contract_signed_copy": median_cpu_ms(lambda: sign_pdf(contract, signature), runs),
        "acceptance_signed_copy": median_cpu_ms(lambda: sign_pdf(acceptance, signature), runs),
    }
    parts["total"] = round(sum(parts.values()), 2)
    return parts


def image_checks_ms(app, runs: int) -> dict:
    from kiosk.vision.images import bytes_from_data_url, check_signature, check_usable

    limit = app.config["MAX_IMAGE_PIXELS"]
    parts = {}
    for kind, url in PHOTOS.items():
        data = bytes_from_data_url(url)
        parts[f"photo_{kind}"] = median_cpu_ms(lambda data=data: check_usable(data, limit), runs)
    pad = bytes_from_data_url(SIGNATURE)
    parts["pad_drawings_x2"] = round(2 * median_cpu_ms(lambda: check_signature(pad), runs), 2)
    parts["total"] = round(sum(parts.values()), 2)
    return parts


def measure_floor(app, runs: int, sent: dict) -> dict:
    """Every part of the floor, measured once more, and their sums."""
    screens, token = screens_ms(app, runs)
    screen, request = min(screens.values()), cheapest_request_ms(app, runs)
    lookup, write = lookup_ms(app, token, runs), least_write_ms(app, token, runs)
    documents, images, argon2 = documents_ms(runs), image_checks_ms(app, runs), argon2_ms(runs)
    others = sent["total"] - sent["screens"]
    requests_ms = sent["screens"] * screen + others * request
    total = requests_ms + argon2 + documents["total"] + images["total"]
    return {
        "requests": {"screens_ms_by_step": screens, "cheapest_screen_ms": screen,
                     "welcome_ms": request, "ms": round(requests_ms, 2)},
        "argon2_clerk_ms": argon2,
        "documents_ms": documents,
        "image_checks_ms": images,
        "total_ms": round(total, 1),
        # each POST also stores something: at least one UPDATE and its commit beyond the lookup
        "least_writes": {"lookup_ms": lookup, "lookup_update_commit_ms": write,
                         "ms": round(sent["posts"] * max(0.0, write - lookup), 2)},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="repetitions of each part")
    ap.add_argument("--walks", type=int, default=8, help="whole registrations per code")
    ap.add_argument("--repeats", type=int, default=3,
                    help="times the walks and the parts are measured again (the ratio's spread)")
    ap.add_argument("--today", default="6a83500", help="the reference commit (6a83500)")
    args = ap.parse_args(argv)

    os.environ.pop("DATABASE_URL", None)  # SQLite, like the walks
    app, _engine = make_app()
    # No app context around the requests: Flask-WTF would keep one client's CSRF token in a
    # shared `g` and hand it to the next.
    sent = requests_per_walk(app)
    repeats = []
    with tempfile.TemporaryDirectory(prefix="kiosk-floor-") as workdir:
        today_code = export_commit(args.today, Path(workdir))
        for _ in range(args.repeats):
            # The parts are measured while both codes walk, so the host's drift hits all three.
            walkers = {"today": start_walk(args.walks, today_code),
                       "this": start_walk(args.walks, None)}
            floor = measure_floor(app, args.runs, sent)
            walks = {name: finish_walk(proc, name) for name, proc in walkers.items()}
            today = walks["today"]["cpu_ms_per_registration"]
            this = walks["this"]["cpu_ms_per_registration"]
            third = today / 3
            with_writes = floor["total_ms"] + floor["least_writes"]["ms"]
            repeats.append({
                "walk_cpu_ms_per_registration": {"today": today, "this": this},
                "this_vs_today": round(this / today, 3),
                "third_of_today_ms": round(third, 1),
                "floor": floor,
                "floor_vs_third": round(floor["total_ms"] / third, 2),
                "floor_with_least_writes_vs_third": round(with_writes / third, 2),
                "this_above_floor_with_least_writes_ms": round(this - with_writes, 1),
                "sql_statements_per_registration": round(
                    sum(walks["this"]["sql_statements_per_step"].values())),
            })

    def spread(key):
        values = [r[key] for r in repeats]
        return {"median": round(statistics.median(values), 3), "min": min(values),
                "max": max(values)}

    report = {
        "machine": machine(),
        "walk": {"requests": sent["total"], "screens": sent["screens"], "posts": sent["posts"]},
        "this_vs_today": spread("this_vs_today"),
        "floor_vs_third": spread("floor_vs_third"),
        "floor_with_least_writes_vs_third": spread("floor_with_least_writes_vs_third"),
        "not_in_floor": "writes beyond one UPDATE per POST, reads beyond the cheapest screen's, "
                        "form validation, encryption of personal data, templates beyond the "
                        "cheapest screen, the sandbox providers",
        "repeats": repeats,
    }
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
