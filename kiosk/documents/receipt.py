"""The 80 mm thermal receipt handed to the customer when registration is complete.

It reminds the customer of the three things to remember (login name, password, PIN) but
prints only the login name: `render_receipt` has no password or PIN parameter, so a lost
receipt can never give anyone the account. The page is exactly as tall as its content, so
roll printers cut right after the last line.
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Spacer, Table
from reportlab.platypus.flowables import HRFlowable

from kiosk.documents.content import (
    ReceiptContext,
    format_datetime_vn,
    format_duration,
    nfc,
    price_text,
)
from kiosk.documents.fonts import register_fonts
from kiosk.documents.layout import (
    PDF_CREATOR,
    SANDBOX_LABEL,
    bold_label,
    set_pdf_date,
    table_style,
    text,
)
from kiosk.documents.qr_drawing import QrFlowable

RECEIPT_TITLE = "PHIẾU ĐĂNG KÝ VNPT SmartCA"
PAGE_WIDTH = 80 * mm
MARGIN_X = 4 * mm  # 80 mm rolls print about 72 mm wide
MARGIN_Y = 4 * mm
QR_SIZE = 29 * mm

PASSWORD_REMINDER = (
    "do quý khách tự tạo (ít nhất 8 ký tự, có chữ hoa, chữ thường, chữ số và ký tự đặc "
    "biệt). Phiếu này không in mật khẩu."
)
PIN_REMINDER = "6 chữ số do quý khách tự tạo. Phiếu này không in mã PIN. Không cho ai biết mã PIN."


def _styles() -> dict[str, ParagraphStyle]:
    fonts = register_fonts()
    base = ParagraphStyle(
        "receipt", fontName=fonts.regular, fontSize=8.5, leading=11.5, alignment=TA_LEFT
    )
    center = ParagraphStyle("receipt-center", parent=base, alignment=TA_CENTER)
    return {
        "body": base,
        "center": center,
        "small": ParagraphStyle("receipt-small", parent=center, fontSize=7.5, leading=9.5),
        "office": ParagraphStyle("receipt-office", parent=center, fontName=fonts.bold),
        "title": ParagraphStyle(
            "receipt-title",
            parent=center,
            fontName=fonts.bold,
            fontSize=11.5,
            leading=15,
            spaceBefore=1,
            spaceAfter=2,
        ),
        "heading": ParagraphStyle(
            "receipt-heading",
            parent=center,
            fontName=fonts.bold,
            fontSize=9.5,
            leading=13,
            spaceAfter=1,
        ),
        "login": ParagraphStyle(
            "receipt-login", parent=center, fontName=fonts.bold, fontSize=14, leading=18
        ),
        "band": ParagraphStyle(
            "receipt-band",
            parent=center,
            fontName=fonts.bold,
            fontSize=10,
            leading=13,
            textColor=colors.white,
        ),
        "band-note": ParagraphStyle(
            "receipt-band-note",
            parent=center,
            fontSize=7.5,
            leading=9.5,
            textColor=colors.white,
        ),
    }


def _rule() -> HRFlowable:
    return HRFlowable(
        width="100%",
        thickness=0.6,
        color=colors.black,
        dash=(2, 2),
        spaceBefore=4,
        spaceAfter=4,
    )


def _sandbox_band(s: dict[str, ParagraphStyle], width: float) -> Table:
    # Black, not red: thermal printers print one colour.
    band = Table(
        [
            [Paragraph(text(SANDBOX_LABEL), s["band"])],
            [Paragraph(text("Phiếu thử nghiệm – không có giá trị sử dụng"), s["band-note"])],
        ],
        colWidths=[width],
    )
    band.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return band


def _login_box(rc: ReceiptContext, s: dict[str, ParagraphStyle], width: float) -> Table:
    box = Table(
        [
            [Paragraph(text("Tên đăng nhập:"), s["center"])],
            [Paragraph(text(rc.id_number), s["login"])],
        ],
        colWidths=[width],
    )
    box.setStyle(
        table_style(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return box


def _store_codes(rc: ReceiptContext, s: dict[str, ParagraphStyle], width: float) -> Table:
    stores = (
        (rc.office.app_store_url, "App Store", "iPhone, iPad"),
        (rc.office.play_store_url, "CH Play", "Android: Samsung, OPPO…"),
    )
    codes = [QrFlowable(url, QR_SIZE) for url, _, _ in stores]
    captions = [
        Paragraph(f"<b>{text(store)}</b><br/>{text(devices)}", s["small"])
        for _, store, devices in stores
    ]
    table = Table([codes, captions], colWidths=[width / 2, width / 2])
    table.setStyle(
        table_style(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def receipt_story(rc: ReceiptContext, width: float) -> list[Flowable]:
    """The receipt's flowables, top to bottom, for a printable width of `width` points."""
    s = _styles()
    office, package = rc.office, rc.package
    story: list[Flowable] = []
    if rc.sandbox:
        story += [_sandbox_band(s, width), Spacer(1, 3)]
    story += [
        Paragraph(text(office.name), s["office"]),
        Paragraph(text(RECEIPT_TITLE), s["title"]),
        Paragraph(bold_label("Số đăng ký:", rc.registration_number), s["center"]),
        Paragraph(text(format_datetime_vn(rc.completed_at)), s["center"]),
        _rule(),
        Paragraph(bold_label("Khách hàng:", rc.customer_name), s["body"]),
        Paragraph(bold_label("Gói dịch vụ:", package.name), s["body"]),
        Paragraph(bold_label("Thời hạn:", format_duration(package.duration_months)), s["body"]),
        Paragraph(bold_label("Giá:", price_text(package)), s["body"]),
        Paragraph(bold_label("Thanh toán:", "tại quầy giao dịch"), s["body"]),
        _rule(),
        Paragraph(text("THÔNG TIN ĐĂNG NHẬP"), s["heading"]),
        _login_box(rc, s, width),
        Spacer(1, 4),
        Paragraph(bold_label("Mật khẩu:", PASSWORD_REMINDER), s["body"]),
        Spacer(1, 2),
        Paragraph(bold_label("Mã PIN ký số:", PIN_REMINDER), s["body"]),
        _rule(),
        Paragraph(text("Tải ứng dụng VNPT SmartCA"), s["heading"]),
        Paragraph(
            text("Tìm “VNPT SmartCA” trên App Store hoặc CH Play, hoặc quét mã:"), s["small"]
        ),
        Spacer(1, 3),
        _store_codes(rc, s, width),
        Spacer(1, 2),
        Paragraph(bold_label("Website:", office.website), s["center"]),
        _rule(),
        Paragraph(text(office.name), s["office"]),
        Paragraph(bold_label("Địa chỉ:", office.address), s["body"]),
        Paragraph(bold_label("Điện thoại:", office.phone), s["body"]),
        Paragraph(bold_label("Hotline:", office.hotline), s["body"]),
        Paragraph(bold_label("Email:", office.email), s["body"]),
        _rule(),
        Paragraph(text("Xin cảm ơn quý khách!"), s["center"]),
    ]
    if rc.sandbox:
        story += [Spacer(1, 4), _sandbox_band(s, width)]
    return story


