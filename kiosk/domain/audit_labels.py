"""The audit log in the clerks' words: event names, actors, detail fields and their values.

The log stores stable code names (``registration_started``, ``kyc_rejected``…) so that
queries, reports and tests never depend on wording; the console shows these labels instead.
tests/test_audit_labels.py holds every event name recorded anywhere in ``kiosk/`` to having a
label here, so a new event cannot reach the console as a code name.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain.kyc import CAPTURE_LABELS, HELP_REASONS, REVIEW_REASONS

EVENT_LABELS = {
    # the customer's registration, step by step
    "registration_started": "Bắt đầu đăng ký",
    "consent_given": "Khách đồng ý xử lý dữ liệu cá nhân",
    "step_completed": "Hoàn thành một bước",
    "step_order_refused": "Từ chối mở bước chưa tới",
    "readonly_change_refused": "Từ chối sửa thông tin đã khóa",
    "finished_reentry_refused": "Từ chối sửa hồ sơ đã hoàn tất",
    "stale_screen_refused": "Từ chối màn hình đã bỏ đi",
    "personal_details_refused": "Thông tin cá nhân chưa hợp lệ",
    "package_restored": "Khôi phục gói dịch vụ đã chọn",
    "current_address_picked": "Khách chọn địa chỉ hiện nay",
    "certificate_confirmed": "Khách xác nhận thông tin chứng thư số",
    "certificate_field_wrong": "Khách báo sai thông tin chứng thư số",
    "card_scanned": "Quét giấy tờ",
    "card_scan_failed": "Quét giấy tờ chưa được",
    "scan_corrected": "Khách sửa thông tin đọc từ giấy tờ",
    "card_checked": "Kiểm tra ảnh giấy tờ",
    "card_expired": "Giấy tờ đã hết hạn",
    "card_mismatch": "Giấy tờ không khớp thông tin đã khai",
    "chip_read": "Đọc chip giấy tờ",
    "chip_read_failed": "Đọc chip chưa được",
    "provisioning_refused": "Từ chối khởi tạo dịch vụ",
    "provisioning_failed": "Khởi tạo dịch vụ chưa được",
    "service_initialised": "Đã khởi tạo dịch vụ",
    "activation_code_verified": "Mã kích hoạt đúng",
    "activation_code_wrong": "Mã kích hoạt sai",
    "activation_code_expired": "Mã kích hoạt hết hạn",
    "activation_code_resent": "Gửi lại mã kích hoạt",
    "activation_locked": "Khóa bước nhập mã (sai quá số lần)",
    "password_created": "Khách tạo mật khẩu",
    "evidence_captured": "Chụp ảnh",
    "capture_refused": "Ảnh không dùng được",
    "liveness_checked": "Kiểm tra cử động khuôn mặt",
    "face_match": "So khớp khuôn mặt",
    "kyc_confirmed": "Xác nhận giấy tờ và khuôn mặt",
    "kyc_rejected": "Không xác nhận giấy tờ và khuôn mặt",
    "staff_confirmation_refused": "Từ chối xác nhận của nhân viên tại máy",
    "document_signed": "Ký văn bản",
    "pin_created": "Khách tạo mã PIN",
    "pin_refused": "Mã PIN chưa hợp lệ",
    "registration_finished": "Hoàn tất đăng ký",
    "receipt_printed": "In phiếu",
    "receipt_print_failed": "In phiếu chưa được",
    "receipt_reprinted": "Nhân viên in lại phiếu",
    "receipt_sent_to_screen": "Máy nhận phiếu in lại (in qua trình duyệt)",
    "idle_timeout": "Màn hình tự quay về trang đầu (không ai dùng)",
    "help_requested": "Gọi nhân viên",
    "help_handled": "Nhân viên đã hỗ trợ",
    # the clerks
    "review_approved": "Nhân viên xác nhận khuôn mặt",
    "review_rejected": "Nhân viên không xác nhận khuôn mặt",
    "review_retry_allowed": "Nhân viên cho khách thử lại một lượt",
    "original_document_seen": "Nhân viên đã xem bản gốc giấy tờ",
    "identity_record_exported": "Nhân viên xuất hồ sơ chứng cứ nhận dạng",
    "staff_verified_document": "Nhân viên kiểm tra chữ ký văn bản",
    "registration_cancelled": "Hủy hồ sơ",
    "registration_resumed": "Tiếp tục hồ sơ trên máy khác",
    "resume_code_issued": "Cấp mã tiếp tục hồ sơ",
    "otp_unlocked": "Mở khóa bước nhập mã",
    "staff_viewed_registration": "Nhân viên xem hồ sơ",
    "staff_viewed_photos": "Nhân viên xem ảnh",
    "staff_opened_document": "Nhân viên mở văn bản",
    "staff_login": "Nhân viên đăng nhập",
    "staff_login_refused": "Đăng nhập bị từ chối",
    "staff_logout": "Nhân viên đăng xuất",
    "staff_session_expired": "Phiên làm việc của nhân viên hết hạn",
    "staff_created": "Tạo tài khoản nhân viên",
    "staff_enabled": "Bật/tắt tài khoản nhân viên",
    "staff_role_changed": "Đổi quyền nhân viên",
    "staff_password_changed": "Nhân viên đổi mật khẩu",
    "staff_password_reset": "Đặt lại mật khẩu nhân viên",
    # settings and maintenance
    "office_created": "Thêm đơn vị",
    "office_updated": "Sửa thông tin đơn vị",
    "office_deactivated": "Ngừng đơn vị",
    "office_reactivated": "Mở lại đơn vị",
    "staff_office_changed": "Đổi đơn vị của nhân viên",
    "kiosk_saved": "Lưu thông tin quầy",
    "kiosk_enrollment_code_issued": "Tạo mã ghép máy kiosk",
    "kiosk_enrolled": "Ghép máy kiosk với quầy",
    "kiosk_revoked": "Thu hồi máy kiosk",
    "package_created": "Thêm gói dịch vụ",
    "package_updated": "Sửa gói dịch vụ",
    "images_purged": "Xóa ảnh hết hạn lưu",
    "data_key_rotated": "Đổi khóa mã hóa dữ liệu",
    "data_key_retired": "Bỏ khóa mã hóa cũ",
}

# Who did it. A clerk is stored as ``staff:<username>`` and shown by name (see actor_label).
ACTOR_LABELS = {"customer": "Khách hàng", "system": "Máy (tự động)"}

DETAIL_LABELS = {
    "accept_threshold": "Ngưỡng chấp nhận", "attempt": "Lần thử", "attempts": "Số lần",
    "automatic_decision": "Máy quyết định", "card_kind": "Loại giấy tờ", "challenge": "Thao tác",
    "columns": "Cột", "decision": "Kết quả", "detail": "Chi tiết", "digests": "Mã tra cứu",
    "distance": "Khoảng cách khuôn mặt", "document": "Văn bản", "duration_months": "Thời hạn (tháng)",
    "error": "Lỗi", "evidence": "Ảnh", "expiry_date": "Ngày hết hạn", "fields": "Trường",
    "finished": "Đã hoàn tất", "frames": "Số khung hình", "furthest": "Bước xa nhất",
    "hashes": "Mã băm", "keys": "Số khóa", "kind": "Loại", "kinds": "Loại", "kiosk": "Quầy",
    "mode": "Cách in", "mrz_found": "Thấy vùng MRZ", "mrz_valid": "Vùng MRZ hợp lệ",
    "note": "Ghi chú", "office": "Đơn vị", "outcome": "Kết quả", "package": "Gói", "portrait_found": "Thấy ảnh chân dung",
    "previous_kiosk": "Quầy trước", "price_vnd": "Giá (đồng)", "printer": "Máy in",
    "problems": "Vấn đề", "quality": "Chất lượng", "reason": "Lý do", "receipt_sha256": "Mã băm phiếu",
    "reject_threshold": "Ngưỡng từ chối", "retention_days": "Số ngày lưu", "role": "Quyền",
    "sends": "Số lần gửi", "sha256": "Mã băm", "side": "Mặt", "sides": "Các mặt",
    "source": "Nguồn", "sources": "Nguồn", "state": "Trạng thái", "step": "Bước", "steps": "Các bước",
    "still": "Hình đứng yên", "subscriber_ref": "Mã thuê bao", "text_sha256": "Mã băm văn bản",
    "username": "Tên đăng nhập", "version": "Phiên bản", "where": "Nơi",
    "reference": "So với", "raw_decision": "Kết quả trước khi xét", "liveness": "Kiểm tra cử động",
    "model": "Mô hình", "declared": "Đã khai", "to": "Gửi tới",
    "field": "Trường", "how": "Cách xác nhận", "valid_from": "Hiệu lực từ",
    "valid_until": "Hiệu lực đến", "unit": "Mã xã/phường", "valid": "Hợp lệ",
    "attempts_left": "Số lần còn lại",
}

# Liveness results in words (kiosk/vision/liveness: state, reason).
LIVENESS_STATES = {"passed": "Đạt", "failed": "Không đạt", "running": "Đang kiểm tra"}
LIVENESS_REASONS = {
    "timeout": "hết thời gian mà chưa làm xong các thao tác",
    "face_lost": "không thấy khuôn mặt trong khung hình",
    "face_changed": "khuôn mặt trong khung hình đã thay đổi",
    "wrong_action": "thao tác chưa đúng yêu cầu",
    "busy": "máy đang bận",
    "failed": "không đạt",
    "still": "hình đứng yên (có thể là ảnh chụp)",
}

DECISION_WORDS = {
    "match": "Khớp", "review": "Cần nhân viên xem", "no_match": "Không khớp",
    "staff_confirmed": "Nhân viên xác nhận", "staff_rejected": "Nhân viên không xác nhận",
    "no_face": "Không thấy khuôn mặt",
}

# Other code values a detail may hold, in words (anything not listed is shown as stored).
VALUE_WORDS = {
    **DECISION_WORDS,
    **LIVENESS_STATES,
    "card_portrait": "ảnh trên giấy tờ", "chip_portrait": "ảnh trong chip", "photo": "cả ảnh",
    "camera": "camera", "upload": "tải ảnh lên", "liveness": "kiểm tra cử động",
    "console": "bảng điều khiển", "kiosk": "tại máy", "browser": "trình duyệt của máy",
    "cups": "máy in (CUPS)", "file": "thư mục in", "kiosk_screen": "màn hình của máy",
    "none": "không gửi được", "contract": "hợp đồng",
    "acceptance": "biên bản nghiệm thu", "receipt": "phiếu", "front": "mặt trước", "back": "mặt sau",
    "approved": "đã xác nhận", "rejected": "không xác nhận", "cancelled": "đã hủy",
    "helped": "đã hỗ trợ", "resolved": "đã xử lý", "otp_unlocked": "đã mở khóa mã",
    "admin": "quản trị", "staff": "nhân viên",
    "customer_left": "khách đã về", "customer_request": "khách yêu cầu",
    "wrong_person_or_document": "sai người hoặc sai giấy tờ", "duplicate": "hồ sơ trùng",
    "other": "lý do khác",
    **{k: v.lower() for k, v in CAPTURE_LABELS.items()},
}


def event_label(event: str) -> str:
    return EVENT_LABELS.get(event, event)


def actor_label(actor: str | None, names: dict[str, str] | None = None) -> str:
    """«Khách hàng», «Máy (tự động)», or the clerk's name (``names``: username → full name)."""
    if not actor:
        return ""
    if actor in ACTOR_LABELS:
        return ACTOR_LABELS[actor]
    if actor.startswith("staff:"):
        username = actor[len("staff:"):]
        name = (names or {}).get(username)
        return f"{name} ({username})" if name else f"Nhân viên {username}"
    return actor


