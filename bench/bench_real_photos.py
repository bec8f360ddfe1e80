"""The card reader on real photographs of ID cards, against two plain QR readers, same run. JSON.

    .venv/bin/python bench/bench_real_photos.py DIR [--manifest bench/real_photos/manifest.json]
        [--limit N] [--only KIND] [--pairs 10] [--failures] [--out FILE] [--timeout 120]

DIR holds the photographs named by the manifest (``images[].file``); they are real people's
cards: they stay outside the repository, and nothing here prints an ID number or a name — only
counts, and (``--failures``) file names. A manifest entry whose file is absent is counted as
``missing`` and skipped.

The kiosk is run as outside checks run it, through the stable command-line contract
(docs/cli.md): ``flask --app kiosk vision read-card --jsonl`` with one
``{"images": [PATH]}`` request per photo, and ``flask --app kiosk vision verify --jsonl`` with
``{"card": A, "face": B}`` pairs, each a subprocess started once (models loaded once; one
warm-up read-card request is sent first and not counted). Truth is the manifest: ``kind``,
``side``, ``portrait_visible``, ``qr_visible``, ``card_width_px`` and ``id_sha256`` (sha256 of
the ID digits; a result's ``id_number`` is right when its sha256 equals it).

Measured, per manifest kind and side (``by_kind_side``) and in summary blocks:

* ``fronts_2021``: on all 2021 chip-CCCD fronts and on the *readable* ones (QR visible and the
  card ≥ 500 px wide): right ID, right ID from the QR (the result's ``field_sources``/``sources``
  when it has them, else ``quality.qr_valid``), right ID from elsewhere (OCR), wrong ID (an
  ``id_number`` whose hash differs) — and the same for the two anchors, each on the whole image
  as decoded (``cv2.imdecode``, as the kiosk decodes it), in-process: (a) raw zxing-cpp
  ``read_barcodes(gray, formats=QRCode)``, (b) OpenCV's WeChat QR reader
  (``kiosk.vision.qr_decode.wechat_reader()``, ``detectAndDecode(image)``), and their union;
  the ID is field 0 of the ``|``-separated payload (its digits are ASCII even when the rest is
  mojibake).
* ``portraits``: portrait found on the photos where one is visible (and found where none is).
* ``fronts_reported_as_backs`` (result ``sides == ["back"]``), 2021 fronts reported as 2024.
* ``kind_confusion``: manifest kind → reported ``card_kind`` (null printed as "null").
* ``backs_zone``: 2021 and 2024 backs: zone found / valid / gives the right number (any 12- or
  9-digit run in the ``mrz`` fields whose hash is ``id_sha256``) / a wrong personal number.
* ``refusals``: error objects (``bad_image`` …) counted by code and message.
* ``verify_pairs``: for each ``card_group`` with ≥ 2 photos showing a portrait, ordered pairs
  (photo A as CARD_IMAGE, photo B as FACE_IMAGE: B's face is the printed portrait), at most one
  per ordered pair and ``--pairs`` in all (groups taken in turn): the decisions.
* ``timing``: median and p90 ``elapsed_ms`` of read-card, and of each anchor's decode call (and
  of the image decode the anchors share), per image, same run.

``--limit N`` keeps the first N manifest entries (after ``--only KIND``); ``--failures`` adds
``failures`` (file names) — readable 2021 fronts without the right ID, fronts reported as
backs, portraits not found. A compact summary goes to stderr. Exit status 0 unless the usage
is wrong (no DIR, no manifest).
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_MANIFEST = ROOT / "bench" / "real_photos" / "manifest.json"
KINDS = ("cccd_chip_2021", "can_cuoc_2024", "cccd_barcode_2016", "cmnd", "other")
READABLE_MIN_CARD_PX = 500
K2021 = "cccd_chip_2021"
K2024 = "can_cuoc_2024"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("ascii", "ignore")).hexdigest()


def digits(text) -> str:
    return re.sub(r"\D", "", text) if isinstance(text, str) else ""


def median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def p90(values) -> float | None:
    values = sorted(v for v in values if v is not None)
    return round(values[min(len(values) - 1, int(0.9 * len(values)))], 1) if values else None


# ------------------------------------------------------------------------- the CLI, as a process


class JsonlWorker:
    """One ``flask --app kiosk vision CMD --jsonl`` process: a request line in, a result line out.

    A line that does not come within ``timeout`` seconds (or a process that dies) gives an
    error object for that request; the process is then started afresh for the next one."""

    def __init__(self, command: str, timeout: float):
        flask = ROOT / ".venv" / "bin" / "flask"
        base = [str(flask)] if flask.exists() else [sys.executable, "-m", "flask"]
        self.argv = [*base, "--app", "kiosk", "vision", command, "--jsonl"]
        self.timeout = timeout
        self.proc = None
        self.restarts = 0
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the worker)

    def _start(self):
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     encoding="utf-8", bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()

    @staticmethod
    def _pump(proc, lines):
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def request(self, payload: dict) -> tuple[dict, float]:
        """(result or error object, round-trip seconds)."""
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.restarts += 1
            self._start()
        started = time.perf_counter()
        try:
            self.proc.stdin.write(json.dumps(payload, ensure_ascii=False) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._stop()
            return {"error": "process_died", "message": "the CLI process exited"}, 0.0
        deadline = started + self.timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.perf_counter()))
            except queue.Empty:
                self._stop()
                return {"error": "timeout", "message": f"no answer in {self.timeout:.0f} s"}, \
                    time.perf_counter() - started
            if line is None:
                self._stop()
                return {"error": "process_died", "message": "the CLI process exited"}, \
                    time.perf_counter() - started
            try:
                result = json.loads(line)
            except ValueError:
                continue  # not a result line
            if isinstance(result, dict):
                return result, time.perf_counter() - started

    def _stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._stop()

    def release(self):
        self.log.close()

    def stderr_tail(self, chars: int = 600) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-chars:]


# ------------------------------------------------------------------------------ judging results


def id_source(result: dict) -> tuple[str, str]:
    """(where the result's id_number came from: "qr" | "ocr" | other name | "unknown",
    what said so: "field_sources" | "sources" | "quality.qr_valid")."""
    for key in ("field_sources", "sources"):
        sources = result.get(key)
        if isinstance(sources, dict) and "id_number" in sources:
            value = sources["id_number"]
            if isinstance(value, dict):
                value = value.get("source") or value.get("from")
            if isinstance(value, list | tuple):
                value = "+".join(str(v) for v in value)
            return (str(value).lower() if value else "unknown"), key
    quality = result.get("quality") or {}
    if quality.get("qr_valid"):
        return "qr", "quality.qr_valid"
    images = quality.get("images") or []
    if any(isinstance(q, dict) and q.get("qr_valid") for q in images):
        return "qr", "quality.qr_valid"
    return "ocr", "quality.qr_valid"  # an ID without a valid QR came from elsewhere


def id_status(number, truth: str | None) -> str:
    """"right" | "wrong" | "none" (no ID given) | "unjudged" (ID given, the manifest has none)."""
    number = digits(number)
    if not number:
        return "none"
    if not truth:
        return "unjudged"
    return "right" if sha(number) == truth else "wrong"


def zone_candidates(mrz: dict) -> set[str]:
    """Every 12- or 9-digit number in the zone's fields (and 12-digit windows of longer runs)."""
    out = set()
    for value in mrz.values():
        if not isinstance(value, str):
            continue
        for run in re.findall(r"\d+", value):
            if len(run) in (9, 12):
                out.add(run)
            elif len(run) > 12:
                out.update(run[i:i + 12] for i in range(len(run) - 11))
    return out


