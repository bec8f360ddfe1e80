"""kiosk.documents: Vietnamese text, fonts, signatures, sandbox marking, and the receipt.

PDFs are read back with pypdf (and poppler's pdftotext/pdftoppm where noted) and compared
after NFC normalisation, so a renderer that prints boxes, drops diacritics, or leaks a secret
fails here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import re
import shutil
import subprocess
import unicodedata
from datetime import date, datetime

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from kiosk.documents import (
    ACCEPTANCE_TITLE,
    CONTRACT_TITLE,
    RECEIPT_TITLE,
    CustomerInfo,
    DocumentContext,
    OfficeInfo,
    PackageInfo,
    ReceiptContext,
    Section,
    Signature,
    acceptance_sections,
    amount_in_words,
    contract_sections,
    format_date_vn,
    format_datetime_vn,
    format_duration,
    format_vnd,
    format_vnd_words,
    qr_png,
    register_fonts,
    render_acceptance,
    render_contract,
    render_receipt,
    sha256_hex,
)
from kiosk.documents import fonts as fonts_module

SANDBOX = "MÔI TRƯỜNG THỬ NGHIỆM"
PASSWORD = "Hoa@1234"
PIN = "908172"
BASE14 = {
    "Courier",
    "Courier-Bold",
    "Courier-Oblique",
    "Courier-BoldOblique",
    "Helvetica",
    "Helvetica-Bold",
    "Helvetica-Oblique",
    "Helvetica-BoldOblique",
    "Times-Roman",
    "Times-Bold",
    "Times-Italic",
    "Times-BoldItalic",
    "Symbol",
    "ZapfDingbats",
}


# --- fixtures and helpers ----------------------------------------------------------------


def make_customer(**changes) -> CustomerInfo:
    customer = CustomerInfo(
        full_name="Nguyễn Thị Hoà",
        id_type_label="CCCD",
        id_number="038190012345",
        date_of_birth=date(1990, 5, 17),
        gender="Nữ",
        address="Số 12 phố Trần Phú, Phường Điện Biên, TP Thanh Hóa",
        phone_display="0912 345 678",
        email="hoa.nguyen@example.vn",
        issue_date=date(2021, 4, 10),
    )
    return dataclasses.replace(customer, **changes)


PACKAGE = PackageInfo(name="SmartCA cá nhân PS0", duration_months=12, price_vnd=1_825_000)


def make_ctx(sandbox: bool = False, **customer_changes) -> DocumentContext:
    return DocumentContext(
        registration_number="TH-2026-000123",
        created_at=datetime(2026, 11, 24, 14, 5),
        customer=make_customer(**customer_changes),
        package=PACKAGE,
        office=OfficeInfo(),
        sandbox=sandbox,
    )


def make_receipt_ctx(
    sandbox: bool = False, office: OfficeInfo | None = None, customer_name: str = "Nguyễn Thị Hoà"
) -> ReceiptContext:
    return ReceiptContext(
        registration_number="TH-2026-000123",
        completed_at=datetime(2026, 11, 24, 14, 30),
        customer_name=customer_name,
        id_number="038190012345",
        package=PACKAGE,
        office=office or OfficeInfo(),
        sandbox=sandbox,
    )


def signature_png(size: tuple[int, int] = (600, 200)) -> bytes:
    """A pad-like drawing: dark strokes on a fully transparent background."""
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    w, h = size
    ImageDraw.Draw(picture).line(
        [(w * 0.1, h * 0.7), (w * 0.3, h * 0.2), (w * 0.5, h * 0.8), (w * 0.9, h * 0.3)],
        fill=(10, 30, 120, 255),
        width=max(3, h // 30),
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


SIGNATURE = Signature(png_bytes=signature_png(), signed_at=datetime(2026, 11, 24, 14, 12))


def clean(text: str) -> str:
    """NFC (extractors may emit decomposed marks) and single spaces (line wraps)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def page_texts(pdf: bytes) -> list[str]:
    return [clean(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(pdf: bytes) -> str:
    return " ".join(page_texts(pdf))


def pdftotext(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils pdftotext is not installed")
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return clean(result.stdout.decode("utf-8"))


RENDERERS = {
    "contract": lambda sandbox: render_contract(make_ctx(sandbox), SIGNATURE),
    "acceptance": lambda sandbox: render_acceptance(make_ctx(sandbox), SIGNATURE),
    "receipt": lambda sandbox: render_receipt(make_receipt_ctx(sandbox)),
}


# --- formatting helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1_825_000, "1.825.000 ₫"),
        (0, "0 ₫"),
        (999, "999 ₫"),
        (1000, "1.000 ₫"),
        (12_500_000, "12.500.000 ₫"),
    ],
)
def test_format_vnd_groups_thousands_with_dots(amount, expected):
    assert format_vnd(amount) == expected


def test_format_vnd_words_uses_dong():
    assert format_vnd_words(1_825_000) == "1.825.000 đồng"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1_825_000, "Một triệu tám trăm hai mươi lăm nghìn đồng"),
        (0, "Không đồng"),
        (10, "Mười đồng"),
        (14, "Mười bốn đồng"),
        (15, "Mười lăm đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi tư đồng"),
        (105, "Một trăm linh năm đồng"),
        (110, "Một trăm mười đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (2_000_000_000, "Hai tỷ đồng"),
    ],
)
def test_amount_in_words_reads_vietnamese_numbers(amount, expected):
    assert amount_in_words(amount) == expected


