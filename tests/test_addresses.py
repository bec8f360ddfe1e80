"""Today's address (two tiers since 1/7/2025) beside the card's: the pure reading rules, the
data pinned, and step 3 proposing, asking or letting the customer type (docs/addresses.md).

The examples are real units of Thanh Hóa taken from the pinned data: «xã Hà Bình, huyện Hà
Trung» was split between xã Hoạt Giang and xã Hà Trung; «xã Nga Yên, huyện Nga Sơn» went whole
into xã Nga Sơn; «xã Hoằng Thái, huyện Hoằng Hóa» went whole into xã Hoằng Lộc.
"""
from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from kiosk.core.extensions import db
from kiosk.core.models import AuditEvent
from kiosk.domain import address_data
from kiosk.domain.address import current_text, readings, street_part
from kiosk.services import addresses

SPLIT = "Thôn 2, xã Hà Bình, huyện Hà Trung, tỉnh Thanh Hóa"
HOAT_GIANG, HA_TRUNG = "15286", "15271"
MERGED_WHOLE = "Xóm 4, xã Nga Yên, huyện Nga Sơn, Thanh Hóa"
NGA_SON = "16093"
ALREADY_NEW = "Thôn 1, xã Hoằng Hóa, tỉnh Thanh Hóa"
HOANG_LOC = "15961"
UNKNOWN = "Số 7, khu phố Lạ, nơi chưa có"


# ---- the data, pinned ------------------------------------------------------------------------

def test_pinned_data_has_thanh_hoas_166_units_of_today():
    units = address_data.units_of(38)
    assert len(units) == 166
    assert sum(u.name.startswith("Phường ") for u in units) == 19
    assert sum(u.name.startswith("Xã ") for u in units) == 147
    assert {u.province_label for u in units} == {"tỉnh Thanh Hóa"}
    versions = address_data.versions()
    assert versions["vietnam-provinces"] == "2025.10.1"
    assert versions["vietnam-address-converter"] == "1.0.5"


def test_a_city_province_is_labelled_thanh_pho():
    assert address_data.province_code("Thành phố Hà Nội") == address_data.province_code("Hà Nội")
    hanoi = address_data.search("Ba Đình", address_data.province_code("Hà Nội"))
    assert hanoi and hanoi[0].province_label == "thành phố Hà Nội"


# ---- reading the card's text (pure) ----------------------------------------------------------

def test_three_tier_text_is_read_into_street_commune_district_province():
    first = readings("Thôn 3, xã Hoằng Thái, huyện Hoằng Hóa, tỉnh Thanh Hóa")[0]
    assert (first.street, first.ward, first.district, first.province) == (
        "Thôn 3", "Hoằng Thái", "Hoằng Hóa", "Thanh Hóa")


def test_two_tier_text_has_no_district():
    (only,) = readings(ALREADY_NEW)
    assert only.two_tier and (only.street, only.ward, only.province) == (
        "Thôn 1", "Hoằng Hóa", "Thanh Hóa")


def test_city_ward_without_province_is_also_read_with_the_city_as_district():
    found = readings("Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa")
    assert any(r.district == "Thanh Hóa" and r.ward == "Điện Biên" and not r.province
               for r in found)


def test_street_part_keeps_everything_that_names_no_unit():
    assert street_part(UNKNOWN) == UNKNOWN
    assert street_part("Thôn 2, xã A, huyện B, tỉnh C") == "Thôn 2"


def test_current_text_writes_level_words_in_lower_case():
    assert current_text("Thôn 3", "Xã Hoằng Lộc", "tỉnh Thanh Hóa") == (
        "Thôn 3, xã Hoằng Lộc, tỉnh Thanh Hóa")
    assert current_text("", "Phường Hạc Thành", "tỉnh Thanh Hóa") == (
        "phường Hạc Thành, tỉnh Thanh Hóa")


# ---- the service -----------------------------------------------------------------------------

def test_split_commune_offers_the_units_it_went_into():
    proposal = addresses.propose(SPLIT)
    assert proposal.status == "ambiguous"
    assert sorted(addresses.ward_code_text(u) for u in proposal.units) == [HA_TRUNG, HOAT_GIANG]
    refused = addresses.resolve(SPLIT)
    assert isinstance(refused, addresses.AddressRefused) and "chạm vào nơi" in refused.message


