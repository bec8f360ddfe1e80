"""Error pages in Vietnamese; never a bare 500 traceback, even when the database is what failed.

Order matters (four parallel step-4 submits once got «Internal Server Error» because the
error page itself queried a session left in a failed transaction): roll the session back first;
if even that fails, throw the session away instead of touching it again; render the normal page;
if rendering fails too (its context processor reads the office from the database), send a plain
Vietnamese page built without the database or templates.
"""
from __future__ import annotations

from html import escape

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError

from kiosk.services import unit_of_work
from kiosk.services.vision_pool import BUSY_MESSAGE, RETRY_AFTER_SECONDS, VisionBusy

MESSAGES = {
    400: ("Yêu cầu không hợp lệ", "Trang đã cũ hoặc dữ liệu gửi lên không đúng. Quý khách vui lòng thử lại."),
    403: ("Không được phép", "Quý khách không có quyền mở trang này."),
    404: ("Không tìm thấy trang", "Trang quý khách tìm không tồn tại hoặc hồ sơ đã được đóng."),
    405: ("Thao tác không hợp lệ", "Thao tác này không được hỗ trợ ở đây."),
    409: ("Bước này đã đóng", "Bước này không còn thay đổi được. Vui lòng quay lại bước đang làm."),
    413: ("Tệp quá lớn", "Ảnh hoặc tệp gửi lên quá lớn. Vui lòng chụp lại hoặc chọn tệp nhỏ hơn."),
    500: ("Đã có lỗi", "Hệ thống gặp sự cố. Thông tin đã nhập vẫn được giữ lại; nhân viên sẽ hỗ trợ quý khách."),
    503: ("Máy đang bận", "Máy đang bận, xin chờ trong giây lát."),
}

_PLAIN = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/css/kiosk.css"></head>
<body><main class="kiosk-main"><section class="card"><h1 class="step-title">{title}</h1>
<p class="lead">{message}</p><a class="btn btn-primary" href="/">Về trang đầu</a></section></main>
</body></html>"""


def _reset_session() -> None:
    """Leave no failed transaction behind for the page (or the next request) to trip on."""
    unit_of_work.discard()


def plain_page(title: str, message: str) -> str:
    return _PLAIN.format(title=escape(title), message=escape(message))


def _render(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code, MESSAGES[500])
    message = detail or message
    _reset_session()
    try:
        body = render_template("errors/error.html", code=code, title=title, message=message)
    except Exception:
        current_app.logger.exception("error page could not be rendered; plain page sent")
        _reset_session()
        body = plain_page(title, message)
    headers = {"Cache-Control": "no-store"}
    if request.headers.get("HX-Request") == "true" and code in (400, 403):
        # An expired CSRF token or session: reload so the page gets a fresh one.
        headers["HX-Refresh"] = "true"
    return body, code, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err):
        # The route pattern, never the path: a path holds the registration token.
        rule = request.url_rule.rule if request.url_rule is not None else "?"
        app.logger.warning("CSRF refused on %s %s: %s", request.method, rule, err.description)
        return _render(400, "Phiên làm việc đã hết hạn hoặc thiếu mã bảo vệ. Vui lòng thử lại.")

    @app.errorhandler(VisionBusy)
    def _vision_busy(err):
        # Not a failure of the customer's: the photo analysis could not start (or finish) now.
        # 503 + Retry-After; the kiosk's scripts send the same request again by themselves.
        rule = request.url_rule.rule if request.url_rule is not None else "?"
        app.logger.info("vision busy (%s) on %s %s", err.reason, request.method, rule)
        _reset_session()
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        if request.headers.get("HX-Request") == "true":
            body = render_template("wizard/_busy.html", message=BUSY_MESSAGE,
                                   retry_after=RETRY_AFTER_SECONDS)
            return body, 503, headers
        body, _, more = _render(503, BUSY_MESSAGE + " Vui lòng gửi lại sau giây lát.")
        return body, 503, {**more, **headers}

    for code in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(code, lambda err, code=code: _render(code))
