"""The SmartCA e-contract (step 7): its text, and its A4 PDF.

`contract_sections` is the single source of the wording: the kiosk screen renders the same
sections as HTML, so what the customer reads is what the PDF they sign says. The wording is a
plain-language service contract, not legal advice; the office's legal staff own it.
"""

from __future__ import annotations

from kiosk.documents.content import (
    SAMPLE_PRICE_NOTE,
    DocumentContext,
    Section,
    Signature,
    address_lines,
    amount_in_words,
    format_date_vn,
    format_datetime_vn,
    format_duration,
    format_vnd_words,
    honorific,
    nfc,
)
from kiosk.documents.layout import render_a4

CONTRACT_TITLE = "HỢP ĐỒNG CUNG CẤP VÀ SỬ DỤNG DỊCH VỤ CHỨNG THƯ SỐ VNPT SmartCA"


def _parties(ctx: DocumentContext) -> Section:
    office, customer = ctx.office, ctx.customer
    id_line = f"{customer.id_type_label} số: {customer.id_number}"
    if customer.issue_date is not None:
        id_line += f", ngày cấp: {format_date_vn(customer.issue_date)}"
    paragraphs = [
        f"Bên cung cấp dịch vụ (Bên A): {office.name}",
        f"Địa chỉ: {office.address}",
        f"Điện thoại: {office.phone}; Hotline: {office.hotline}",
        f"Email: {office.email}; Website: {office.website}",
        f"Bên sử dụng dịch vụ (Bên B): {honorific(customer.gender)} {customer.full_name}",
        f"Họ và tên: {customer.full_name}",
        f"Ngày sinh: {format_date_vn(customer.date_of_birth)}; Giới tính: {customer.gender}",
        id_line,
        *address_lines(customer),
        f"Số điện thoại di động: {customer.phone_display}",
    ]
    if customer.email:
        paragraphs.append(f"Email: {customer.email}")
    return Section("Điều 1. Các bên ký kết hợp đồng", paragraphs)


def _service(ctx: DocumentContext) -> Section:
    package, customer = ctx.package, ctx.customer
    return Section(
        "Điều 2. Dịch vụ và gói dịch vụ",
        [
            (
                "Bên A cung cấp cho Bên B dịch vụ chứng thư số ký số từ xa VNPT SmartCA: chứng thư "
                "số và khóa bí mật của Bên B được tạo và lưu giữ an toàn trên hệ thống của VNPT; "
                "Bên B ký số văn bản, giao dịch điện tử bằng ứng dụng VNPT SmartCA trên điện thoại "
                f"di động hoặc tại trang {ctx.office.website}."
            ),
            f"Gói dịch vụ: {package.name}.",
            (
                f"Thời hạn sử dụng: {format_duration(package.duration_months)}, tính từ ngày chứng "
                "thư số được cấp cho Bên B."
            ),
            (
                f"Giá gói dịch vụ: {SAMPLE_PRICE_NOTE}." if package.price_is_sample else
                f"Giá gói dịch vụ: {format_vnd_words(package.price_vnd)} "
                f"(bằng chữ: {amount_in_words(package.price_vnd)})."
            ),
            (
                f"Tên đăng nhập dịch vụ là số {customer.id_type_label} của Bên B: "
                f"{customer.id_number}."
            ),
            (
                "Bên B thanh toán giá gói dịch vụ tại quầy giao dịch của "
                f"{ctx.office.name} khi đăng ký; Bên A phát hành hóa đơn điện tử cho Bên B "
                "theo quy định của pháp luật."
            ),
        ],
    )


