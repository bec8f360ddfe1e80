"""ICAO 9303 part 11 worked examples, with their published values.

BAC: appendix D (MRZ information "L898902C<369080619406236"): key derivation, mutual
authentication, session keys, SSC and the secure-messaging SELECT EF.COM / READ BINARY APDUs.
PACE: appendix G.1 (ECDH generic mapping on brainpoolP256r1, AES-128), MRZ password of the
"T22000129" specimen: K_pi, nonce, mapping, key agreement, session keys and tokens.
"""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as cec

from kiosk.chip import bac, pace
from kiosk.chip import primitives as p
from kiosk.chip.apdu import read_binary, select_file
from kiosk.chip.ec import BRAINPOOL_P256R1, P256, P384
from kiosk.chip.keys import MrzKey
from kiosk.chip.sm import SecureChannel
from kiosk.chip.tlv import iter_tlv, tlv


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


class Scripted:
    """A transport that checks each command against the worked example and replays its answer."""

    def __init__(self, *exchanges):
        self.exchanges = list(exchanges)

    def __call__(self, apdu: bytes) -> bytes:
        expect, answer = self.exchanges.pop(0)
        if expect is not None:
            assert expect(apdu), apdu.hex().upper()
        return answer


# --- BAC (appendix D) ---------------------------------------------------------------------------
ICAO_MRZ = MrzKey("L898902C", "690806", "940623")


def test_bac_key_derivation():
    assert ICAO_MRZ.mrz_information() == "L898902C<369080619406236"
    assert ICAO_MRZ.key_seed() == h("239AB9CB282DAF66231DC5A4DF6BFBAE")
    keys = bac.BacKeys.from_mrz(ICAO_MRZ)
    assert keys.k_enc == h("AB94FDECF2674FDFB9B391F85D7F76F2")
    assert keys.k_mac == h("7962D9ECE03D1ACD4C76089DCE131543")


def test_bac_mutual_authentication_and_session_keys():
    cmd_data = h("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7")
    resp_data = h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449")
    transmit = Scripted(
        (lambda a: a == h("0084000008"), h("4608F91988702212 9000")),
        (lambda a: a == h("0082000028") + cmd_data + b"\x28", resp_data + h("9000")),
    )
    channel = bac.authenticate(transmit, ICAO_MRZ, rnd_ifd=h("781723860C06C226"),
                               k_ifd=h("0B795240CB7049B01C19B33E32804F0B"))
    assert channel.ks_enc == h("979EC13B1CBFE9DCD01AB0FED307EAE5")
    assert channel.ks_mac == h("F1CB1F1FB5ADF208806B89DC579DC1F8")
    assert channel.ssc_bytes() == h("887022120C06C226")


def test_bac_card_answer_with_wrong_mac_is_refused():
    from kiosk.chip.errors import SecureMessagingError

    resp_data = h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7448")
    transmit = Scripted((None, h("4608F91988702212 9000")), (None, resp_data + h("9000")))
    with pytest.raises(SecureMessagingError):
        bac.authenticate(transmit, ICAO_MRZ, rnd_ifd=h("781723860C06C226"),
                         k_ifd=h("0B795240CB7049B01C19B33E32804F0B"))


def _icao_channel() -> SecureChannel:
    return SecureChannel("3DES", h("979EC13B1CBFE9DCD01AB0FED307EAE5"),
                         h("F1CB1F1FB5ADF208806B89DC579DC1F8"), int("887022120C06C226", 16))


def test_bac_secure_messaging_select_and_read_binary():
    channel = _icao_channel()
    assert channel.protect(select_file(0x011E)) == h(
        "0CA4020C15 8709016375432908C044F6 8E08BF8B92D635FF24F8 00")
    assert channel.unprotect(h("990290008E08FA855A5D4C50A8ED9000")) == (b"", 0x9000)
    assert channel.protect(read_binary(0, 4)) == h("0CB000000D 970104 8E08ED6705417E96BA55 00")
    data, sw = channel.unprotect(h("8709019FF0EC34F9922651 99029000 8E08AD55CC17140B2DED 9000"))
    assert (data, sw) == (h("60145F01"), 0x9000)
    assert channel.ssc_bytes() == h("887022120C06C22A")


def test_bac_response_with_a_flipped_mac_is_refused():
    from kiosk.chip.errors import SecureMessagingError

    channel = _icao_channel()
    channel.protect(select_file(0x011E))
    with pytest.raises(SecureMessagingError):
        channel.unprotect(h("990290008E08FA855A5D4C50A8EC9000"))


def test_bare_status_words_under_secure_messaging():
    from kiosk.chip.errors import SecureMessagingError

    channel = _icao_channel()
    assert channel.unprotect(h("6A82")) == (b"", 0x6A82)  # an error without SM objects is that error
    for bare in ("9000", "6988", "6987"):  # ...but never a success or an SM failure
        with pytest.raises(SecureMessagingError):
            channel.unprotect(h(bare))


def test_card_side_of_secure_messaging_mirrors_the_terminal():
    terminal, card = _icao_channel(), _icao_channel()
    cmd = card.unprotect_command(terminal.protect(select_file(0x011E)))
    assert (cmd.ins, cmd.data) == (0xA4, h("011E"))
    assert terminal.unprotect(card.protect_response(b"hello", 0x9000)) == (b"hello", 0x9000)