def _layout(story: list[Flowable], width: float) -> tuple[float, list[tuple]]:
    """Wrap every flowable once: (total height, [(flowable, its width, height, space above)]).

    The same wrapped flowables are then drawn, so the page is measured and drawn from one
    story (building and wrapping it twice used to double the receipt's cost).
    """
    placed, total, space_after = [], 0.0, 0.0
    for index, flowable in enumerate(story):
        wrapped_width, height = flowable.wrap(width, 100_000)
        # Like a Frame: no space above the first line; adjacent spaces collapse to the larger.
        above = 0.0 if index == 0 else max(flowable.getSpaceBefore(), space_after)
        placed.append((flowable, wrapped_width, height, above))
        space_after = flowable.getSpaceAfter()
        total += above + height
    return total, placed


def render_receipt(rc: ReceiptContext) -> bytes:
    """An 80 mm wide PDF whose height fits its content; Vietnamese font embedded."""
    fonts = register_fonts()
    width = PAGE_WIDTH - 2 * MARGIN_X
    content_height, placed = _layout(receipt_story(rc, width), width)
    page_height = content_height + 2 * MARGIN_Y
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, page_height),
        invariant=True,
        initialFontName=fonts.regular,
        lang="vi-VN",
    )
    canvas.setTitle(nfc(f"{RECEIPT_TITLE} số {rc.registration_number}"))
    canvas.setAuthor(nfc(rc.office.name))
    canvas.setCreator(PDF_CREATOR)
    set_pdf_date(canvas, rc.completed_at)
    y = page_height - MARGIN_Y
    for flowable, wrapped_width, height, above in placed:
        y -= above + height
        # _sW: the room left beside a narrower flowable, for its hAlign (as a Frame passes).
        flowable.drawOn(canvas, MARGIN_X, y, _sW=width - wrapped_width)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