def _subscriber_duties(ctx: DocumentContext) -> Section:
    office = ctx.office
    return Section(
        "Điều 3. Quyền và nghĩa vụ của Bên B",
        [
            (
                "Cung cấp thông tin trung thực, chính xác và chịu trách nhiệm về thông tin, giấy tờ "
                "đã khai báo; thông báo cho Bên A khi các thông tin này thay đổi."
            ),
            (
                "Tự tạo và giữ bí mật mật khẩu đăng nhập và mã PIN ký số gồm 6 chữ số. Không tiết "
                "lộ, không cho bất kỳ ai biết hoặc sử dụng mật khẩu, mã PIN, kể cả người tự xưng là "
                "nhân viên VNPT: nhân viên VNPT không bao giờ hỏi mật khẩu hay mã PIN của khách hàng."
            ),
            (
                "Giữ an toàn điện thoại di động đã cài ứng dụng VNPT SmartCA; không để người khác "
                "dùng ứng dụng để ký thay mình."
            ),
            (
                "Khi mất điện thoại, bị lộ hoặc nghi bị lộ mật khẩu, mã PIN, báo ngay cho Bên A qua "
                f"hotline {office.hotline} hoặc số điện thoại {office.phone} để tạm dừng hoặc thu "
                "hồi chứng thư số."
            ),
            (
                "Chịu trách nhiệm về các văn bản, giao dịch được ký bằng chữ ký số của mình trong "
                "thời gian chứng thư số có hiệu lực, trừ trường hợp do lỗi của Bên A."
            ),
            (
                "Được hướng dẫn cài đặt, sử dụng dịch vụ, đổi mật khẩu, đặt lại mã PIN; được yêu "
                "cầu tạm dừng, khôi phục hoặc thu hồi chứng thư số của mình."
            ),
        ],
    )


def _provider_duties(ctx: DocumentContext) -> Section:
    office = ctx.office
    return Section(
        "Điều 4. Quyền và nghĩa vụ của Bên A",
        [
            (
                "Cấp chứng thư số cho Bên B sau khi xác minh thông tin, giấy tờ tùy thân và khuôn "
                "mặt của Bên B."
            ),
            (
                "Lưu giữ khóa bí mật của Bên B trong thiết bị bảo mật chuyên dụng; khóa chỉ được "
                "dùng để ký khi Bên B xác thực bằng mật khẩu và mã PIN của mình."
            ),
            (
                "Bảo đảm hệ thống cung cấp dịch vụ hoạt động an toàn, liên tục; thông báo trước cho "
                "Bên B khi bảo trì có ảnh hưởng đến việc ký số."
            ),
            (
                f"Hỗ trợ Bên B qua hotline {office.hotline}, email {office.email} và tại "
                f"{office.name}, {office.address}."
            ),
            (
                "Tạm dừng hoặc thu hồi chứng thư số khi Bên B yêu cầu, hoặc khi có căn cứ cho thấy "
                "khóa bí mật bị lộ, thông tin đăng ký không chính xác, theo quy định của pháp luật."
            ),
            "Thông báo cho Bên B trước khi chứng thư số hết hạn để Bên B gia hạn nếu có nhu cầu.",
        ],
    )


def _personal_data(ctx: DocumentContext) -> Section:
    return Section(
        "Điều 5. Bảo vệ dữ liệu cá nhân",
        [
            (
                "Bên B đồng ý để Bên A xử lý dữ liệu cá nhân của mình (họ và tên, ngày sinh, giới "
                "tính, số và ảnh giấy tờ tùy thân, ảnh khuôn mặt, địa chỉ, số điện thoại, email) để "
                "xác minh danh tính, cấp và quản lý chứng thư số, hỗ trợ khách hàng, theo Luật Bảo "
                "vệ dữ liệu cá nhân số 91/2025/QH15 (hiệu lực từ ngày 01/01/2026) và Nghị định số "
                "356/2025/NĐ-CP ngày 31/12/2025 của Chính phủ quy định chi tiết Luật này."
            ),
            (
                "Ảnh giấy tờ tùy thân, ảnh khuôn mặt và ảnh chữ ký là dữ liệu cá nhân nhạy cảm; "
                "Bên A chỉ dùng các ảnh này để xác minh danh tính của Bên B và lập hồ sơ đăng ký."
            ),
            (
                "Thời hạn lưu trữ: ảnh giấy tờ, ảnh khuôn mặt và ảnh chữ ký được xóa khỏi hệ thống "
                "đăng ký tại quầy khi hết thời hạn ghi trong thông báo xử lý dữ liệu cá nhân mà Bên "
                "B đã đồng ý; hợp đồng đã ký, biên bản nghiệm thu, mã băm (SHA-256) của các ảnh và "
                "kết quả xác minh được lưu trong thời gian hợp đồng có hiệu lực và thời hạn lưu trữ "
                "hồ sơ theo quy định pháp luật. Mật khẩu và mã PIN ký số của Bên B không được lưu "
                "tại quầy."
            ),
            (
                "Bên A chỉ xử lý dữ liệu cá nhân đúng các mục đích nêu trên, áp dụng biện pháp bảo "
                "vệ phù hợp và không cung cấp cho bên thứ ba, trừ trường hợp pháp luật quy định."
            ),
            (
                "Bên B có quyền được biết, xem, yêu cầu chỉnh sửa dữ liệu cá nhân của mình và rút "
                "lại sự đồng ý theo quy định của pháp luật; khi rút lại sự đồng ý, Bên A có thể "
                "không tiếp tục cung cấp được dịch vụ."
            ),
        ],
    )