def zone_status(mrz: dict, truth: str | None) -> str:
    """"right" | "wrong" (a personal number that is not the holder's) | "unjudged" | "none"."""
    if not mrz or not mrz.get("found"):
        return "none"
    candidates = zone_candidates(mrz)
    if not candidates:
        return "none"
    if not truth:
        return "unjudged"
    if any(sha(c) == truth for c in candidates):
        return "right"
    return "wrong" if digits(mrz.get("personal_number")) else "unjudged"


def payload_status(texts: list[str], truth: str | None) -> str:
    """An anchor's decoded QR texts: "right" | "wrong" | "other" (no ID-like field 0, or no
    truth to judge by) | "none" (nothing decoded)."""
    if not texts:
        return "none"
    candidates = []
    for text in texts:
        first = digits(text.split("|")[0])
        if len(first) in (9, 12):
            candidates.append(first)
        else:
            candidates += re.findall(r"(?<!\d)\d{12}(?!\d)", text)
    if not candidates or not truth:
        return "other"
    return "right" if any(sha(c) == truth for c in candidates) else "wrong"


# ------------------------------------------------------------------------------------- anchors


class Anchors:
    """zxing-cpp and the WeChat reader on whole images, in this process."""

    def __init__(self):
        import cv2
        import numpy as np

        self.cv2, self.np = cv2, np
        try:
            import zxingcpp

            self.zxing = zxingcpp
        except ImportError as err:
            self.zxing, self.zxing_error = None, str(err)
        try:
            from kiosk.vision.qr_decode import wechat_reader

            self.wechat = wechat_reader()
        except Exception as err:  # WeChatUnavailable, or no opencv-contrib
            self.wechat, self.wechat_error = None, f"{type(err).__name__}: {err}"

    def unavailable(self) -> dict:
        out = {}
        if self.zxing is None:
            out["zxing"] = self.zxing_error
        if self.wechat is None:
            out["wechat"] = self.wechat_error
        return out

    def run(self, path: Path, truth: str | None) -> dict:
        cv2, np = self.cv2, self.np
        t0 = time.perf_counter()
        try:
            image = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)
        except Exception:
            image = None
        load_ms = (time.perf_counter() - t0) * 1000
        if image is None:
            return {"load_ms": load_ms, "undecodable": True}
        out = {"load_ms": load_ms}
        if self.zxing is not None:
            t0 = time.perf_counter()
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
            found = self.zxing.read_barcodes(gray, formats=self.zxing.BarcodeFormat.QRCode)
            texts = []
            for res in found:
                raw = bytes(res.bytes) if getattr(res, "bytes", None) is not None else b""
                texts.append(raw.decode("utf-8", "replace") if raw else (res.text or ""))
            out["zxing"] = {"status": payload_status([t for t in texts if t], truth),
                            "ms": (time.perf_counter() - t0) * 1000}
        if self.wechat is not None:
            t0 = time.perf_counter()
            try:
                texts, _points = self.wechat.detectAndDecode(image)
            except cv2.error:
                texts = ()
            out["wechat"] = {"status": payload_status([t for t in texts if t], truth),
                             "ms": (time.perf_counter() - t0) * 1000}
        return out


