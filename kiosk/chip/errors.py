"""Typed failures of a chip read, each with a Vietnamese message fit for the kiosk screen.

Callers catch ``ChipError`` (or one subclass) and show ``.message``; ``.code`` is the stable
machine-readable name used in JSON output and the audit trail.
"""
from __future__ import annotations


class ChipError(Exception):
    code = "chip_error"
    default_message = "Không đọc được chip của thẻ."

    def __init__(self, message: str | None = None, *, detail: str | None = None):
        self.message = message or self.default_message
        self.detail = detail  # technical detail for logs (never a key or personal data)
        super().__init__(self.message)


class ReaderUnavailable(ChipError):
    code = "reader_unavailable"
    default_message = "Không tìm thấy đầu đọc thẻ hoặc dịch vụ đầu đọc (pcscd) chưa chạy."


class NoCard(ChipError):
    code = "no_card"
    default_message = "Chưa có thẻ trên đầu đọc. Vui lòng đặt thẻ lên đầu đọc."


class TransportError(ChipError):
    code = "transport"
    default_message = "Mất kết nối với thẻ (thẻ bị nhấc ra?). Vui lòng đặt lại thẻ và thử lại."


class AccessDenied(ChipError):
    code = "access_denied"
    default_message = ("Thẻ từ chối khoá truy cập. Kiểm tra lại số định danh, ngày sinh "
                       "và ngày hết hạn.")


class SecureMessagingError(ChipError):
    code = "secure_messaging"
    default_message = "Kênh bảo mật với chip bị lỗi (dữ liệu bị sửa trên đường truyền?)."


class CardStatusError(ChipError):
    code = "card_status"
    default_message = "Thẻ trả lời lỗi khi đọc dữ liệu."

    def __init__(self, sw: int, what: str = ""):
        self.sw = sw
        super().__init__(f"Thẻ trả lời lỗi {sw:04X}{' khi ' + what if what else ''}.",
                         detail=f"sw={sw:04X}")


class ParseError(ChipError):
    code = "parse"
    default_message = "Dữ liệu trong chip không đúng định dạng."


class UnsupportedError(ChipError):
    code = "unsupported"
    default_message = "Thẻ dùng cơ chế bảo mật mà kiosk chưa hỗ trợ."


class BadKey(ChipError):
    code = "bad_key"
    default_message = "Khoá truy cập không hợp lệ."
