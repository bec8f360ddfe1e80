"""CPU per signed copy: the office's PAdES seal (pyHanko) against the regex incremental update
it replaced, in the same run. JSON.

    .venv/bin/python bench/bench_seal.py [--runs 15] [--legacy-rev REV]

``legacy`` is the old ``sign_pdf`` (pdf_update.py + slot_drawing.py + signing.py as they were
before pyHanko, read from git at ``--legacy-rev``: by default the parent of the commit that
removed pdf_update.py), imported under other names beside the current code. ``fill`` is the new
path without a seal (pyHanko's writer filling the customer's box), ``sealed`` the path the
kiosk takes (box filled and the office's ECDSA P-256 signature, PAdES B-B, its CMS container
built from the pattern learnt at the first seal: documents/seal_pattern.py),
``sealed_by_pyhanko`` the same with every container built by pyHanko (as before the pattern),
``verify`` one check of the seal (docs/signing.md). Median and p95 CPU milliseconds (process time). Without
git or the old files, ``legacy`` is null.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_documents import cpu_ms, pad_drawing, sample_context  # noqa: E402
from kiosk.documents import Signature, render_acceptance, render_contract, sign_pdf  # noqa: E402

LEGACY_FILES = ("pdf_update", "slot_drawing", "signing")


def legacy_sign_pdf(rev: str | None):
    """The old ``sign_pdf`` from git, or None when it cannot be read."""
    try:
        if rev is None:
            removed = subprocess.run(
                ["git", "-C", str(ROOT), "rev-list", "-1", "HEAD", "--",
                 "kiosk/documents/pdf_update.py"], capture_output=True, text=True, check=True)
            rev = removed.stdout.strip() + "^"
        sources = {name: subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:kiosk/documents/{name}.py"],
            capture_output=True, text=True, check=True).stdout for name in LEGACY_FILES}
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="legacy-sign-"))
    for name, source in sources.items():
        for other in LEGACY_FILES:  # the three import each other: point them at the copies
            source = source.replace(f"kiosk.documents.{other}", f"legacy_{other}")
            source = source.replace(f"from kiosk.documents import {other}",
                                    f"import legacy_{other} as {other}")
        (folder / f"legacy_{name}.py").write_text(source)
    sys.path.insert(0, str(folder))
    for name in LEGACY_FILES:
        spec = importlib.util.spec_from_file_location(f"legacy_{name}",
                                                      folder / f"legacy_{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"legacy_{name}"] = module
        spec.loader.exec_module(module)
    return sys.modules["legacy_signing"].sign_pdf


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--legacy-rev", default=None)
    args = ap.parse_args(argv)
    from kiosk.documents.seal import load_pkcs12
    from kiosk.documents.seal_check import check, load_roots
    from kiosk.services.document_seal import make_sandbox_cert, sandbox_files

    folder = tempfile.mkdtemp(prefix="bench-seal-")
    make_sandbox_cert(folder)
    files = sandbox_files(folder)
    seal = load_pkcs12(files.p12, files.password.read_bytes())
    # The same certificate with the pattern left out: pyHanko is handed the signer itself.
    by_pyhanko = load_pkcs12(files.p12, files.password.read_bytes())
    object.__setattr__(by_pyhanko, "_patterned", by_pyhanko.signer)
    roots = load_roots([files.ca.read_bytes()])
    legacy = legacy_sign_pdf(args.legacy_rev)
    context = sample_context()
    signature = Signature(png_bytes=pad_drawing(), signed_at=datetime(2026, 11, 29, 9, 41))
    report = {"runs": args.runs, "legacy_available": legacy is not None, "documents": {}}
    for name, render in (("contract", render_contract), ("acceptance", render_acceptance)):
        text = render(context, None)
        sealed_pdf = sign_pdf(text, signature, seal=seal)
        assert check(sealed_pdf, roots).valid
        assert check(sign_pdf(text, signature, seal=by_pyhanko), roots).valid
        row = {
            "fill": cpu_ms(lambda _run, t=text: sign_pdf(t, signature), args.runs),
            "sealed": cpu_ms(lambda _run, t=text: sign_pdf(t, signature, seal=seal), args.runs),
            "sealed_by_pyhanko": cpu_ms(
                lambda _run, t=text: sign_pdf(t, signature, seal=by_pyhanko), args.runs),
            "verify": cpu_ms(lambda _run, p=sealed_pdf: (check(p, roots), p)[1], args.runs),
        }
        if legacy is not None:
            row["legacy"] = cpu_ms(lambda _run, t=text: legacy(t, signature), args.runs)
            base = row["legacy"]["median_ms"] or 0.1
            row["sealed_vs_legacy"] = round(row["sealed"]["median_ms"] / base, 2)
            row["fill_vs_legacy"] = round(row["fill"]["median_ms"] / base, 2)
        row["sealed_vs_sealed_by_pyhanko"] = round(
            row["sealed"]["median_ms"] / (row["sealed_by_pyhanko"]["median_ms"] or 0.1), 2)
        report["documents"][name] = row
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
