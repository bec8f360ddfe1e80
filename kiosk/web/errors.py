"""Error pages in Vietnamese; never a bare 500 traceback."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Trang đã cũ hoặc dữ liệu gửi lên không đúng. Quý khách vui lòng thử lại."),
    403: ("Không được phép", "Quý khách không có quyền mở trang này."),
    404: ("Không tìm thấy trang", "Trang quý khách tìm không tồn tại hoặc hồ sơ đã được đóng."),
    405: ("Thao tác không hợp lệ", "Thao tác này không được hỗ trợ ở đây."),
    409: ("Bước này đã đóng", "Bước này không còn thay đổi được. Vui lòng quay lại bước đang làm."),
    413: ("Tệp quá lớn", "Ảnh hoặc tệp gửi lên quá lớn. Vui lòng chụp lại hoặc chọn tệp nhỏ hơn."),
    500: ("Đã có lỗi", "Hệ thống gặp sự cố. Thông tin đã nhập vẫn được giữ lại; nhân viên sẽ hỗ trợ quý khách."),
}


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    response = render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    )
    headers = {}
    if request.headers.get("HX-Request") == "true" and code in (400, 403):
        # An expired CSRF token or session: reload so the page gets a fresh one.
        headers["HX-Refresh"] = "true"
    return response, code, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        app.logger.warning("CSRF refused on %s: %s", request.path, err.description)
        return _render(400, "Phiên làm việc đã hết hạn hoặc thiếu mã bảo vệ. Vui lòng thử lại.")

    for code in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(code, lambda err, code=code: _render(code))
