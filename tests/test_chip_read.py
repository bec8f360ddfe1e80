"""Whole reads against the simulated chip (kiosk/chip/simulated.py), happy and unhappy."""
from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kiosk.chip import (
    AccessDenied,
    BadKey,
    ChipError,
    MrzKey,
    SecureMessagingError,
    TransportError,
    UnsupportedError,
    active_auth,
    can_from_id_number,
    lds,
    read_card,
)
from kiosk.chip.errors import ParseError
from kiosk.chip.simulated import (
    SAMPLE_PERSON,
    CardFiles,
    Person,
    SimulatedChip,
    make_card_files,
    make_test_pki,
)
from kiosk.chip.tlv import tlv


@pytest.fixture(scope="module")
def pki():
    return make_test_pki()


@pytest.fixture(scope="module")
def files(pki):
    return make_card_files(SAMPLE_PERSON, pki)


def chip(files, **kw) -> SimulatedChip:
    return SimulatedChip(files, SAMPLE_PERSON, **kw)


def test_pace_read_returns_every_data_group_verified(files):
    result = read_card(chip(files), can=SAMPLE_PERSON.can)
    assert result.access == "PACE"
    dg13 = result.data_groups["DG13"]
    assert dg13["id_number"] == "038195001234"
    assert dg13["full_name"] == "Nguyễn Thị Thu Hà"
    assert (dg13["father_name"], dg13["mother_name"]) == ("Nguyễn Văn Hùng", "Lê Thị Mai")
    assert dg13["old_id_number"] == "173456789"
    assert dg13["residence"].startswith("Số 12 Lê Lợi")
    dg1 = result.data_groups["DG1"]
    assert (dg1["format"], dg1["document_number"], dg1["birth_date"]) == ("TD1", "195001234", "950412")
    assert dg1["check_digits_ok"] is True
    assert result.portrait.mime == "image/jpeg" and result.portrait.data == files.jpeg
    assert result.passive.level == "signature"
    assert set(result.passive.data_groups.values()) == {"match"}
    assert result.active_auth["result"] == "passed"
    assert set(result.timings_ms) >= {"access", "DG1", "DG2", "DG13", "SOD", "total"}


def test_as_dict_reports_the_portrait_by_size_and_hash_only(files):
    out = read_card(chip(files), can=SAMPLE_PERSON.can).as_dict()
    assert out["portrait"]["sha256"] == hashlib.sha256(files.jpeg).hexdigest()
    assert out["portrait"]["bytes"] == len(files.jpeg)
    assert "data" not in out["portrait"]
    import json

    json.dumps(out)  # JSON-serialisable as it is


def test_bac_only_chip_is_read_with_the_mrz_key(files):
    result = read_card(chip(files, pace=False), mrz_key=SAMPLE_PERSON.mrz_key)
    assert result.access == "BAC"
    assert result.passive.level == "signature"
    assert result.data_groups["DG13"]["full_name"] == "Nguyễn Thị Thu Hà"


def test_card_access_read_by_short_file_id(files):
    card = chip(files, card_access_by_sfi_only=True)
    assert read_card(card, can=SAMPLE_PERSON.can).access == "PACE"
    assert any(apdu[:4] == bytes.fromhex("00B09C00") for apdu in card.log)


def test_pace_with_the_mrz_key_when_no_can(files):
    assert read_card(chip(files), mrz_key=SAMPLE_PERSON.mrz_key).access == "PACE"


def test_bac_only_chip_with_only_a_can_says_the_mrz_is_needed(files):
    with pytest.raises(UnsupportedError) as err:
        read_card(chip(files, pace=False), can=SAMPLE_PERSON.can)
    assert "MRZ" in err.value.message


def test_wrong_can_is_refused(files):
    with pytest.raises(AccessDenied) as err:
        read_card(chip(files), can="000000")
    assert "CAN" in err.value.message


def test_wrong_can_falls_back_to_bac_when_the_mrz_key_is_right(files):
    result = read_card(chip(files), can="000000", mrz_key=SAMPLE_PERSON.mrz_key)
    assert result.access == "BAC"


def test_wrong_mrz_key_is_refused_by_bac(files):
    wrong = MrzKey(SAMPLE_PERSON.document_number, "950413", SAMPLE_PERSON.expiry_date)
    with pytest.raises(AccessDenied) as err:
        read_card(chip(files, pace=False), mrz_key=wrong)
    assert "ngày sinh" in err.value.message