def test_date_and_time_formats():
    assert format_date_vn(date(2026, 11, 4)) == "04/11/2026"
    assert format_datetime_vn(datetime(2026, 11, 24, 14, 5)) == "14:05 ngày 24/11/2026"


@pytest.mark.parametrize("months", [12, 24, 36])
def test_duration_stays_in_months(months):
    assert format_duration(months) == f"{months} tháng"


def test_office_defaults_match_the_design_brief():
    office = OfficeInfo()
    assert (office.name, office.phone, office.hotline, office.email, office.website) == (
        "VNPT Thanh Hóa",
        "0237 3858000",
        "18001260 nhánh 1",
        "hotrodichvu.tha@vnpt.vn",
        "smartca.vnpt.vn",
    )
    assert office.address == "26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa"
    assert office.app_store_url.startswith("https://apps.apple.com/")
    assert office.play_store_url.startswith("https://play.google.com/store/search?q=VNPT")


# --- fonts -------------------------------------------------------------------------------


def test_register_fonts_is_idempotent():
    assert register_fonts() is register_fonts()


def test_registered_fonts_cover_every_vietnamese_letter():
    from reportlab.pdfbase import pdfmetrics

    lower = (
        "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
    )
    letters = lower + lower.upper() + "₫–“”…"
    names = register_fonts()
    for name in (names.regular, names.bold):
        face = pdfmetrics.getFont(name).face
        missing = [ch for ch in letters if face.charToGlyph.get(ord(ch), 0) == 0]
        assert missing == [], f"{name} has no glyph for {missing}"


def test_font_package_found_through_importlib_resources():
    source, regular, bold = fonts_module.load_font_data()
    assert source == "Be Vietnam Pro"
    assert regular[:4] == bold[:4] == b"\x00\x01\x00\x00"  # TrueType outlines


def test_fonts_fall_back_to_dejavu_without_the_package(monkeypatch):
    if not (fonts_module._DEJAVU_DIR / "DejaVuSans.ttf").exists():
        pytest.skip("DejaVu Sans not installed (fonts-dejavu-core)")
    monkeypatch.setattr(fonts_module, "_PACKAGE", "no_such_fontpkg_for_tests")
    assert fonts_module.load_font_data()[0] == "DejaVu Sans"


