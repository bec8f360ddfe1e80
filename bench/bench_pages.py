"""CPU per document page image (the kiosk's in-screen document viewer). JSON.

    .venv/bin/python bench/bench_pages.py [--runs 15]

The kiosk shows the contract, the acceptance record and the receipt as page images
(``kiosk.documents.pages.page_png``: PDFium → 4-bit grey PNG written by ``grey4_png``). The
baseline in the same run is the way pages were made before: an RGB render converted to 8-bit
grey and saved by Pillow's PNG encoder at its default level. Both on the same PDFs (a sample
registration's unsigned contract and acceptance record and its receipt), 1600 px wide;
median and p95 CPU milliseconds (process time, so a busy machine stretches both alike),
output size, and the ratio, for page 1 and for what the viewer asks of a new document (its
page count, then every page). Each run gets bytes the process has not seen (a comment after
%%EOF), so the kiosk's cache of open documents helps only within one document, as it does for
a customer.
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

import pypdfium2 as pdfium

from kiosk.documents import (
    CustomerInfo,
    DocumentContext,
    PackageInfo,
    ReceiptContext,
    pages,
    render_acceptance,
    render_contract,
    render_receipt,
)


def baseline_png(pdf: bytes, index: int, width_px: int = pages.PAGE_WIDTH_PX) -> bytes:
    """How a page was made before: RGB render, convert to grey, Pillow PNG (level 6)."""
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[index]
        width_pt, _ = page.get_size()
        bitmap = page.render(scale=width_px / width_pt, fill_color=(255, 255, 255, 255))
        image = bitmap.to_pil().convert("L")
        page.close()
    finally:
        doc.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def sample_context() -> DocumentContext:
    customer = CustomerInfo("Nguyễn Thị Thu Hương", "CCCD", "038185012345", date(1985, 9, 5),
                            "Nữ", "Số 12 Lê Lai, Phường Hạc Thành, Thanh Hóa", "0912 345 678",
                            email="huong@example.vn", issue_date=date(2021, 4, 20))
    package = PackageInfo("SmartCA cá nhân 1 năm", 12, 390_000)
    return DocumentContext("TH-2611-0042", datetime(2026, 11, 29, 9, 30), customer, package)


def sample_receipt(context: DocumentContext) -> ReceiptContext:
    return ReceiptContext(context.registration_number, datetime(2026, 11, 29, 9, 48),
                          context.customer.full_name, context.customer.id_number, context.package)


def sample_documents() -> dict[str, bytes]:
    context = sample_context()
    return {
        "contract": render_contract(context, None),
        "acceptance": render_acceptance(context, None),
        "receipt": render_receipt(sample_receipt(context)),
    }


def cpu_ms(make, runs: int) -> dict:
    """``make(run)`` returns bytes; called once to warm up (fonts, PDFium, caches), then
    ``runs`` times: median and p95 CPU milliseconds and the output's size."""
    make(-1)
    times, size = [], 0
    for run in range(runs):
        start = time.process_time()
        size = len(make(run))
        times.append((time.process_time() - start) * 1000)
    times.sort()
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "bytes": size}


def baseline_count(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def whole_document(count, make):
    """The viewer's requests for one document: the step counts the pages, then each page."""
    def run(pdf: bytes, _index: int) -> bytes:
        return b"".join(make(pdf, i) for i in range(count(pdf)))
    return run


def measure(make, pdf: bytes, runs: int) -> dict:
    # Each run gets a document this process has not opened yet.
    return cpu_ms(lambda run: make(pdf + b"\n%% run %d\n" % run, 0), runs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    report = {"runs": args.runs, "width_px": pages.PAGE_WIDTH_PX, "documents": {}}
    for name, pdf in sample_documents().items():
        kiosk = measure(pages.page_png, pdf, args.runs)
        base = measure(baseline_png, pdf, args.runs)
        kiosk_all = measure(whole_document(pages.page_count, pages.page_png), pdf, args.runs)
        base_all = measure(whole_document(baseline_count, baseline_png), pdf, args.runs)
        report["documents"][name] = {
            "pages": baseline_count(pdf),
            "first_page": {"kiosk": kiosk, "baseline": base,
                           "speedup_median": round(base["median_ms"] / kiosk["median_ms"], 1),
                           "size_ratio": round(kiosk["bytes"] / base["bytes"], 2)},
            "whole_document": {"kiosk": kiosk_all, "baseline": base_all,
                               "speedup_median": round(base_all["median_ms"]
                                                       / kiosk_all["median_ms"], 1)},
        }
    json.dump(report, sys.stdout, indent=1, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
