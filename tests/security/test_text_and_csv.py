"""Third attack pass, items 6 and 7: spreadsheet formulas in the CSV export, and characters a
person cannot see (or a contract cannot print) in free-text fields."""
from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date

import pytest

from kiosk.domain import free_text
from kiosk.services import reports
from tests.staff_console import csrf_of

# ---- 6. CSV formula injection ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"Bấm\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\tTab", "\rCR"])
def test_a_cell_starting_like_a_formula_is_exported_as_text(name):
    line = reports.Line(day=date(2026, 12, 1), kiosk="quay-01", kiosk_name=name)
    report = reports.Report(first=line.day, last=line.day, lines=[line], days=[line], total=line)
    rows = list(csv.reader(io.StringIO(reports.to_csv(report)[3:].decode("utf-8"))))
    assert rows[1][2] == "'" + name
    assert rows[1][0] == "2026-12-01" and rows[1][3] == "0"  # ordinary cells are untouched


def test_the_kiosk_name_an_admin_typed_reaches_the_csv_neutralised(app, kiosk):
    from kiosk.core.extensions import db
    from kiosk.core.models import Kiosk, utcnow
    from kiosk.domain.local_time import LOCAL_TZ
    from tests.staff_console import Clerk

    kiosk.walk_to(2)
    with app.app_context():
        row = db.session.query(Kiosk).filter_by(code="quay-01").one_or_none()
        if row is None:
            db.session.add(Kiosk(code="quay-01", name="=cmd|' /C calc'!A0"))
        else:
            row.name = "=cmd|' /C calc'!A0"
        db.session.commit()
    day = utcnow().astimezone(LOCAL_TZ).date().isoformat()
    response = Clerk(app).get(f"/staff/reports.csv?from={day}&to={day}")
    rows = list(csv.reader(io.StringIO(response.data[3:].decode("utf-8"))))
    assert rows[1][2] == "'=cmd|' /C calc'!A0"


# ---- 7. Hidden characters and emoji ---------------------------------------------------------

HIDDEN = ["\x00", "\u202e", "\u202a", "\u202d", "\u2066", "\u2069", "\u200e", "\u200f",
          "\u200b", "\ufeff", "\u00ad", "\x1b", "\ue000"]


@pytest.mark.parametrize("ch", HIDDEN)
def test_hidden_characters_are_named_as_such(ch):
    assert free_text.problem(f"Nguyễn{ch} Văn An") == free_text.HIDDEN_MESSAGE


def test_vietnamese_in_either_normal_form_passes_and_emoji_only_where_printed():
    for text in ("Nguyễn Thị Ánh Tuyết", unicodedata.normalize("NFD", "Phường Đông Vệ, Thanh Hóa"),
                 "Số 5, ngõ 12\r\nHà Nội"):
        assert free_text.problem(text, printed=True) is None
    assert free_text.problem("Nhà 😀 số 5", printed=True) == free_text.PICTURE_MESSAGE
    assert free_text.problem("1\ufe0f\u20e3 phố Huế", printed=True) == free_text.PICTURE_MESSAGE
    assert free_text.problem("nv.hoa 😀") is None  # not printed: only hidden characters matter


@pytest.mark.parametrize("field,value", [
    ("full_name", "Nguyễn Văn\u202e nA"),
    ("address", "Số 1 đường Lê Lợi\x00, Thanh Hóa"),
    ("address", "Số 1 \u2066đường Lê Lợi\u2069, Thanh Hóa"),
    ("email", "an\u200b@gmail.com"),
    ("address", "Số 1 đường Lê Lợi 🏠, Thanh Hóa"),
    ("full_name", "Nguyễn Văn An 😀"),
])
def test_step_3_refuses_hidden_characters_and_emoji_and_keeps_what_was_typed(kiosk, field, value):
    kiosk.walk_to(3)
    response = kiosk.personal(**{field: value})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    expected = free_text.PICTURE_MESSAGE if any(ord(c) > 0x1F000 for c in value) else free_text.HIDDEN_MESSAGE
    assert expected in html
    assert kiosk.registration().furthest_step == 3
    # what was typed stays in the box (the hidden character escaped or not, the letters are there)
    assert value.replace("\x00", "").split()[0] in html


def test_step_3_composes_decomposed_vietnamese_instead_of_refusing_it(kiosk):
    kiosk.walk_to(3)
    kiosk.personal(full_name=unicodedata.normalize("NFD", "Nguyễn Văn Ánh"),
                   address=unicodedata.normalize("NFD", "Số 5, phường Đông Vệ, Thanh Hóa"))
    reg = kiosk.registration()
    assert reg.furthest_step == 4
    assert reg.personal["full_name"] == unicodedata.normalize("NFC", "Nguyễn Văn Ánh")


def test_step_1_refuses_a_bidi_override_in_the_phone_box(kiosk):
    kiosk.start()
    html = kiosk.account(phone="\u202e0912345678").get_data(as_text=True)
    assert free_text.HIDDEN_MESSAGE in html


def test_console_sign_in_refuses_a_hidden_character_in_the_username(client):
    env = {"REMOTE_ADDR": "10.1.1.1"}
    token = csrf_of(client.get("/staff/login", environ_base=env).get_data(as_text=True))
    response = client.post("/staff/login", data={"csrf_token": token, "username": "nv.hoa\u202e",
                                                  "password": "x"}, environ_base=env)
    assert response.status_code == 200 and free_text.HIDDEN_MESSAGE in response.get_data(as_text=True)


def test_console_free_text_refuses_hidden_characters_and_printed_emoji(app):
    from tests.staff_console import ADMIN, Clerk, add_admin

    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    html = admin.post("/staff/accounts", {"username": "nv.minh", "full_name": "Trần\u202e Văn Minh",
                                          "role": "clerk", "password": "Minh@2026",
                                          "confirm": "Minh@2026"}).get_data(as_text=True)
    assert free_text.HIDDEN_MESSAGE in html and "Đã tạo tài khoản" not in html
    html = admin.post("/staff/kiosks", {"code": "quay-09", "name": "Quầy 9 🎉",
                                                 "printer": ""}).get_data(as_text=True)
    assert free_text.PICTURE_MESSAGE in html
    html = admin.post("/staff/kiosks", {"code": "quay-09", "name": "Quầy số 9",
                                                 "printer": ""}).get_data(as_text=True)
    assert free_text.PICTURE_MESSAGE not in html and free_text.HIDDEN_MESSAGE not in html