def test_no_font_at_all_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(fonts_module, "_PACKAGE", "no_such_fontpkg_for_tests")
    monkeypatch.setattr(fonts_module, "_DEJAVU_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="fontpkg-be-vietnam-pro"):
        fonts_module.load_font_data()


def _fonts(resources) -> list:
    """Fonts of a page, and of the form XObjects it draws (the signed customer's box)."""
    found = list(resources.get("/Font", {}).values())
    for xobject in resources.get("/XObject", {}).values():
        xobject = xobject.get_object()
        if xobject["/Subtype"] == "/Form" and "/Resources" in xobject:
            found.extend(_fonts(xobject["/Resources"]))
    return found


@pytest.mark.parametrize("kind", RENDERERS)
def test_every_font_is_embedded_truetype(kind):
    reader = PdfReader(io.BytesIO(RENDERERS[kind](False)))
    seen = 0
    for page in reader.pages:
        for font in _fonts(page["/Resources"]):
            font = font.get_object()
            base = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            assert base not in BASE14, f"unembedded standard font {base}"
            descriptor_owner = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descriptor_owner["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{base} is not embedded"
            seen += 1
    assert seen >= 2  # regular and bold


# --- contract ----------------------------------------------------------------------------


def test_contract_sections_are_sections_of_nfc_strings():
    sections = contract_sections(make_ctx(full_name=unicodedata.normalize("NFD", "Nguyễn Thị Hoà")))
    assert sections and all(isinstance(s, Section) for s in sections)
    strings = [s.title for s in sections] + [p for s in sections for p in s.paragraphs]
    assert all(unicodedata.is_normalized("NFC", s) for s in strings)
    assert any("Nguyễn Thị Hoà" in s for s in strings)


def _contract_text(ctx: DocumentContext | None = None) -> str:
    sections = contract_sections(ctx or make_ctx())
    return "\n".join([s.title for s in sections] + [p for s in sections for p in s.paragraphs])


def test_contract_names_both_parties():
    text = _contract_text()
    for expected in (
        "Họ và tên: Nguyễn Thị Hoà",
        "CCCD số: 038190012345",
        "ngày cấp: 10/04/2021",
        "Ngày sinh: 17/05/1990",
        "Số 12 phố Trần Phú, Phường Điện Biên, TP Thanh Hóa",
        "0912 345 678",
        "Bên cung cấp dịch vụ (Bên A): VNPT Thanh Hóa",
        "26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa",
        "0237 3858000",
        "hotrodichvu.tha@vnpt.vn",
    ):
        assert expected in text


def test_contract_states_package_duration_and_price():
    text = _contract_text()
    assert "Gói dịch vụ: SmartCA cá nhân PS0" in text
    assert "12 tháng" in text
    assert "1.825.000 đồng" in text
    assert "Một triệu tám trăm hai mươi lăm nghìn đồng" in text


def test_contract_binds_the_subscriber_to_keep_password_and_pin_secret():
    text = _contract_text()
    assert "mã PIN ký số gồm 6 chữ số" in text
    assert "không cho bất kỳ ai biết" in text
    assert "hotline 18001260 nhánh 1" in text


def test_contract_cites_the_personal_data_law_in_force_and_registration():
    text = _contract_text()
    # Luật 91/2025/QH15 and its decree 356/2025/NĐ-CP replaced Nghị định 13/2023 on 1/1/2026.
    assert "91/2025/QH15" in text and "356/2025/NĐ-CP" in text
    assert "13/2023" not in text
    assert "Mật khẩu và mã PIN ký số của Bên B không được lưu" in text
    assert "Số đăng ký: TH-2026-000123" in text
    assert "14:05 ngày 24/11/2026" in text


def test_contract_omits_email_line_when_customer_has_none():
    assert "hoa.nguyen@example.vn" not in _contract_text(make_ctx(email=None))


def test_contract_pdf_text_is_correct_vietnamese():
    text = pdf_text(render_contract(make_ctx()))
    assert CONTRACT_TITLE in text
    assert "Họ và tên: Nguyễn Thị Hoà" in text
    assert "1.825.000 đồng" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text


def test_contract_pdf_text_through_pdftotext():
    text = pdftotext(render_contract(make_ctx()))
    assert "Họ và tên: Nguyễn Thị Hoà" in text
    assert "Điều 5. Bảo vệ dữ liệu cá nhân" in text


def test_contract_pages_are_numbered_and_carry_the_registration_number():
    texts = page_texts(render_contract(make_ctx(), SIGNATURE))
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Trang {number}/{len(texts)}" in text
        assert "TH-2026-000123" in text


def test_unsigned_contract_has_no_image_and_no_signing_time():
    pdf = render_contract(make_ctx())
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) == 0
    assert "Ký lúc" not in pdf_text(pdf)


def test_signed_contract_shows_signature_image_and_time():
    pdf = render_contract(make_ctx(), SIGNATURE)
    last_page = PdfReader(io.BytesIO(pdf)).pages[-1]
    assert len(last_page.images) >= 1
    text = pdf_text(pdf)
    assert "Ký lúc 14:12 ngày 24/11/2026" in text
    assert "Đại diện VNPT Thanh Hóa" in text and "Khách hàng" in text


def _images(xobjects) -> list:
    """Image XObjects, also those drawn inside form XObjects (the customer's box is one)."""
    found = []
    for ref in xobjects.values():
        xobject = ref.get_object()
        if xobject["/Subtype"] == "/Image":
            found.append(xobject)
        elif "/XObject" in xobject.get("/Resources", {}):
            found.extend(_images(xobject["/Resources"]["/XObject"]))
    return found


def test_signature_keeps_its_transparency():
    pdf = render_contract(make_ctx(), SIGNATURE)
    images = _images(PdfReader(io.BytesIO(pdf)).pages[-1]["/Resources"]["/XObject"])
    assert images and all("/SMask" in image for image in images)


def test_huge_signature_is_scaled_into_its_box():
    small = render_contract(make_ctx(), SIGNATURE)
    huge = render_contract(make_ctx(), Signature(signature_png((4000, 1500)), SIGNATURE.signed_at))
    assert len(PdfReader(io.BytesIO(huge)).pages) == len(PdfReader(io.BytesIO(small)).pages)


def _signature_image(pdf: bytes):
    return _images(PdfReader(io.BytesIO(pdf)).pages[-1]["/Resources"]["/XObject"])[0]


def test_signature_is_stored_at_print_resolution_in_the_pads_ink():
    """A pad's 4000 px drawing is kept at ~200 dpi of its box, not at full size, and the
    picture is the ink's colour wherever the alpha mask lets it show."""
    import numpy as np

    from kiosk.documents.signature_image import SIGNATURE_DPI

    pdf = render_contract(make_ctx(), Signature(signature_png((4000, 1500)), SIGNATURE.signed_at))
    image = _signature_image(pdf)
    box_width_pt = (210 - 40) / 2 * 72 / 25.4  # half the A4 text width: the customer's column
    assert int(image["/Width"]) <= box_width_pt / 72 * SIGNATURE_DPI
    colours = np.frombuffer(image.get_data(), np.uint8).reshape(-1, 3)
    assert (colours == (10, 30, 120)).all()
    alpha = np.frombuffer(image["/SMask"].get_object().get_data(), np.uint8)
    assert alpha.max() == 255 and 0.005 < (alpha > 0).mean() < 0.5  # the strokes, and only them


def test_faint_signature_keeps_its_colour():
    """A drawing whose strokes are all half transparent (a pen setting, or a crafted upload)
    is still signed in its own colour, not refused or turned black."""
    import numpy as np

    picture = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(picture).line([(40, 150), (300, 40), (560, 160)], fill=(120, 20, 20, 90), width=8)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    image = _signature_image(render_contract(make_ctx(), Signature(buffer.getvalue(), SIGNATURE.signed_at)))
    colours = np.frombuffer(image.get_data(), np.uint8).reshape(-1, 3)
    assert (colours == (120, 20, 20)).all()


def test_unreadable_signature_is_rejected():
    with pytest.raises(ValueError):
        render_contract(make_ctx(), Signature(b"not a png", SIGNATURE.signed_at))


def test_blank_signature_is_rejected():
    blank = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(blank, format="PNG")
    with pytest.raises(ValueError, match="empty"):
        render_contract(make_ctx(), Signature(blank.getvalue(), SIGNATURE.signed_at))


def test_markup_characters_in_customer_data_are_printed_literally():
    address = "Lô 5 & 7 <khu A>, Phường Điện Biên"
    assert address in pdf_text(render_contract(make_ctx(address=address)))


def test_rendering_is_deterministic_and_hash_matches():
    """The text to sign is reproducible; a signed copy is not (pyHanko gives each update a new
    file identifier and modification time), but every signed copy begins with that text."""
    first = render_contract(make_ctx())
    assert first == render_contract(make_ctx())
    assert sha256_hex(first) == hashlib.sha256(first).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256_hex(first))
    signed = render_contract(make_ctx(), SIGNATURE)
    assert sha256_hex(first) != sha256_hex(signed) and signed.startswith(first)


