"""The identity evidence record of one registration as an A4 PDF, for the console's export: how
the identity was read, the photos' SHA-256, the face comparison and liveness, the decision and
who made it, the clerk's attestation «Đã xem bản gốc giấy tờ».

Pure: the service (services/identity_record.py) turns the record into headed sections of
(label, value) lines in Vietnamese; this module only lays them out, in the fonts the other
documents embed (Vietnamese diacritics, nothing fetched).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

from kiosk.documents.content import nfc
from kiosk.documents.fonts import register_fonts
from kiosk.documents.layout import (
    PDF_CREATOR,
    SANDBOX_LABEL,
    draw_sandbox_watermark,
    set_pdf_date,
    styles,
    table_style,
    text,
)

IDENTITY_RECORD_TITLE = "HỒ SƠ BẰNG CHỨNG ĐỊNH DANH"


@dataclass(frozen=True)
class RecordSection:
    title: str
    lines: Sequence[tuple[str, str]]


def render_identity_record(registration_number: str, office_name: str,
                           sections: Sequence[RecordSection], made_at: datetime,
                           sandbox: bool) -> bytes:
    fonts = register_fonts()
    s = styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
        bottomMargin=18 * mm, title=nfc(f"{IDENTITY_RECORD_TITLE} {registration_number}"),
        author=nfc(office_name), subject=nfc(IDENTITY_RECORD_TITLE), creator=PDF_CREATOR,
        lang="vi-VN", initialFontName=fonts.regular, invariant=True)
    story = [Paragraph(text(office_name), s["motto"]),
             Paragraph(text(IDENTITY_RECORD_TITLE), s["title"]),
             Paragraph(text(f"Số đăng ký: {registration_number}"), s["number"])]
    if sandbox:
        story.append(Paragraph(text(SANDBOX_LABEL), s["number"]))
    label_width = 55 * mm
    for section in sections:
        story.append(Paragraph(text(section.title), s["heading"]))
        rows = [[Paragraph(f"<b>{text(label)}</b>", s["body"]), Paragraph(text(value), s["body"])]
                for label, value in section.lines]
        if rows:
            table = Table(rows, colWidths=[label_width, doc.width - label_width])
            table.setStyle(table_style([
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#bbbbbb"),
            ]))
            story.append(table)
        story.append(Spacer(1, 3 * mm))

    def on_page(canvas, _doc):
        set_pdf_date(canvas, made_at)
        if sandbox:
            draw_sandbox_watermark(canvas, *A4)

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