def test_merged_whole_commune_converts_alone():
    current = addresses.resolve(MERGED_WHOLE)
    assert current == addresses.CurrentAddress("Xóm 4, xã Nga Sơn, tỉnh Thanh Hóa", NGA_SON,
                                               "converted")


def test_old_text_with_other_tone_marks_and_no_province_word_converts():
    current = addresses.resolve("Thôn 3, Xã Hoằng Thái, Huyện Hoằng Hoá, Thanh Hoá")
    assert (current.ward_code, current.text) == (HOANG_LOC, "Thôn 3, xã Hoằng Lộc, tỉnh Thanh Hóa")


def test_address_already_in_todays_form_stays():
    current = addresses.resolve(ALREADY_NEW)
    assert current.text == ALREADY_NEW and current.source == "converted"


def test_unknown_address_asks_to_type_and_a_pick_is_typed():
    assert addresses.resolve(UNKNOWN).message == addresses.NOT_FOUND
    current = addresses.resolve(UNKNOWN, HOANG_LOC)
    assert current == addresses.CurrentAddress(f"{UNKNOWN}, xã Hoằng Lộc, tỉnh Thanh Hóa",
                                               HOANG_LOC, "typed")


@pytest.mark.parametrize("code", ["99999", "abc", "١٥٩٦١", "1" * 7, "-15961"])
def test_bad_or_unknown_ward_code_is_refused(code):
    assert addresses.resolve(SPLIT, code) == addresses.AddressRefused(addresses.UNKNOWN_CODE)


def test_search_ignores_tone_marks_and_falls_back_to_the_whole_country():
    assert [u.name for u in addresses.search_units("hoang loc", 38)] == ["Xã Hoằng Lộc"]
    elsewhere = addresses.search_units("Hoàn Kiếm", 38)  # none in Thanh Hóa: the country
    assert elsewhere and all(u.province_code != 38 for u in elsewhere)
    assert addresses.search_units("", 38) == []


# ---- step 3 in the wizard --------------------------------------------------------------------

def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return unicodedata.normalize("NFC", response.get_data(as_text=True))


def _post3(kiosk, address, **extra):
    from tests.kiosk_driver import CUSTOMER

    data = {k: CUSTOMER[k] for k in ("full_name", "date_of_birth", "gender", "issue_date",
                                     "email")}
    return kiosk.post_step(3, {**data, "address": address, **extra})


def test_wizard_split_commune_asks_and_stores_the_choice(app, kiosk):
    kiosk.walk_to(3)
    html = _html(_post3(kiosk, SPLIT))
    assert "Xã Hoạt Giang, tỉnh Thanh Hóa" in html and "Xã Hà Trung, tỉnh Thanh Hóa" in html
    assert f'name="ward_code" value="{HOAT_GIANG}"' in html
    assert "chạm vào nơi" in html
    assert kiosk.registration().furthest_step == 3  # nothing stored yet

    response = _post3(kiosk, SPLIT, ward_code=HOAT_GIANG, address_seen=SPLIT)
    assert response.headers.get("HX-Push-Url", "").endswith("/step/4")
    data = kiosk.registration().data
    assert data["address"] == SPLIT  # the card's text, unchanged
    assert data["current_address"] == "Thôn 2, xã Hoạt Giang, tỉnh Thanh Hóa"
    assert (data["current_ward_code"], data["address_source"]) == (HOAT_GIANG, "chosen")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.event == "current_address_picked"))
        assert event.details == {"source": "chosen", "unit": HOAT_GIANG}


def test_wizard_merged_whole_commune_converts_without_asking(kiosk):
    kiosk.walk_to(3)
    assert _post3(kiosk, MERGED_WHOLE).headers.get("HX-Push-Url", "").endswith("/step/4")
    data = kiosk.registration().data
    assert data["current_address"] == "Xóm 4, xã Nga Sơn, tỉnh Thanh Hóa"
    assert (data["current_ward_code"], data["address_source"]) == (NGA_SON, "converted")