def test_signed_copy_is_the_text_shown_plus_an_update():
    """What the screen showed is, byte for byte, the start of the signed file; the update
    after it only fills the customer's box, and pypdf and poppler both read the result."""
    unsigned = render_contract(make_ctx())
    signed = render_contract(make_ctx(), SIGNATURE)
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)
    update = signed[len(unsigned):]
    assert b"/Prev " in update and update.rstrip().endswith(b"%%EOF")
    assert len(PdfReader(io.BytesIO(signed)).pages) == len(PdfReader(io.BytesIO(unsigned)).pages)
    assert "Ký lúc 14:12 ngày 24/11/2026" in pdftotext(signed)
    # The text before the box is not repeated by the update: the customer's name once.
    assert pdf_text(signed).count("Nguyễn Thị Hoà") == pdf_text(unsigned).count("Nguyễn Thị Hoà")


def test_signing_does_not_move_the_layout():
    """The box and its time line are reserved in the text to sign: pages break in the same
    places whether signed or not (the signature never pushes a line to a new page)."""
    unsigned = page_texts(render_contract(make_ctx()))
    signed = page_texts(render_contract(make_ctx(), SIGNATURE))
    assert [t.replace("Ký lúc 14:12 ngày 24/11/2026", "").split() for t in signed] == \
        [t.split() for t in unsigned]


