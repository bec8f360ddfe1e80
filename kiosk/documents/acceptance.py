"""The acceptance and hand-over record (step 9): its text, and its A4 PDF.

Signed after the PIN is created, it records that the service works and what the customer
now holds. It names the password and PIN only as things the customer created: never values.
"""

from __future__ import annotations

from kiosk.documents.content import (
    DocumentContext,
    Section,
    Signature,
    address_lines,
    format_date_vn,
    format_duration,
    nfc,
    price_text,
)
from kiosk.documents.layout import render_a4

ACCEPTANCE_TITLE = "BIÊN BẢN NGHIỆM THU VÀ BÀN GIAO DỊCH VỤ VNPT SmartCA"


def acceptance_sections(ctx: DocumentContext) -> list[Section]:
    """The record's text, section by section, every string NFC-normalised."""
    office, customer, package = ctx.office, ctx.customer, ctx.package
    contract_name = "Hợp đồng cung cấp và sử dụng dịch vụ chứng thư số VNPT SmartCA"
    sections = [
        Section(
            "",
            [
                (
                    f"Căn cứ {contract_name} số {ctx.registration_number} giữa {office.name} và "
                    f"khách hàng {customer.full_name};"
                ),
                # The day only: the text is rendered before it is signed (what is shown is what is
                # signed), so a time here would be the start; the signing time is the signature's
                # own «Ký lúc …» (slot_drawing).
                (
                    f"hôm nay, ngày {format_date_vn(ctx.created_at.date())}, tại {office.name}, hai bên "
                    "cùng nghiệm thu và bàn giao dịch vụ với nội dung sau:"
                ),
            ],
        ),
        Section(
            "1. Các bên",
            [
                (
                    f"Bên bàn giao (Bên A): {office.name}, {office.address}; hotline "
                    f"{office.hotline}."
                ),
                "Bên nhận bàn giao (Bên B):",
                f"Họ và tên: {customer.full_name}",
                f"{customer.id_type_label} số: {customer.id_number}",
                *address_lines(customer),
                f"Số điện thoại di động: {customer.phone_display}",
            ],
        ),
        Section(
            "2. Nội dung nghiệm thu, bàn giao",
            [
                "Dịch vụ VNPT SmartCA đã được khởi tạo cho Bên B.",
                f"Tên đăng nhập: {customer.id_number} (số {customer.id_type_label} của Bên B).",
                (
                    "Mật khẩu đăng nhập: do Bên B tự tạo tại quầy. Bên A không biết mật khẩu và "
                    "không lưu mật khẩu ở dạng đọc được."
                ),
                (
                    "Mã PIN ký số gồm 6 chữ số: do Bên B tự tạo. Mã PIN không được ghi trong biên "
                    "bản này hay bất kỳ giấy tờ nào."
                ),
                (
                    f"Chứng thư số: gói {package.name}, thời hạn "
                    f"{format_duration(package.duration_months)}, giá "
                    f"{price_text(package, words=True)}, thanh toán tại quầy."
                ),
            ],
        ),
        Section(
            "3. Xác nhận của Bên B",
            [
                (
                    "Bên B xác nhận: dịch vụ VNPT SmartCA đã được khởi tạo và kích hoạt cho Bên B; "
                    "Bên B đã tự tạo mật khẩu đăng nhập và mã PIN ký số; Bên B được hướng dẫn cài "
                    "ứng dụng VNPT SmartCA trên điện thoại và đăng nhập bằng tên đăng nhập, mật "
                    "khẩu của mình sau khi ký biên bản này."
                ),
                (
                    "Bên B đã được hướng dẫn giữ bí mật mật khẩu và mã PIN, và báo ngay cho Bên A "
                    f"qua hotline {office.hotline} khi mất điện thoại hoặc nghi bị lộ mật khẩu, "
                    "mã PIN."
                ),
                (
                    "Biên bản được lập dưới dạng điện tử, là bộ phận không tách rời của hợp đồng "
                    f"số {ctx.registration_number}."
                ),
            ],
        ),
    ]
    return [Section(nfc(s.title), [nfc(p) for p in s.paragraphs]) for s in sections]


def render_acceptance(ctx: DocumentContext, signature: Signature | None = None) -> bytes:
    """A4 PDF of the acceptance record, signed like the contract."""
    return render_a4(
        ctx,
        title=ACCEPTANCE_TITLE,
        short_title="Biên bản nghiệm thu",
        sections=acceptance_sections(ctx),
        signature=signature,
    )
