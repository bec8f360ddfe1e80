"""Drawing helpers shared by the A4 documents (contract, acceptance record) and the receipt."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from kiosk.documents.content import DocumentContext, Section, Signature, nfc, pdf_date
from kiosk.documents.fonts import register_fonts
from kiosk.documents.signature_image import SLOT_GEOMETRY
from kiosk.documents.signing import SLOT_FORM, sign_pdf

SANDBOX_LABEL = "MÔI TRƯỜNG THỬ NGHIỆM"
SANDBOX_NOTE = "Tài liệu thử nghiệm, không có giá trị pháp lý"
SANDBOX_RED = colors.HexColor("#C62828")
VNPT_BLUE = colors.HexColor("#0A4DA2")

PDF_CREATOR = "VNPT SmartCA kiosk"


def text(value: object) -> str:
    """NFC + XML-escaped: Paragraph parses markup, and customer data may contain & or <."""
    return escape(nfc(value))


def bold_label(label: str, value: object) -> str:
    """Paragraph markup "<b>label</b> value", both parts escaped."""
    return f"<b>{text(label)}</b> {text(value)}"


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    fonts = register_fonts()
    base = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=13)
    return {
        "body": ParagraphStyle("doc-body", parent=base, alignment=TA_JUSTIFY, spaceAfter=2),
        "motto": ParagraphStyle(
            "doc-motto",
            parent=base,
            fontName=fonts.bold,
            fontSize=11,
            leading=15,
            alignment=TA_CENTER,
        ),
        "title": ParagraphStyle(
            "doc-title",
            parent=base,
            fontName=fonts.bold,
            fontSize=14,
            leading=19,
            alignment=TA_CENTER,
            textColor=VNPT_BLUE,
            spaceBefore=10,
            spaceAfter=2,
        ),
        "number": ParagraphStyle("doc-number", parent=base, alignment=TA_CENTER, spaceAfter=10),
        "heading": ParagraphStyle(
            "doc-heading",
            parent=base,
            fontName=fonts.bold,
            fontSize=10,
            leading=14,
            spaceBefore=6,
            spaceAfter=2,
            keepWithNext=True,
        ),
        "sign-title": ParagraphStyle(
            "doc-sign-title", parent=base, fontName=fonts.bold, alignment=TA_CENTER
        ),
        "sign-note": ParagraphStyle(
            "doc-sign-note",
            parent=base,
            fontSize=8.5,
            leading=11,
            alignment=TA_CENTER,
            textColor=colors.HexColor("#555555"),
        ),
        "sign-name": ParagraphStyle(
            "doc-sign-name", parent=base, fontName=fonts.bold, alignment=TA_CENTER
        ),
    }


def table_style(commands: list[tuple]) -> TableStyle:
    """TableStyle with our font: Table sets a cell font even around flowables, and the
    default would pull an unembedded Helvetica into the PDF."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), register_fonts().regular), *commands])


# --- the customer's box --------------------------------------------------------------------


class _SignatureSlot(Flowable):
    """The customer's box: an empty form XObject, the same in the text to sign and in the
    signed copy, whose update gives the form the drawing and its time (signing.py). The
    layout never changes on signing, so the signed file is the unsigned one plus that update."""

    def wrap(self, available_width, available_height):
        return SLOT_GEOMETRY.width, SLOT_GEOMETRY.height

    def draw(self):
        g = SLOT_GEOMETRY
        self.canv.beginForm(SLOT_FORM, 0, -g.below, g.width, g.height)
        self.canv.endForm()
        self.canv.doForm(SLOT_FORM)


def signature_blocks(ctx: DocumentContext, width: float) -> Table:
    """Two columns, provider left and customer right."""
    s = styles()
    g = SLOT_GEOMETRY
    column = width / 2
    rows = [
        [
            Paragraph(text(f"Đại diện {ctx.office.name}"), s["sign-title"]),
            Paragraph(text("Khách hàng"), s["sign-title"]),
        ],
        [
            Paragraph(text("(Ký, ghi rõ họ tên)"), s["sign-note"]),
            Paragraph(text("(Ký, ghi rõ họ tên)"), s["sign-note"]),
        ],
        [Spacer(1, g.height), _SignatureSlot()],
        # The signing time's line, drawn by the box's form once signed: kept blank until then.
        [Spacer(1, g.note_leading), Spacer(1, g.note_leading)],
        [Paragraph("", s["sign-name"]), Paragraph(text(ctx.customer.full_name), s["sign-name"])],
    ]
    table = Table(
        rows, colWidths=[column, column], rowHeights=[None, None, g.height + 2 * g.gap, None, None]
    )
    table.setStyle(
        table_style(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), g.padding),
                ("BOTTOMPADDING", (0, 0), (-1, -1), g.padding),
            ]
        )
    )
    return table


# --- A4 page furniture -------------------------------------------------------------------


def set_pdf_date(canvas: Canvas, made_at: datetime) -> None:
    """Creation date = when the document was made, not when the bytes were produced, so
    re-rendering the same registration gives identical bytes (with invariant=True)."""
    stamp = pdf_date(made_at)
    canvas.setDateFormatter(lambda *_ignored: stamp)