def liveness_words(state: str | None, reason: str | None = None) -> str:
    """«Không đạt — hết thời gian mà chưa làm xong các thao tác», not «failed — timeout»."""
    words = LIVENESS_STATES.get(state or "", state or "")
    if state != "passed" and reason:
        words += " — " + LIVENESS_REASONS.get(reason, reason)
    return words


@dataclass(frozen=True)
class DetailField:
    label: str
    value: str


def _value_words(key: str, value) -> str:
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    if isinstance(value, list):
        return ", ".join(_value_words(key, v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{DETAIL_LABELS.get(k, k)}: {_value_words(k, v)}" for k, v in value.items())
    if isinstance(value, str):
        if key == "reason":
            for table in (HELP_REASONS, LIVENESS_REASONS, REVIEW_REASONS):
                if value in table:
                    return table[value]
        if key == "problems" and value in REVIEW_REASONS:
            return REVIEW_REASONS[value]
        return VALUE_WORDS.get(value, value)
    return str(value)


def detail_fields(event: str, details: dict | None) -> list[DetailField]:
    """An event's details as labelled fields in words (never raw JSON)."""
    if not details:
        return []
    if event == "liveness_checked" and "state" in details:
        rest = {k: v for k, v in details.items() if k not in ("state", "reason")}
        return [DetailField("Kết quả", liveness_words(details.get("state"), details.get("reason"))),
                *detail_fields("", rest)]
    return [DetailField(DETAIL_LABELS.get(k, k), _value_words(k, v)) for k, v in details.items()]