# ------------------------------------------------------------------------------------ the tally


def load_manifest(path: Path) -> dict:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict) or not isinstance(manifest.get("images"), list):
        raise ValueError('no "images" list')
    return manifest


def readable(entry: dict) -> bool:
    return bool(entry.get("qr_visible")) and (entry.get("card_width_px") or 0) >= READABLE_MIN_CARD_PX


def read_all(rows: list[dict], timeout: float) -> dict:
    """Each present row gets ``result`` and ``round_trip_ms`` from one read-card process."""
    worker = JsonlWorker("read-card", timeout)
    present = [r for r in rows if r["present"]]
    info = {"warm_up": None}
    try:
        if present:
            warm, seconds = worker.request({"images": [str(present[0]["path"])]})
            info["warm_up"] = {"ms": round(seconds * 1000, 1), "error": warm.get("error")}
        for i, row in enumerate(present, 1):
            row["result"], seconds = worker.request({"images": [str(row["path"])]})
            row["round_trip_ms"] = seconds * 1000
            if i % 10 == 0 or i == len(present):
                print(f"  read-card {i}/{len(present)}", file=sys.stderr, flush=True)
    finally:
        worker.close()
    info["process_restarts"] = worker.restarts
    if any(r.get("result", {}).get("error") in ("internal", "process_died", "timeout",
                                                "models_unavailable") for r in present):
        info["cli_stderr_tail"] = worker.stderr_tail()
    worker.release()
    return info