@pytest.mark.parametrize("name", ["DG1", "DG2", "DG13"])
def test_tampered_data_group_fails_its_hash(files, name):
    card = chip(files)
    card.tamper(name)
    result = read_card(card, can=SAMPLE_PERSON.can)
    assert result.passive.level == "none"
    assert result.passive.data_groups[int(name[2:])] == "mismatch"
    assert f"dg{name[2:]}_hash_mismatch" in result.passive.problems
    assert "không xác thực" in result.passive.message.lower()


def test_broken_sod_signature_stops_at_hashes(files):
    card = chip(files)
    card.tamper("SOD", -1)  # the last byte of the SOD is the end of the signer's signature
    result = read_card(card, can=SAMPLE_PERSON.can)
    assert result.passive.level == "hashes"
    assert "bad_signature" in result.passive.problems


def test_sod_signed_for_other_data_fails(pki):
    other = make_card_files(Person(full_name="Trần Văn B"), pki)
    mine = make_card_files(SAMPLE_PERSON, pki)
    swapped = CardFiles(dict(mine.files, SOD=other.files["SOD"]), mine.aa_key, mine.jpeg, pki)
    result = read_card(SimulatedChip(swapped, SAMPLE_PERSON), can=SAMPLE_PERSON.can)
    assert result.passive.level == "none"
    assert result.passive.data_groups[13] == "mismatch"


def test_csca_chain_verified_when_installed(files, pki, tmp_path):
    (tmp_path / "csca-vn.pem").write_bytes(pki.csca_pem())
    (tmp_path / "junk.pem").write_bytes(b"not a certificate")
    result = read_card(chip(files), can=SAMPLE_PERSON.can, csca_dir=tmp_path)
    assert result.passive.level == "chain"
    assert "TEST CSCA VN" in result.passive.csca


def test_another_csca_does_not_chain(files, tmp_path):
    (tmp_path / "other.pem").write_bytes(make_test_pki("TEST CSCA VN").csca_pem())  # same name, other key
    result = read_card(chip(files), can=SAMPLE_PERSON.can, csca_dir=tmp_path)
    assert result.passive.level == "signature"
    assert "csca_not_found" in result.passive.problems


@pytest.mark.parametrize("after", [3, 12, 30, 55])
def test_card_removed_mid_read_is_a_transport_error(files, after):
    with pytest.raises(TransportError) as err:
        read_card(chip(files, remove_after=after), can=SAMPLE_PERSON.can)
    assert "thẻ" in err.value.message


class FlipResponses:
    """Corrupts one byte of every response after the secure channel is up (a meddling relay)."""

    def __init__(self, inner, start: int):
        self.inner, self.start, self.count = inner, start, 0

    def transmit(self, apdu: bytes) -> bytes:
        self.count += 1
        response = self.inner.transmit(apdu)
        if self.count > self.start and len(response) > 4:
            response = bytes([response[0] ^ 0x40]) + response[1:]
        return response


def test_tampered_secure_messaging_is_refused(files):
    with pytest.raises(SecureMessagingError):
        read_card(FlipResponses(chip(files), 12), can=SAMPLE_PERSON.can)


def test_clone_with_another_chip_key_fails_active_authentication(files):
    clone = CardFiles(files.files, ec.generate_private_key(ec.SECP256R1()), files.jpeg, files.pki)
    result = read_card(SimulatedChip(clone, SAMPLE_PERSON), can=SAMPLE_PERSON.can)
    assert result.passive.level == "signature"  # the copied data still verifies...
    assert result.active_auth["result"] == "failed"  # ...but the chip cannot sign


def test_chip_without_dg15_reports_no_active_authentication(pki):
    files = make_card_files(SAMPLE_PERSON, pki, with_aa=False)
    result = read_card(SimulatedChip(files, SAMPLE_PERSON), can=SAMPLE_PERSON.can)
    assert result.active_auth["result"] == "not_offered"
    assert result.passive.level == "signature"


def test_small_chunks_read_the_same_data(files):
    result = read_card(chip(files), can=SAMPLE_PERSON.can, chunk=0x40)
    assert result.portrait.data == files.jpeg


