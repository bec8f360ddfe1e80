"""CPU per document a registration makes (steps 7–9): the text to sign, the signed copy, the
receipt. JSON.

    .venv/bin/python bench/bench_documents.py [--runs 15]

The baseline in the same run is the unsigned text of the same document. The kiosk makes the
signed copy as that text plus an incremental update holding the customer's signature (an image
cropped from the pad's 900 × 360 drawing) and its time: ``signed`` is that update alone (the
text is already made for the screen), ``signed_vs_unsigned`` its cost against a layout of the
whole document, and ``signed_by_layout`` what a second layout with the signature in it costs
(how signed copies were made before). Median and p95 CPU milliseconds (process time, so a busy
machine stretches both alike) and the PDF size.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw

from kiosk.documents import (
    CustomerInfo,
    DocumentContext,
    PackageInfo,
    ReceiptContext,
    Signature,
    render_acceptance,
    render_contract,
    render_receipt,
    sign_pdf,
)


def sample_context() -> DocumentContext:
    customer = CustomerInfo("Nguyễn Thị Thu Hương", "CCCD", "038185012345", date(1985, 9, 5),
                            "Nữ", "Số 12 Lê Lai, Phường Hạc Thành, Thanh Hóa", "0912 345 678",
                            email="huong@example.vn", issue_date=date(2021, 4, 20))
    package = PackageInfo("SmartCA cá nhân 1 năm", 12, 390_000)
    return DocumentContext("TH-2611-0042", datetime(2026, 11, 29, 9, 30), customer, package)


def sample_receipt(context: DocumentContext) -> ReceiptContext:
    return ReceiptContext(context.registration_number, datetime(2026, 11, 29, 9, 48),
                          context.customer.full_name, context.customer.id_number, context.package)


def cpu_times(make, runs: int) -> tuple[list[float], object]:
    """``make(run)`` called once to warm up (fonts, caches), then ``runs`` times: the CPU
    milliseconds of each call, sorted, and the last call's result."""
    make(-1)
    times, result = [], None
    for run in range(runs):
        start = time.process_time()
        result = make(run)
        times.append((time.process_time() - start) * 1000)
    return sorted(times), result


def cpu_ms(make, runs: int) -> dict:
    """``make(run)`` returns bytes: median and p95 CPU milliseconds and the output's size."""
    times, output = cpu_times(make, runs)
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "bytes": len(output)}


def pad_drawing(seed: int = 3) -> bytes:
    """A pad export as the kiosk receives it: a 900 × 360 transparent PNG with a few strokes."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGBA", (900, 360), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        points = [(int(x), int(y)) for x, y in zip(np.cumsum(rng.integers(20, 60, 14)) + 60,
                                                   rng.integers(80, 300, 14), strict=True)]
        draw.line(points, fill=(20, 20, 60, 255), width=6, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _second_layout(render, context, signature, runs: int) -> float:
    """Median CPU ms of laying the whole document out again with the signature drawn in it:
    the same story and a signed box, by ReportLab, without the update (the old way)."""
    from kiosk.documents import layout

    drawn = {}

    def draw_slot(slot):  # the box's form filled in place, during the layout
        from reportlab.lib.utils import ImageReader

        from kiosk.documents.signature_image import SLOT_GEOMETRY, signature_picture

        g = SLOT_GEOMETRY
        picture, width, height = signature_picture(signature, g.width, g.height)
        slot.canv.drawImage(ImageReader(picture), (g.width - width) / 2, (g.height - height) / 2,
                            width, height, mask="auto")
        slot.canv.drawCentredString(g.width / 2, -g.below + g.note_baseline, "Ký lúc 09:41")
        drawn["yes"] = True

    original = layout._SignatureSlot.draw
    layout._SignatureSlot.draw = draw_slot
    try:
        result = cpu_ms(lambda _run: render(context, None), runs)["median_ms"]
    finally:
        layout._SignatureSlot.draw = original
    assert drawn, "the signature box was not drawn"
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    context = sample_context()
    signature = Signature(png_bytes=pad_drawing(), signed_at=datetime(2026, 11, 29, 9, 41))
    report = {"runs": args.runs, "documents": {}}
    for name, render in (("contract", render_contract), ("acceptance", render_acceptance)):
        text = render(context, None)
        unsigned = cpu_ms(lambda _run, render=render: render(context, None), args.runs)
        signed = cpu_ms(lambda _run, text=text: sign_pdf(text, signature), args.runs)
        by_layout = _second_layout(render, context, signature, args.runs)
        report["documents"][name] = {
            "unsigned": unsigned, "signed": signed,
            "signed_vs_unsigned": round(signed["median_ms"] / unsigned["median_ms"], 2),
            "signed_by_layout": {"median_ms": by_layout, "not_in_total": True},
        }
    receipt = sample_receipt(context)
    report["documents"]["receipt"] = {"once": cpu_ms(lambda _run: render_receipt(receipt), args.runs)}
    report["per_registration_median_ms"] = round(sum(
        part["median_ms"] for doc in report["documents"].values()
        for key, part in doc.items() if isinstance(part, dict) and "not_in_total" not in part), 1)
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