def test_signing_twice_gives_two_updates_of_the_same_text():
    from kiosk.documents import sign_pdf

    unsigned = render_acceptance(make_ctx())
    later = Signature(SIGNATURE.png_bytes, datetime(2026, 11, 24, 14, 20))
    first, second = sign_pdf(unsigned, SIGNATURE), sign_pdf(unsigned, later)
    assert first != second and first.startswith(unsigned) and second.startswith(unsigned)
    assert "Ký lúc 14:20 ngày 24/11/2026" in pdf_text(second)


def test_the_time_lines_font_is_read_once_per_thread_and_every_copy_shows_it(monkeypatch):
    import threading

    from kiosk.documents import sign_pdf
    from kiosk.documents import signing as signing_module

    reads = []
    reader = signing_module.PdfFileReader

    def counted(*args, **kwargs):  # the module reads only the kit with it
        reads.append(threading.get_ident())
        return reader(*args, **kwargs)

    monkeypatch.setattr(signing_module, "PdfFileReader", counted)
    monkeypatch.setattr(signing_module, "_kits", threading.local())  # nothing read yet
    unsigned = render_acceptance(make_ctx())
    copies = [sign_pdf(unsigned, SIGNATURE) for _ in range(3)]
    other = threading.Thread(target=lambda: copies.append(sign_pdf(unsigned, SIGNATURE)))
    other.start()
    other.join()
    assert len(reads) == 2 and len(set(reads)) == 2  # once here, once in the other thread
    assert len(copies) == 4
    for copy in copies:
        assert "Ký lúc 14:12 ngày 24/11/2026" in pdf_text(copy)


def test_time_line_with_a_character_outside_the_made_font_subset(monkeypatch):
    """The time line's font subset is made once per process from the characters a time line
    holds; a wording with another character gets a subset with it, not a missing glyph."""
    from kiosk.documents import sign_pdf, slot_drawing

    monkeypatch.setattr(slot_drawing, "format_datetime_vn", lambda dt: f"{dt:%H:%M} sáng thứ Hai")
    signed = sign_pdf(render_acceptance(make_ctx()), SIGNATURE)
    assert "Ký lúc 14:12 sáng thứ Hai" in pdftotext(signed)
    assert "Ký lúc 14:12 sáng thứ Hai" in pdf_text(signed)  # pypdf reads it through /ToUnicode


def test_signed_copies_share_nothing_but_the_font():
    """Two signings in one process: each update carries its own picture and a complete copy
    of the time line's font (a signed file stands alone), and the two differ only in those."""
    from kiosk.documents import sign_pdf

    unsigned = render_acceptance(make_ctx())
    other = Signature(signature_png((700, 300)), datetime(2026, 11, 24, 15, 5))
    first, second = sign_pdf(unsigned, SIGNATURE), sign_pdf(unsigned, other)
    for signed in (first, second):
        reader = PdfReader(io.BytesIO(signed), strict=True)
        fonts = [f.get_object() for page in reader.pages for f in _fonts(page["/Resources"])]
        assert len(fonts) >= 3  # the text's regular and bold, and the time line's
        assert all("/FontFile2" in f["/FontDescriptor"].get_object() for f in fonts)
    assert "Ký lúc 15:05 ngày 24/11/2026" in pdftotext(second)
    assert _signature_image(first)["/Width"] != _signature_image(second)["/Width"]