def _validity(ctx: DocumentContext) -> Section:
    return Section(
        "Điều 6. Hiệu lực hợp đồng",
        [
            (
                "Hợp đồng có hiệu lực kể từ khi Bên B ký điện tử và kéo dài đến hết thời hạn của "
                "gói dịch vụ, trừ khi chấm dứt trước theo thỏa thuận của hai bên hoặc theo quy định "
                "của pháp luật."
            ),
            (
                "Hợp đồng được lập dưới dạng điện tử, có giá trị pháp lý như văn bản theo Luật Giao "
                "dịch điện tử số 20/2023/QH15; mỗi bên lưu giữ một bản."
            ),
            (
                "Tranh chấp (nếu có) được giải quyết trước hết bằng thương lượng; nếu không thương "
                "lượng được, mỗi bên có quyền yêu cầu Tòa án có thẩm quyền giải quyết."
            ),
            (
                f"Số đăng ký: {ctx.registration_number}. Lập lúc "
                f"{format_datetime_vn(ctx.created_at)} tại {ctx.office.name}."
            ),
        ],
    )


def contract_sections(ctx: DocumentContext) -> list[Section]:
    """The contract text, section by section, every string NFC-normalised."""
    preamble = Section(
        "",
        [
            "Căn cứ Bộ luật Dân sự số 91/2015/QH13 ngày 24/11/2015;",
            "Căn cứ Luật Giao dịch điện tử số 20/2023/QH15 ngày 22/6/2023;",
            (
                "Căn cứ các quy định hiện hành về chữ ký điện tử, dịch vụ tin cậy và bảo vệ dữ "
                "liệu cá nhân;"
            ),
            f"Căn cứ nhu cầu của khách hàng và khả năng cung cấp dịch vụ của {ctx.office.name},",
            # The day only: the text is rendered before it is signed (what is shown is what is
            # signed), so a time here would be the start; the signing time is the signature's
            # own «Ký lúc …» (slot_drawing).
            (
                f"hôm nay, ngày {format_date_vn(ctx.created_at.date())}, tại {ctx.office.name}, hai "
                "bên thỏa thuận ký kết hợp đồng với các điều khoản sau:"
            ),
        ],
    )
    sections = [
        preamble,
        _parties(ctx),
        _service(ctx),
        _subscriber_duties(ctx),
        _provider_duties(ctx),
        _personal_data(ctx),
        _validity(ctx),
    ]
    return [Section(nfc(s.title), [nfc(p) for p in s.paragraphs]) for s in sections]


def render_contract(ctx: DocumentContext, signature: Signature | None = None) -> bytes:
    """A4 PDF of the contract; with `signature`, the customer's drawing and signing time."""
    return render_a4(
        ctx,
        title=CONTRACT_TITLE,
        short_title="Hợp đồng",
        sections=contract_sections(ctx),
        signature=signature,
    )