class _DeferredCanvas(Canvas):
    """Holds every page until the end so headers/footers can say "Trang 1/2"."""

    def __init__(
        self,
        *args,
        decorate: Callable[[Canvas, int, int], None],
        made_at: datetime,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        set_pdf_date(self, made_at)
        self._decorate = decorate
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for page_number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._decorate(self, page_number, total)
            Canvas.showPage(self)
        Canvas.save(self)


def draw_sandbox_watermark(canvas: Canvas, page_width: float, page_height: float) -> None:
    """Large, faint, diagonal label under the text: unmistakable on every page, still legible."""
    fonts = register_fonts()
    canvas.saveState()
    canvas.setFillColor(SANDBOX_RED)
    canvas.setFillAlpha(0.10)
    canvas.translate(page_width / 2, page_height / 2)
    canvas.rotate(45)
    canvas.setFont(fonts.bold, 46)
    canvas.drawCentredString(0, -16, nfc(SANDBOX_LABEL))
    canvas.restoreState()


def _a4_decorator(ctx: DocumentContext, short_title: str):
    fonts = register_fonts()
    page_width, page_height = A4
    left, right = 20 * mm, page_width - 20 * mm

    def decorate(canvas: Canvas, page: int, total: int) -> None:
        canvas.saveState()
        top = page_height - 10 * mm
        if ctx.sandbox:
            band = 9 * mm
            canvas.setFillColor(SANDBOX_RED)
            canvas.rect(0, page_height - band, page_width, band, stroke=0, fill=1)
            canvas.setFillColor(colors.white)
            canvas.setFont(fonts.bold, 11)
            canvas.drawCentredString(
                page_width / 2,
                page_height - band + 3 * mm,
                nfc(f"{SANDBOX_LABEL} — {SANDBOX_NOTE}"),
            )
            top = page_height - band - 6 * mm
        canvas.setFillColor(colors.HexColor("#333333"))
        canvas.setFont(fonts.bold, 8.5)
        canvas.drawString(left, top, nfc(f"{ctx.office.name} · Dịch vụ VNPT SmartCA"))
        canvas.setFont(fonts.regular, 8.5)
        canvas.drawRightString(right, top, nfc(f"{short_title} số {ctx.registration_number}"))
        canvas.setStrokeColor(colors.HexColor("#999999"))
        canvas.setLineWidth(0.5)
        canvas.line(left, top - 2.5 * mm, right, top - 2.5 * mm)
        bottom = 12 * mm
        canvas.line(left, bottom + 4 * mm, right, bottom + 4 * mm)
        canvas.drawString(left, bottom, nfc(f"Số đăng ký: {ctx.registration_number}"))
        canvas.drawRightString(right, bottom, nfc(f"Trang {page}/{total}"))
        canvas.restoreState()

    return decorate


def render_a4(
    ctx: DocumentContext,
    *,
    title: str,
    short_title: str,
    sections: Sequence[Section],
    signature: Signature | None,
) -> bytes:
    """A4 PDF: national motto, title, numbered sections, signature blocks, page furniture.
    With ``signature``: the same document plus the update that signs it (signing.py)."""
    if signature is not None:
        return sign_pdf(render_a4(ctx, title=title, short_title=short_title, sections=sections,
                                  signature=None), signature)
    fonts = register_fonts()
    s = styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=(30 if ctx.sandbox else 22) * mm,
        bottomMargin=22 * mm,
        title=nfc(f"{title} số {ctx.registration_number}"),
        author=nfc(ctx.office.name),
        subject=nfc(title),
        creator=PDF_CREATOR,
        lang="vi-VN",
        initialFontName=fonts.regular,
        # Same inputs give the same bytes, so a stored SHA-256 can be re-derived and checked.
        invariant=True,
    )
    story: list[Flowable] = [
        Paragraph(text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), s["motto"]),
        Paragraph(text("Độc lập – Tự do – Hạnh phúc"), s["motto"]),
        Paragraph(text(title), s["title"]),
        Paragraph(text(f"Số: {ctx.registration_number}"), s["number"]),
    ]
    for section in sections:
        if section.title:
            story.append(Paragraph(text(section.title), s["heading"]))
        story.extend(Paragraph(text(p), s["body"]) for p in section.paragraphs)
    # The signatures never stand alone on a page: they travel with the last paragraph.
    closing = [story.pop()] if len(story) > 4 else []
    story.append(
        KeepTogether([*closing, Spacer(1, 6 * mm), signature_blocks(ctx, doc.width)])
    )

    def on_page(canvas: Canvas, _doc) -> None:
        if ctx.sandbox:
            draw_sandbox_watermark(canvas, *A4)

    doc.build(
        story,
        onFirstPage=on_page,
        onLaterPages=on_page,
        canvasmaker=functools.partial(
            _DeferredCanvas,
            decorate=_a4_decorator(ctx, short_title),
            made_at=ctx.created_at,
        ),
    )
    return buffer.getvalue()