def test_update_cross_reference_points_at_its_objects():
    """Each entry of the update's xref section is the offset of the object it names, and the
    trailer chains back to the original section (pypdf reads it in strict mode)."""
    unsigned = render_contract(make_ctx())
    signed = render_contract(make_ctx(), SIGNATURE)
    update = signed[len(unsigned):].decode("latin-1")
    table = update[update.index("\nxref\n") + 6:update.rindex("trailer")].splitlines()
    checked = 0
    while table:
        first, count = map(int, table.pop(0).split())
        for number in range(first, first + count):
            offset, _generation, state = table.pop(0).split()
            if state == "f":  # the free list's head (object 0), which pyHanko writes again
                continue
            offset = int(offset)
            assert signed[offset:].startswith(f"{number} 0 obj\n".encode())
            checked += 1
    assert checked >= 3  # the box's form, at least one new object, the information
    previous = int(re.search(r"/Prev (\d+)", update).group(1))
    assert unsigned[previous:].startswith(b"xref")
    assert len(PdfReader(io.BytesIO(signed), strict=True).pages) >= 2


def test_signing_refuses_a_pdf_it_did_not_make():
    from kiosk.documents import sign_pdf

    with pytest.raises(ValueError):
        sign_pdf(render_receipt(make_receipt_ctx()), SIGNATURE)  # no customer's box
    with pytest.raises(ValueError):
        sign_pdf(b"%PDF-1.4\n%%EOF\n", SIGNATURE)


def test_pdf_creation_date_is_the_signing_time():
    reader = PdfReader(io.BytesIO(render_contract(make_ctx(), SIGNATURE)))
    assert reader.metadata.creation_date.replace(tzinfo=None) == SIGNATURE.signed_at


# --- acceptance record -------------------------------------------------------------------


def test_acceptance_sections_record_login_and_self_made_secrets():
    sections = acceptance_sections(make_ctx())
    text = "\n".join(p for s in sections for p in s.paragraphs)
    assert "Tên đăng nhập: 038190012345" in text
    assert "Mật khẩu đăng nhập: do Bên B tự tạo" in text
    assert "Mã PIN ký số gồm 6 chữ số: do Bên B tự tạo" in text
    assert "gói SmartCA cá nhân PS0, thời hạn 12 tháng" in text
    # Signed at the counter before the app is installed: it cannot claim a login already worked.
    assert "dịch vụ hoạt động bình thường" not in text and "đã đăng nhập được" not in text
    assert "Bên B đã tự tạo mật khẩu đăng nhập và mã PIN ký số" in text


def test_sample_price_is_not_printed_as_an_amount():
    ctx = dataclasses.replace(make_ctx(), package=dataclasses.replace(PACKAGE, price_is_sample=True))
    for sections in (contract_sections(ctx), acceptance_sections(ctx)):
        text = " ".join(p for s in sections for p in s.paragraphs)
        assert "1.825.000" not in text and "nhân viên xác nhận tại quầy" in text


def test_acceptance_pdf_text_and_signature():
    pdf = render_acceptance(make_ctx(), SIGNATURE)
    text = pdf_text(pdf)
    assert ACCEPTANCE_TITLE in text
    assert "Họ và tên: Nguyễn Thị Hoà" in text
    assert "Ký lúc 14:12 ngày 24/11/2026" in text
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) >= 1


# --- receipt -----------------------------------------------------------------------------


def test_receipt_is_80_mm_wide_single_page():
    reader = PdfReader(io.BytesIO(render_receipt(make_receipt_ctx())))
    assert len(reader.pages) == 1
    assert float(reader.pages[0].mediabox.width) == pytest.approx(226.77, abs=0.01)


def test_receipt_height_follows_content():
    short = PdfReader(io.BytesIO(render_receipt(make_receipt_ctx())))
    long_name = "Nguyễn Thị Hoà " * 12
    tall = PdfReader(io.BytesIO(render_receipt(make_receipt_ctx(customer_name=long_name))))
    assert len(tall.pages) == 1
    assert float(tall.pages[0].mediabox.height) > float(short.pages[0].mediabox.height)
    assert clean(long_name) in pdf_text(render_receipt(make_receipt_ctx(customer_name=long_name)))


def test_receipt_shows_title_customer_and_login_name():
    text = pdf_text(render_receipt(make_receipt_ctx()))
    assert RECEIPT_TITLE in text
    assert "Số đăng ký: TH-2026-000123" in text
    assert "14:30 ngày 24/11/2026" in text
    assert "Khách hàng: Nguyễn Thị Hoà" in text
    assert "Tên đăng nhập: 038190012345" in text


def test_receipt_shows_package_and_price():
    text = pdf_text(render_receipt(make_receipt_ctx()))
    assert "Gói dịch vụ: SmartCA cá nhân PS0" in text
    assert "Thời hạn: 12 tháng" in text
    assert "Giá: 1.825.000 ₫" in text


