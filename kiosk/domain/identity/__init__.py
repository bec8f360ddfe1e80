"""Identity data of a customer: ID numbers, the CCCD QR payload, phone numbers, personal details.

Pure Python (no Flask): each checker returns the cleaned value or raises IdentityError carrying
a Vietnamese message for the customer.
"""
from kiosk.domain.identity.documents import (
    CMND_REFUSED,
    ExpiryVerdict,
    card_expiry,
    expiry_verdict,
)
from kiosk.domain.identity.errors import IdentityError, nfc
from kiosk.domain.identity.id_numbers import (
    ACCEPTED_ID_TYPES,
    PROVINCES,
    CccdFacts,
    IdType,
    cccd_facts,
    cross_check_cccd,
    normalize_id_number,
)
from kiosk.domain.identity.person import (
    GENDERS,
    age_on,
    check_adult,
    check_issue_date,
    fmt_date,
    normalize_address,
    normalize_email,
    normalize_full_name,
    normalize_gender,
    parse_vn_date,
)
from kiosk.domain.identity.phone import mask_phone, national_format, normalize_mobile
from kiosk.domain.identity.qr_payload import CccdQrData, QrPayloadError, parse_cccd_qr

__all__ = [
    "ACCEPTED_ID_TYPES",
    "CMND_REFUSED",
    "ExpiryVerdict",
    "card_expiry",
    "expiry_verdict",
    "GENDERS",
    "PROVINCES",
    "CccdFacts",
    "CccdQrData",
    "IdType",
    "IdentityError",
    "QrPayloadError",
    "age_on",
    "cccd_facts",
    "check_adult",
    "check_issue_date",
    "cross_check_cccd",
    "fmt_date",
    "mask_phone",
    "national_format",
    "nfc",
    "normalize_address",
    "normalize_email",
    "normalize_full_name",
    "normalize_gender",
    "normalize_id_number",
    "normalize_mobile",
    "parse_cccd_qr",
    "parse_vn_date",
]