def verify_pairs(rows: list[dict], limit: int, timeout: float) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        e = row["entry"]
        if row["present"] and e.get("card_group") and e.get("portrait_visible") \
                and e.get("side", "front") == "front":
            groups[e["card_group"]].append(row)
    per_group = [list(itertools.permutations(members, 2))
                 for _, members in sorted(groups.items()) if len(members) >= 2]
    pairs = []
    for turn in itertools.zip_longest(*per_group):  # one pair from each group in turn
        pairs += [p for p in turn if p is not None]
    pairs = pairs[:limit]
    out = {"groups_with_2_or_more": len(per_group), "pairs": len(pairs),
           "decisions": Counter(), "errors": Counter(), "distances": [], "ms": [],
           "cases": []}
    if not pairs:
        return out
    worker = JsonlWorker("verify", timeout)
    try:
        for a, b in pairs:
            result, _ = worker.request({"card": str(a["path"]), "face": str(b["path"])})
            if "error" in result:
                out["errors"][result["error"]] += 1
                decision = "error:" + str(result["error"])
            else:
                decision = str(result.get("decision"))
                out["decisions"][decision] += 1
                out["distances"].append(result.get("distance"))
                out["ms"].append(result.get("elapsed_ms"))
            out["cases"].append((a["entry"]["file"], b["entry"]["file"], decision))
    finally:
        worker.close()
        worker.release()
    return out


def tally(rows: list[dict]) -> dict:
    by_ks: dict[str, Counter] = defaultdict(Counter)
    ms: dict[str, list] = defaultdict(list)
    for row in rows:
        e = row["entry"]
        key = f"{e.get('kind')}/{e.get('side')}"
        c = by_ks[key]
        c["n"] += 1
        if not row["present"]:
            c["missing"] += 1
            continue
        res = row.get("result") or {}
        if "error" in res:
            c["refused"] += 1
            continue
        c["read"] += 1
        c["card_found"] += bool(res.get("card_found"))
        c["reported_sides:" + ("+".join(map(str, res.get("sides") or [])) or "none")] += 1
        c["reported_kind:" + str(res.get("card_kind") or "null")] += 1
        if e.get("portrait_visible"):
            c["portrait_visible"] += 1
            c["portrait_found_when_visible"] += bool(res.get("portrait_found"))
        else:
            c["portrait_found_when_not_visible"] += bool(res.get("portrait_found"))
        if e.get("id_sha256"):
            c["id_known"] += 1
        c["id_" + row["id"]] += 1
        if row["id"] == "right":
            c["id_right_from_" + row["id_source"]] += 1
        mrz = res.get("mrz") or {}
        c["mrz_found"] += bool(mrz.get("found"))
        c["mrz_valid"] += bool(mrz.get("valid"))
        if row["zone"] in ("right", "wrong"):
            c["zone_number_" + row["zone"]] += 1
            c[f"zone_number_{row['zone']}_valid"] += bool(mrz.get("valid"))
        ms[key].append(res.get("elapsed_ms"))
    table = {}
    for key in sorted(by_ks):
        c = by_ks[key]
        plain = {k: v for k, v in c.items() if ":" not in k}
        table[key] = {
            **plain,
            "reported_sides": {k.split(":", 1)[1]: v for k, v in sorted(c.items())
                               if k.startswith("reported_sides:")},
            "reported_kind": {k.split(":", 1)[1]: v for k, v in sorted(c.items())
                              if k.startswith("reported_kind:")},
            "median_ms": median(ms[key]),
        }
    return table


