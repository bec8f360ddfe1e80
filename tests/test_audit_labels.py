"""The console speaks Vietnamese: every audit event has a label, details are labelled fields,
actors are people, liveness results are words, and forms answer in Vietnamese (server-side,
never the browser's English «Please fill out this field.»)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kiosk.domain import audit_labels

from .staff_console import Clerk, login

KIOSK = Path(__file__).resolve().parents[1] / "kiosk"


def _recorded_event_names() -> set[str]:
    """The first string argument of every audit.record / refuse / key_rotation.record call, and
    the names assigned to a variable passed as the event (settings' package_created/_updated)."""
    names = set()
    for path in KIOSK.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in ("record", "refuse"):
                    continue
                for arg in node.args[:2]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.add(arg.value)
                        break
            elif (isinstance(node, ast.Assign) and len(node.targets) == 1
                  and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "event"
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
                names.add(node.value.value)
    return {n for n in names if re.fullmatch(r"[a-z][a-z0-9_]+", n)}


def test_every_recorded_event_has_a_vietnamese_label():
    names = _recorded_event_names()
    assert {"registration_started", "kyc_rejected", "package_created", "data_key_rotated",
            "stale_screen_refused"} <= names  # the scan finds every kind of call
    missing = sorted(names - set(audit_labels.EVENT_LABELS))
    assert missing == [], f"events without a label in domain/audit_labels.py: {missing}"


def test_actors_in_words():
    names = {"nv.hoa": "Lê Thị Hoa"}
    assert audit_labels.actor_label("customer") == "Khách hàng"
    assert audit_labels.actor_label("system") == "Máy (tự động)"
    assert audit_labels.actor_label("staff:nv.hoa", names) == "Lê Thị Hoa (nv.hoa)"
    assert audit_labels.actor_label("staff:nv.an", names) == "Nhân viên nv.an"


def test_liveness_and_details_in_words():
    assert audit_labels.liveness_words("failed", "timeout") == (
        "Không đạt — hết thời gian mà chưa làm xong các thao tác")
    assert audit_labels.liveness_words("passed", None) == "Đạt"
    fields = audit_labels.detail_fields("help_requested", {"reason": "otp_locked", "step": 5})
    assert [(f.label, f.value) for f in fields] == [
        ("Lý do", "Khách nhập sai mã kích hoạt quá số lần cho phép."), ("Bước", "5")]
    live = audit_labels.detail_fields("liveness_checked",
                                      {"state": "failed", "reason": "timeout", "still": True})
    assert live[0].value.startswith("Không đạt") and ("Hình đứng yên", "Có") in [
        (f.label, f.value) for f in live]


def test_the_detail_page_and_the_audit_log_show_words_not_codes(app, kiosk):
    kiosk.walk_to(3)
    number = kiosk.registration().number
    clerk = Clerk(app)
    clerk.post(f"/staff/r/{number}/cancel", {"reason": "other", "note": "Khách không mang giấy tờ"})
    for page in (clerk.html(f"/staff/r/{number}"), clerk.html(f"/staff/audit?number={number}")):
        html = page[page.index('<table class="table audit'):]
        html = html[:html.index("</table>")]
        assert "Bắt đầu đăng ký" in html and "Hủy hồ sơ" in html
        assert ">registration_started<" not in html and ">customer<" not in html
        assert "<td>Khách hàng</td>" in html and "<td>Nguyễn Thị Hoa (nv.hoa)</td>" in html
        assert "Khách không mang giấy tờ" in html  # Vietnamese unescaped
        assert "\\u00" not in html and "{&#34;" not in html and '{"' not in html
        assert "<dt>Lý do</dt><dd>lý do khác</dd>" in html
    audit = clerk.html("/staff/audit")
    assert '<option value="registration_started">Bắt đầu đăng ký</option>' in audit


def test_staff_forms_leave_validation_to_the_server(app):
    """No `required` form without `novalidate`: the browser would answer in English."""
    templates = Path(__file__).resolve().parents[1] / "templates" / "staff"
    for path in templates.glob("*.html"):
        for form in re.findall(r"<form\b[^>]*>.*?</form>", path.read_text(encoding="utf-8"), re.S):
            if re.search(r"\brequired\b", form):
                assert "novalidate" in form.split(">", 1)[0], (path.name, form[:120])


@pytest.mark.parametrize("path, data, message", [
    ("/staff/r/{number}/cancel", {"reason": ""}, "Vui lòng chọn lý do hủy."),
])
def test_empty_required_fields_get_a_vietnamese_answer(app, kiosk, path, data, message):
    kiosk.walk_to(2)
    clerk = Clerk(app)
    response = clerk.post(path.format(number=kiosk.registration().number), data)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_empty_sign_in_gets_a_vietnamese_answer(app):
    client = app.test_client()
    response = login(client, "", "")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r"Vui lòng|không đúng|chưa đúng", html), html[:2000]