def test_receipt_reminds_of_password_and_pin_without_printing_them():
    text = pdf_text(render_receipt(make_receipt_ctx()))
    assert "Mật khẩu: do quý khách tự tạo (ít nhất 8 ký tự" in text
    assert "Phiếu này không in mật khẩu." in text
    assert "Mã PIN ký số: 6 chữ số do quý khách tự tạo. Phiếu này không in mã PIN." in text
    assert "Không cho ai biết mã PIN." in text


def test_receipt_prints_office_contact_and_app_instructions():
    text = pdf_text(render_receipt(make_receipt_ctx()))
    for expected in (
        "VNPT Thanh Hóa",
        "26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa",
        "Điện thoại: 0237 3858000",
        "Hotline: 18001260 nhánh 1",
        "Email: hotrodichvu.tha@vnpt.vn",
        "smartca.vnpt.vn",
        "Tải ứng dụng VNPT SmartCA",
        "App Store",
        "iPhone, iPad",
        "CH Play",
        "Android: Samsung, OPPO",
    ):
        assert expected in text


def test_receipt_qr_codes_decode_to_the_office_store_urls(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils pdftoppm is not installed")
    office = OfficeInfo(
        app_store_url="https://example.vn/ios-app", play_store_url="https://example.vn/android-app"
    )
    (tmp_path / "r.pdf").write_bytes(render_receipt(make_receipt_ctx(office=office)))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "200", tmp_path / "r.pdf", tmp_path / "r"], check=True
    )
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(next(tmp_path.glob("r*.png"))))}
    assert found == {"https://example.vn/ios-app", "https://example.vn/android-app"}


def test_qr_png_is_a_decodable_png():
    zxingcpp = pytest.importorskip("zxingcpp")
    url = "https://play.google.com/store/search?q=VNPT%20SmartCA&c=apps"
    data = qr_png(url)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))] == [url]


# --- secrets and sandbox -----------------------------------------------------------------


@pytest.mark.parametrize(
    "func",
    [render_receipt, render_contract, render_acceptance, contract_sections, acceptance_sections],
)
def test_no_renderer_accepts_a_password_or_pin(func):
    names = " ".join(inspect.signature(func).parameters).lower()
    assert not re.search(r"pass|pin|secret|mat_?khau", names)


@pytest.mark.parametrize("cls", [ReceiptContext, DocumentContext, CustomerInfo])
def test_no_input_type_has_a_password_or_pin_field(cls):
    names = " ".join(f.name for f in dataclasses.fields(cls)).lower()
    assert not re.search(r"pass|pin|secret|mat_?khau", names)


@pytest.mark.parametrize("kind", RENDERERS)
def test_password_and_pin_never_appear(kind):
    pdf = RENDERERS[kind](True)
    text = pdf_text(pdf)
    assert PASSWORD not in text and PIN not in text
    assert PASSWORD.encode() not in pdf and PIN.encode() not in pdf


@pytest.mark.parametrize("kind", RENDERERS)
def test_sandbox_label_on_every_page_when_sandbox(kind):
    texts = page_texts(RENDERERS[kind](True))
    assert texts and all(SANDBOX in text for text in texts)


@pytest.mark.parametrize("kind", RENDERERS)
def test_no_sandbox_label_in_production(kind):
    assert "THỬ NGHIỆM" not in pdf_text(RENDERERS[kind](False)).upper()


def test_decomposed_input_draws_the_same_as_composed():
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    assert nfd != "Nguyễn Thị Hoà"
    assert render_receipt(make_receipt_ctx(customer_name=nfd)) == render_receipt(make_receipt_ctx())
    assert render_contract(make_ctx(full_name=nfd)) == render_contract(make_ctx())


def test_timezone_aware_times_keep_their_offset_in_pdf_metadata():
    from datetime import timedelta, timezone

    ict = timezone(timedelta(hours=7))
    ctx = dataclasses.replace(
        make_receipt_ctx(), completed_at=datetime(2026, 11, 24, 14, 30, tzinfo=ict)
    )
    created = PdfReader(io.BytesIO(render_receipt(ctx))).metadata.creation_date
    assert created == datetime(2026, 11, 24, 14, 30, tzinfo=ict)
    assert "14:30 ngày 24/11/2026" in pdf_text(render_receipt(ctx))