def front_block(rows: list[dict], anchors_on: list[str]) -> dict:
    """Right/wrong IDs of the kiosk and the anchors on these rows (present, not refused by
    the anchors' own decode: refusals by the kiosk count as no ID for it)."""
    rows = [r for r in rows if r["present"]]
    out = {"n": len(rows), "id_known": sum(bool(r["entry"].get("id_sha256")) for r in rows)}
    kiosk = Counter()
    for r in rows:
        quality = (r.get("result") or {}).get("quality") or {}
        kiosk["qr_found"] += bool(quality.get("qr_found"))
        kiosk["qr_valid"] += bool(quality.get("qr_valid"))
        kiosk[r["id"]] += 1
        if r["id"] == "right":
            kiosk["right_from_" + r["id_source"]] += 1
        if "error" in (r.get("result") or {}):
            kiosk["refused"] += 1
    out["kiosk"] = {"right": kiosk["right"], "right_from_qr": kiosk["right_from_qr"],
                    "right_from_other": kiosk["right"] - kiosk["right_from_qr"],
                    "wrong": kiosk["wrong"], "no_id": kiosk["none"],
                    "unjudged": kiosk["unjudged"], "refused": kiosk["refused"],
                    "qr_found": kiosk["qr_found"], "qr_valid": kiosk["qr_valid"]}
    for name in anchors_on:
        st = Counter(r["anchors"].get(name, {}).get("status", "none") for r in rows)
        out[name] = {"right": st["right"], "wrong": st["wrong"], "other_text": st["other"],
                     "nothing": st["none"]}
    if len(anchors_on) == 2:
        either = [any(r["anchors"].get(n, {}).get("status") == "right" for n in anchors_on)
                  for r in rows]
        wrong = [any(r["anchors"].get(n, {}).get("status") == "wrong" for n in anchors_on)
                 for r in rows]
        out["either_anchor"] = {"right": sum(either), "wrong": sum(wrong)}
        out["kiosk_right_anchors_not"] = sum(r["id"] == "right" and not e
                                             for r, e in zip(rows, either, strict=True))
        out["anchor_right_kiosk_not"] = sum(r["id"] != "right" and e
                                            for r, e in zip(rows, either, strict=True))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", metavar="DIR", help="folder holding the manifest's images")
    parser.add_argument("--manifest", default=str(DEFAULT_MANIFEST))
    parser.add_argument("--limit", type=int, default=0, help="first N entries only")
    parser.add_argument("--only", metavar="KIND", help="one manifest kind: " + ", ".join(KINDS))
    parser.add_argument("--pairs", type=int, default=10, help="verify pairs at most (0: none)")
    parser.add_argument("--no-anchors", action="store_true", help="skip zxing/WeChat anchors")
    parser.add_argument("--failures", action="store_true", help="list failing file names")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per request")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args(argv)

    folder = Path(args.dir)
    if not folder.is_dir():
        parser.error(f"{folder} is not a folder")
    try:
        manifest = load_manifest(Path(args.manifest))
    except (OSError, ValueError) as err:
        parser.error(f"manifest {args.manifest}: {err}")
    entries = [e for e in manifest["images"] if isinstance(e, dict) and e.get("file")]
    if args.only:
        known = set(KINDS) | {e.get("kind") for e in entries}
        if args.only not in known:
            parser.error(f"--only {args.only}: not a kind ({', '.join(sorted(map(str, known)))})")
        entries = [e for e in entries if e.get("kind") == args.only]
    if args.limit:
        entries = entries[:args.limit]

    started = time.perf_counter()
    rows = []
    sha_mismatch = 0
    for e in entries:
        path = (folder / e["file"]).resolve()
        row = {"entry": e, "path": path, "present": path.is_file(), "anchors": {}}
        if row["present"] and e.get("sha256"):
            sha_mismatch += hashlib.sha256(path.read_bytes()).hexdigest() != e["sha256"]
        rows.append(row)
    missing = [r["entry"]["file"] for r in rows if not r["present"]]
    print(f"bench_real_photos: {len(rows)} entries, {len(missing)} missing", file=sys.stderr)

    cli_info = read_all(rows, args.timeout)

    anchors = None if args.no_anchors else Anchors()
    anchors_on = [] if anchors is None else [n for n in ("zxing", "wechat")
                                             if n not in anchors.unavailable()]
    for i, row in enumerate(rows, 1):
        e = row["entry"]
        res = row.get("result") or {}
        truth = str(e.get("id_sha256") or "").strip().lower() or None
        row["id"] = id_status(res.get("id_number"), truth) if "error" not in res else "none"
        row["id_source"], row["id_source_basis"] = id_source(res) if row["id"] != "none" \
            else ("none", None)
        row["zone"] = zone_status(res.get("mrz") or {}, truth) if "error" not in res else "none"
        if anchors is not None and row["present"] and anchors_on:
            row["anchors"] = anchors.run(row["path"], truth)
        if anchors is not None and (i % 25 == 0 or i == len(rows)):
            print(f"  anchors {i}/{len(rows)}", file=sys.stderr, flush=True)

    present = [r for r in rows if r["present"]]
    read_ok = [r for r in present if "error" not in (r.get("result") or {})]
    f2021 = [r for r in rows if r["entry"].get("kind") == K2021
             and r["entry"].get("side") == "front"]
    f2021_readable = [r for r in f2021 if readable(r["entry"])]

    # portraits
    def portrait_counts(sub):
        vis = [r for r in sub if r["entry"].get("portrait_visible")]
        return {"visible": len(vis),
                "found": sum(bool((r.get("result") or {}).get("portrait_found")) for r in vis),
                "refused": sum("error" in (r.get("result") or {}) for r in vis),
                "not_visible": len(sub) - len(vis),
                "found_when_not_visible": sum(bool((r.get("result") or {}).get("portrait_found"))
                                              for r in sub if not r["entry"].get("portrait_visible"))}

    by_kind = defaultdict(list)
    for r in present:
        by_kind[str(r["entry"].get("kind"))].append(r)
    portraits = {"all": portrait_counts(present),
                 "fronts": portrait_counts([r for r in present
                                            if r["entry"].get("side") == "front"]),
                 "by_kind": {k: portrait_counts(v) for k, v in sorted(by_kind.items())}}

    # sides and kinds
    fronts = [r for r in read_ok if r["entry"].get("side") == "front"]
    as_backs = [r for r in fronts if (r["result"].get("sides") or []) == ["back"]]
    f2021_as_2024 = [r for r in fronts if r["entry"].get("kind") == K2021
                     and r["result"].get("card_kind") == K2024]
    confusion: dict[str, Counter] = defaultdict(Counter)
    for r in read_ok:
        confusion[str(r["entry"].get("kind"))][str(r["result"].get("card_kind") or "null")] += 1

    # backs' zone
    backs_zone = {}
    for kind in (K2021, K2024):
        sub = [r for r in present if r["entry"].get("kind") == kind
               and r["entry"].get("side") == "back"]
        ok = [r for r in sub if "error" not in (r.get("result") or {})]
        backs_zone[kind] = {
            "n": len(sub), "refused": len(sub) - len(ok),
            "mrz_found": sum(bool(r["result"]["mrz"].get("found")) for r in ok if r["result"].get("mrz")),
            "mrz_valid": sum(bool(r["result"]["mrz"].get("valid")) for r in ok if r["result"].get("mrz")),
            "number_right": sum(r["zone"] == "right" for r in ok),
            "number_right_and_valid": sum(r["zone"] == "right" and r["result"]["mrz"].get("valid")
                                          for r in ok),
            "number_wrong": sum(r["zone"] == "wrong" for r in ok),
            "number_unjudged": sum(r["zone"] == "unjudged" for r in ok),
            "id_known": sum(bool(r["entry"].get("id_sha256")) for r in sub),
            "qr_id_right": sum(r["id"] == "right" for r in ok),
        }

    # refusals
    refusals = Counter()
    for r in present:
        res = r.get("result") or {}
        if "error" in res:
            message = re.sub(r"^[^:]*\.(jpe?g|png|webp|heic|bmp|gif|tiff?):\s*", "",
                             str(res.get("message", "")), flags=re.I)
            refusals[f"{res['error']}: {message}"] += 1

    # verify
    pairs = verify_pairs(rows, args.pairs, args.timeout) if args.pairs > 0 else None

    # timing
    def anchor_ms(name):
        return [r["anchors"][name]["ms"] for r in present if name in r["anchors"]]

    timing = {
        "images": len(read_ok),
        "read_card_median_ms": median(r["result"].get("elapsed_ms") for r in read_ok),
        "read_card_p90_ms": p90([r["result"].get("elapsed_ms") for r in read_ok]),
        "read_card_round_trip_median_ms": median(r.get("round_trip_ms") for r in read_ok),
        "anchor_image_decode_median_ms": median(r["anchors"].get("load_ms") for r in present
                                                if r["anchors"]),
        **{f"{n}_median_ms": median(anchor_ms(n)) for n in anchors_on},
        **{f"{n}_p90_ms": p90(anchor_ms(n)) for n in anchors_on},
        "note": "read-card's elapsed_ms includes decoding the image file; the anchors' "
                "*_ms do not (anchor_image_decode_median_ms is that decode)",
    }
    if f2021_readable:
        timing["read_card_median_ms_readable_2021_fronts"] = median(
            (r.get("result") or {}).get("elapsed_ms") for r in f2021_readable
            if "error" not in (r.get("result") or {}))

    sources = Counter(r["id_source_basis"] for r in rows if r.get("id_source_basis"))
    report = {
        "benchmark": "real_photos",
        "command": "bench/bench_real_photos.py " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "manifest": str(args.manifest),
        "dataset": {"entries": len(rows), "present": len(present), "missing": len(missing),
                    "sha256_mismatch": sha_mismatch, "refused": len(present) - len(read_ok),
                    "by_kind_side": dict(sorted(Counter(
                        f"{r['entry'].get('kind')}/{r['entry'].get('side')}" for r in rows).items()))},
        "readable_rule": f"qr_visible and card_width_px >= {READABLE_MIN_CARD_PX}",
        "id_source_basis": dict(sources),
        "anchors": {"used": anchors_on, "unavailable": anchors.unavailable() if anchors else "skipped",
                    "how": "whole image as decoded by cv2.imdecode (IMREAD_COLOR); zxing-cpp "
                           "read_barcodes(gray, formats=QRCode); WeChat detectAndDecode(BGR)"},
        "fronts_2021": {"readable": front_block(f2021_readable, anchors_on),
                        "all": front_block(f2021, anchors_on)},
        "portraits": portraits,
        "fronts_reported_as_backs": {"fronts_read": len(fronts), "total": len(as_backs),
                                     "by_kind": dict(Counter(str(r["entry"].get("kind"))
                                                             for r in as_backs))},
        "fronts_2021_reported_can_cuoc_2024": len(f2021_as_2024),
        "kind_confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "backs_zone": backs_zone,
        "refusals": {"total": sum(refusals.values()), "by_message": dict(refusals)},
        "verify_pairs": None if pairs is None else {
            k: (dict(v) if isinstance(v, Counter) else v) for k, v in pairs.items()
            if k not in ("distances", "ms", "cases")} | {
            "median_distance": median(pairs["distances"]) if pairs["distances"] else None,
            "median_ms": median(pairs["ms"])},
        "timing": timing,
        "by_kind_side": tally(rows),
        "cli": cli_info,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if args.failures:
        report["failures"] = {
            "missing": missing,
            "readable_2021_fronts_id_not_right": [
                {"file": r["entry"]["file"], "kiosk": r["id"],
                 **{n: r["anchors"].get(n, {}).get("status") for n in anchors_on}}
                for r in f2021_readable if r["id"] != "right" and r["present"]],
            "fronts_reported_as_backs": [r["entry"]["file"] for r in as_backs],
            "fronts_2021_reported_can_cuoc_2024": [r["entry"]["file"] for r in f2021_as_2024],
            "portraits_not_found": [r["entry"]["file"] for r in read_ok
                                    if r["entry"].get("portrait_visible")
                                    and not r["result"].get("portrait_found")],
            "refused": [r["entry"]["file"] for r in present if "error" in (r.get("result") or {})],
            "verify_pairs": [{"card": a, "face": b, "decision": d}
                             for a, b, d in (pairs or {}).get("cases", [])],
        }

    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print_summary(report, anchors_on)
    return 0


def print_summary(r: dict, anchors_on: list[str]) -> None:
    def line(text):
        print(text, file=sys.stderr)

    d = r["dataset"]
    line(f"images {d['entries']} (present {d['present']}, missing {d['missing']}, "
         f"refused {d['refused']}, sha256 mismatch {d['sha256_mismatch']})")
    for label in ("readable", "all"):
        b = r["fronts_2021"][label]
        k = b["kiosk"]
        parts = [f"2021 fronts {label} {b['n']}: kiosk right {k['right']} (QR {k['right_from_qr']}"
                 f", other {k['right_from_other']}) wrong {k['wrong']}"]
        for n in anchors_on:
            parts.append(f"{n} right {b[n]['right']} wrong {b[n]['wrong']}")
        if "either_anchor" in b:
            parts.append(f"either right {b['either_anchor']['right']} "
                         f"wrong {b['either_anchor']['wrong']}")
        line("; ".join(parts))
    p, pf = r["portraits"]["all"], r["portraits"]["fronts"]
    line(f"portraits found {p['found']}/{p['visible']} visible (fronts {pf['found']}/"
         f"{pf['visible']}); found where none "
         f"{p['found_when_not_visible']}/{p['not_visible']}; " + ", ".join(
             f"{k} {v['found']}/{v['visible']}" for k, v in r["portraits"]["by_kind"].items()
             if v["visible"]))
    fb = r["fronts_reported_as_backs"]
    line(f"fronts reported as backs {fb['total']}/{fb['fronts_read']}; 2021 fronts as 2024: "
         f"{r['fronts_2021_reported_can_cuoc_2024']}")
    line("kinds: " + "; ".join(f"{k}→" + ",".join(f"{kk} {vv}" for kk, vv in v.items())
                               for k, v in r["kind_confusion"].items()))
    for kind, z in r["backs_zone"].items():
        if z["n"]:
            line(f"{kind} backs {z['n']}: zone found {z['mrz_found']} valid {z['mrz_valid']} "
                 f"right number {z['number_right']} wrong {z['number_wrong']}")
    line(f"refusals {r['refusals']['total']}: " + "; ".join(
        f"{v}× {k[:70]}" for k, v in r["refusals"]["by_message"].items()))
    v = r["verify_pairs"]
    if v:
        line(f"verify pairs {v['pairs']} ({v['groups_with_2_or_more']} groups): "
             + ", ".join(f"{k} {n}" for k, n in v["decisions"].items())
             + (f"; errors {v['errors']}" if v["errors"] else ""))
    t = r["timing"]
    line(f"median ms: read-card {t['read_card_median_ms']} (p90 {t['read_card_p90_ms']})"
         + "".join(f", {n} {t[f'{n}_median_ms']}" for n in anchors_on)
         + f", image decode {t['anchor_image_decode_median_ms']}; wall {r['wall_s']} s")


if __name__ == "__main__":
    raise SystemExit(main())