def test_wizard_shows_the_proposal_already_marked(kiosk):
    kiosk.walk_to(3)
    # Refused for the name: the list is made for the card's text, its lone unit marked. The
    # driver's card: «Phường Điện Biên, TP Thanh Hóa» is today's phường Hạc Thành.
    html = _html(kiosk.personal(full_name="Nguyen 123"))
    assert 'value="14797" checked' in html
    assert "Số 12 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa" in html


def test_wizard_revisit_shows_what_was_stored(kiosk):
    kiosk.walk_to(4)
    html = _html(kiosk.get(kiosk.url(3)))
    assert 'value="14797" checked' in html and CARD in html


def test_wizard_typed_pick_through_the_search(kiosk):
    kiosk.walk_to(3)
    html = _html(_post3(kiosk, UNKNOWN))
    assert "Chưa tìm được xã/phường hiện nay" in html and 'value="Nguyễn Văn An"' in html
    partial = _html(kiosk.client.get(
        f"/r/{kiosk.token}/step/3/wards", query_string={"ward_query": "hoằng lộc",
                                                         "address": UNKNOWN},
        headers={"HX-Request": "true"}))
    assert f'value="{HOANG_LOC}"' in partial and "<html" not in partial
    _post3(kiosk, UNKNOWN, ward_code=HOANG_LOC, address_seen=UNKNOWN)
    data = kiosk.registration().data
    assert data["current_address"] == f"{UNKNOWN}, xã Hoằng Lộc, tỉnh Thanh Hóa"
    assert (data["current_ward_code"], data["address_source"]) == (HOANG_LOC, "typed")


def test_wizard_search_without_javascript_posts_the_form_and_keeps_it(kiosk):
    kiosk.walk_to(3)
    html = _html(_post3(kiosk, UNKNOWN, action="find_ward", ward_query="Nga Sơn"))
    assert f'value="{NGA_SON}"' in html and 'value="Nguyễn Văn An"' in html
    assert "field-error" not in html
    assert kiosk.registration().furthest_step == 3


def test_wizard_search_with_no_hit_says_so(kiosk):
    kiosk.walk_to(3)
    partial = _html(kiosk.client.get(f"/r/{kiosk.token}/step/3/wards",
                                     query_string={"ward_query": "zzzz"}))
    assert "Không thấy xã/phường nào" in partial


def test_wizard_unknown_ward_code_is_refused_keeping_what_was_typed(kiosk):
    kiosk.walk_to(3)
    html = _html(_post3(kiosk, SPLIT, ward_code="99999", address_seen=SPLIT,
                        ward_query="Hà Trung"))
    assert addresses.UNKNOWN_CODE in html
    assert 'value="Nguyễn Văn An"' in html and SPLIT in html and 'value="Hà Trung"' in html
    assert kiosk.registration().furthest_step == 3


def test_wizard_address_edited_after_choosing_is_shown_again(kiosk):
    kiosk.walk_to(3)
    html = _html(_post3(kiosk, MERGED_WHOLE, ward_code=HOAT_GIANG, address_seen=SPLIT))
    assert "vừa sửa địa chỉ" in html and "Xã Nga Sơn, tỉnh Thanh Hóa" in html
    assert kiosk.registration().furthest_step == 3


def test_wizard_search_endpoint_is_closed_after_step_4(kiosk):
    kiosk.walk_to(5)
    assert kiosk.client.get(f"/r/{kiosk.token}/step/3/wards",
                            query_string={"ward_query": "Nga"}).status_code == 409


# ---- documents and the backend ---------------------------------------------------------------

def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))
    return re.sub(r"\s+", " ", text)


CARD = "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa"  # the driver's customer
TODAY = "Số 12 Lê Lai, phường Hạc Thành, tỉnh Thanh Hóa"


def test_contract_carries_todays_address_and_the_cards(kiosk):
    kiosk.walk_to(7)
    text = _pdf_text(kiosk.get(f"/r/{kiosk.token}/document/contract.pdf").data)
    assert f"Địa chỉ: {TODAY}" in text
    assert f"Địa chỉ trên giấy tờ: {CARD}" in text