# --- PACE ECDH generic mapping (appendix G.1) ------------------------------------------------------
G1_MRZ = MrzKey("T22000129", "640812", "101031")
NONCE = h("3F00C4D39D153F2B2A214A078D899B22")
SK_MAP_IFD = int("7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99", 16)
SK_IFD = int("A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595", 16)
PK_MAP_IFD = h("04 7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
               "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")
PK_MAP_IC = h("04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
              "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54")
H_POINT = h("04 60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
            "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181")
G_MAPPED = h("04 8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
             "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522")
PK_IFD = h("04 2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
           "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
PK_IC = h("04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
          "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
SHARED_K = h("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
KS_ENC, KS_MAC = h("F5F0E35C0D7161EE6724EE513A0D9A7F"), h("FE251C7858B356B24514B3BD5F4297D1")
T_IFD, T_IC = h("C2B0BD78D94BA866"), h("3ABB9674BCE93C08")
ENCRYPTED_NONCE = h("95A3A016522EE98D01E76CB6B98B42C3")
INFO = pace.PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13)


def test_pace_password_and_nonce():
    assert G1_MRZ.pace_password() == h("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
    k_pi = pace.password_key(G1_MRZ.pace_password(), "AES", 128)
    assert k_pi == h("89DED1B26624EC1E634C1989302849DD")
    assert p.aes_decrypt(k_pi, ENCRYPTED_NONCE) == NONCE


def test_pace_generic_mapping_key_agreement_and_tokens():
    c = BRAINPOOL_P256R1
    assert c.encode(c.mul(SK_MAP_IFD, c.g)) == PK_MAP_IFD
    h_point = c.mul(SK_MAP_IFD, c.decode(PK_MAP_IC))
    assert c.encode(h_point) == H_POINT
    g_mapped = pace.map_generator(c, NONCE, h_point)
    assert c.encode(g_mapped) == G_MAPPED
    assert c.encode(c.mul(SK_IFD, g_mapped)) == PK_IFD
    shared = c.mul(SK_IFD, c.decode(PK_IC))
    assert shared[0].to_bytes(32, "big") == SHARED_K
    assert pace.session_keys(SHARED_K, "AES", 128) == (KS_ENC, KS_MAC)
    assert pace.auth_token(KS_MAC, INFO.oid_der, c, c.decode(PK_IC)) == T_IFD
    assert pace.auth_token(KS_MAC, INFO.oid_der, c, c.decode(PK_IFD)) == T_IC


def _dynamic(tag: int, apdu: bytes) -> bytes:
    body = apdu[5:5 + apdu[4]]
    return dict(iter_tlv(dict(iter_tlv(body))[0x7C]))[tag]


def test_pace_protocol_run_against_the_worked_example():
    transmit = Scripted(
        (lambda a: a == h("0022C1A412 800A04007F00070202040202 830101 84010D"), h("9000")),
        (lambda a: a == h("10860000027C0000"), tlv(0x7C, tlv(0x80, ENCRYPTED_NONCE)) + h("9000")),
        (lambda a: _dynamic(0x81, a) == PK_MAP_IFD, tlv(0x7C, tlv(0x82, PK_MAP_IC)) + h("9000")),
        (lambda a: _dynamic(0x83, a) == PK_IFD, tlv(0x7C, tlv(0x84, PK_IC)) + h("9000")),
        (lambda a: a == h("008600000C7C0A8508") + T_IFD + h("00"), tlv(0x7C, tlv(0x86, T_IC)) + h("9000")),
    )
    channel = pace.authenticate(transmit, INFO, G1_MRZ.pace_password(), pace.PASSWORD_MRZ,
                                map_secret=SK_MAP_IFD, agreement_secret=SK_IFD)
    assert (channel.cipher, channel.ks_enc, channel.ks_mac, channel.ssc) == ("AES", KS_ENC, KS_MAC, 0)


def test_pace_wrong_chip_token_is_refused():
    from kiosk.chip.errors import SecureMessagingError

    transmit = Scripted(
        (None, h("9000")), (None, tlv(0x7C, tlv(0x80, ENCRYPTED_NONCE)) + h("9000")),
        (None, tlv(0x7C, tlv(0x82, PK_MAP_IC)) + h("9000")), (None, tlv(0x7C, tlv(0x84, PK_IC)) + h("9000")),
        (None, tlv(0x7C, tlv(0x86, bytes(8))) + h("9000")),
    )
    with pytest.raises(SecureMessagingError):
        pace.authenticate(transmit, INFO, G1_MRZ.pace_password(), pace.PASSWORD_MRZ,
                          map_secret=SK_MAP_IFD, agreement_secret=SK_IFD)


def test_pace_refuses_a_point_off_the_curve():
    from kiosk.chip.errors import ParseError

    bad = bytearray(PK_MAP_IC)
    bad[-1] ^= 1
    with pytest.raises(ParseError):
        BRAINPOOL_P256R1.decode(bytes(bad))


@pytest.mark.parametrize("curve, reference", [(P256, cec.SECP256R1()), (BRAINPOOL_P256R1, cec.BrainpoolP256R1()),
                                              (P384, cec.SECP384R1())])
def test_curve_parameters_agree_with_openssl(curve, reference):
    key = cec.generate_private_key(reference)
    numbers = key.private_numbers()
    assert curve.mul(numbers.private_value, curve.g) == (numbers.public_numbers.x, numbers.public_numbers.y)
    assert curve.mul(curve.n, curve.g) is None