def test_garbage_transport_answers_are_errors_not_crashes(files):
    class Garbage:
        def transmit(self, apdu):
            return b"\x90"

    with pytest.raises(ChipError):
        read_card(Garbage(), can="123456")


# --- keys ------------------------------------------------------------------------------------------
def test_can_is_the_last_six_digits():
    assert can_from_id_number("038095001234") == "001234"
    for bad in ("", "12345", "03809500123X", "0380950012345"):
        with pytest.raises(BadKey):
            can_from_id_number(bad)


@pytest.mark.parametrize("text", ["", "A:B", "123456789:951312:350412", "12345:950412:35041"])
def test_bad_mrz_keys_are_refused_in_vietnamese(text):
    with pytest.raises(BadKey) as err:
        MrzKey.parse(text)
    assert err.value.message


def test_read_needs_a_key(files):
    with pytest.raises(BadKey):
        read_card(chip(files))
    with pytest.raises(BadKey):
        read_card(chip(files), can="12a456")


# --- parsers on malformed input ---------------------------------------------------------------------
@pytest.mark.parametrize("parser, data", [
    (lds.parse_dg1, tlv(0x62, b"x")), (lds.parse_dg1, tlv(0x61, tlv(0x5F1F, b"SHORT"))),
    (lds.parse_dg2, tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01")))), (lds.parse_dg13, tlv(0x6D, b"")),
    (lds.parse_dg13, b"\x6D\x05\x30"), (lds.parse_dg15, tlv(0x6F, b"\x30\x00")), (lds.parse_com, b""),
])
def test_malformed_files_give_a_parse_error(parser, data):
    with pytest.raises(ParseError) as err:
        parser(data)
    assert err.value.message


def test_unknown_dg13_fields_are_kept_apart():
    def f(n, text):
        return tlv(0x30, tlv(0x02, bytes([n])) + tlv(0x0C, text.encode()))

    parsed = lds.parse_dg13(tlv(0x6D, tlv(0x30, f(2, "Lê Văn C") + f(42, "?"))))
    assert parsed["full_name"] == "Lê Văn C"
    assert parsed["other"] == {"42": ["?"]}


def test_jpeg2000_portrait_is_found():
    j2k = b"\xff\x4f\xff\x51" + os.urandom(50)
    bdb = b"FAC\x00010\x00" + bytes(6) + bytes(20) + b"\x01\x01" + bytes(10) + j2k
    dg2 = tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01") + tlv(0x7F60, tlv(0x5F2E, bdb))))
    face = lds.parse_dg2(dg2)
    assert face.mime == "image/jp2" and face.data == j2k


# --- active authentication with RSA (ISO/IEC 9796-2 scheme 1) ------------------------------------------
def test_rsa_active_authentication_signature():
    key = rsa.generate_private_key(65537, 1024)
    n, d = key.public_key().public_numbers().n, key.private_numbers().d
    nonce = os.urandom(8)
    m1 = os.urandom(128 - 20 - 2)
    recovered = b"\x6a" + m1 + hashlib.sha1(m1 + nonce).digest() + b"\xbc"
    signature = pow(int.from_bytes(recovered, "big"), d, n).to_bytes(128, "big")
    from cryptography.hazmat.primitives import serialization

    aa_key = lds.ActiveAuthKey("rsa", key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
    assert active_auth.verify(aa_key, nonce, signature)
    assert not active_auth.verify(aa_key, os.urandom(8), signature)


def test_data_group_with_an_unknown_tag_is_reported_and_the_rest_read(pki):
    from kiosk.chip.simulated import sign_sod

    base = make_card_files(SAMPLE_PERSON, pki)
    files = dict(base.files, DG13=tlv(0x5A, b"\x01\x02"))  # signed, but not a DG13
    numbers = {int(n[2:]): v for n, v in files.items() if n.startswith("DG")}
    files["SOD"] = sign_sod(numbers, pki)
    result = read_card(SimulatedChip(CardFiles(files, base.aa_key, base.jpeg, pki), SAMPLE_PERSON),
                       can=SAMPLE_PERSON.can)
    assert result.errors["DG13"]["error"] == "parse" and "DG13" in result.errors["DG13"]["message"]
    assert "DG13" not in result.data_groups
    assert result.portrait.data == base.jpeg and result.passive.level == "signature"