def test_acceptance_record_carries_todays_address_and_the_cards(app, kiosk):
    from kiosk.services import paperwork

    kiosk.walk_to(10)
    with app.app_context():
        pdf = paperwork.latest_document(kiosk.row(), "acceptance").content
    text = _pdf_text(pdf)
    assert f"Địa chỉ: {TODAY}" in text and f"Địa chỉ trên giấy tờ: {CARD}" in text


def test_provisioning_sends_todays_address_to_the_backend(kiosk, monkeypatch):
    from kiosk.providers.smartca_sandbox import SandboxRegistrationBackend

    sent = {}
    original = SandboxRegistrationBackend.create_subscriber

    def spy(self, **kw):
        sent.update(kw)
        return original(self, **kw)

    monkeypatch.setattr(SandboxRegistrationBackend, "create_subscriber", spy)
    kiosk.walk_to(5)
    assert sent["address"] == TODAY


def test_a_street_read_as_a_commune_answers_nothing_rather_than_every_commune():
    # The library drops a name it does not know from its search; the seam must not pass on
    # the province's 166 units as «candidates».
    assert addresses.propose("Số 12 Lê Lai, TP Thanh Hóa").units == ()


def test_stale_district_keeps_the_card_province_only():
    # Đông Tiến left huyện Đông Sơn long ago; the library then searches the whole country.
    units = addresses.propose("Thôn Quyết Thắng, Xã Đông Tiến, Huyện Đông Sơn, Thanh Hóa").units
    assert units and {u.province_code for u in units} == {38}


def test_step_4_summary_shows_both_addresses(kiosk):
    kiosk.walk_to(4)
    html = _html(kiosk.get(kiosk.url(4)))
    assert CARD in html and TODAY in html and "Địa chỉ hiện nay" in html


def test_readonly_step_3_shows_the_stored_current_address(kiosk):
    kiosk.walk_to(5)
    html = _html(kiosk.get(kiosk.url(3)))
    assert TODAY in html and 'name="ward_query"' not in html


def test_staff_detail_shows_todays_address_and_how_it_was_settled(app, kiosk):
    from tests.staff_console import Clerk

    kiosk.walk_to(3)
    _post3(kiosk, SPLIT, ward_code=HA_TRUNG, address_seen=SPLIT)
    html = unicodedata.normalize("NFC", Clerk(app).html(f"/staff/r/{kiosk.registration().number}"))
    assert SPLIT in html and "Thôn 2, xã Hà Trung, tỉnh Thanh Hóa" in html
    assert "xã/phường cũ đã chia" in html


def test_wizard_block_follows_the_cards_text_as_it_is_typed(kiosk):
    kiosk.walk_to(3)
    html = _html(kiosk.get(kiosk.url(3)))
    assert "máy sẽ đề xuất địa chỉ hiện nay" in html  # nothing typed yet
    assert 'hx-get="/r/' in html and "/step/3/current-address" in html
    block = _html(kiosk.client.get(f"/r/{kiosk.token}/step/3/current-address",
                                   query_string={"address": SPLIT},
                                   headers={"HX-Request": "true"}))
    assert 'id="current-address"' in block
    assert "Xã Hoạt Giang, tỉnh Thanh Hóa" in block and "chạm vào nơi" in block
    assert f'name="address_seen" type="hidden" value="{SPLIT}"' in block


def test_documents_print_the_cards_text_only_when_it_reads_otherwise():
    from datetime import date

    from kiosk.documents.content import CustomerInfo, address_lines

    base = dict(full_name="Nguyễn Văn An", id_type_label="CCCD", id_number="038085012345",
                date_of_birth=date(1985, 9, 5), gender="Nam", phone_display="0912 345 678")
    assert address_lines(CustomerInfo(**base, address=ALREADY_NEW, card_address=ALREADY_NEW)) == [
        f"Địa chỉ: {ALREADY_NEW}"]
    assert address_lines(CustomerInfo(**base, address=CARD)) == [f"Địa chỉ: {CARD}"]  # before
    assert address_lines(CustomerInfo(**base, address=TODAY, card_address=CARD)) == [
        f"Địa chỉ: {TODAY}", f"Địa chỉ trên giấy tờ: {CARD}"]
