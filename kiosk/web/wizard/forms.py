"""WTForms for the steps. Field checks call the pure identity/credentials functions and turn
their Vietnamese messages into field errors, so the form re-renders with what was typed."""
from __future__ import annotations

import unicodedata
from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from kiosk.domain import free_text
from kiosk.domain.identity import (
    ACCEPTED_ID_TYPES,
    CMND_REFUSED,
    GENDERS,
    IdentityError,
    IdType,
    normalize_address,
    normalize_email,
    normalize_full_name,
    normalize_gender,
    normalize_id_number,
    normalize_mobile,
    parse_vn_date,
)

REQUIRED = "Vui lòng điền mục này."


def _clean(form, field, fn, *args):
    """Run a pure normaliser; keep the clean value, or raise its message as a field error."""
    raw = (field.data or "").strip() if isinstance(field.data, str) else field.data
    if raw in (None, ""):
        raise ValidationError(REQUIRED)
    try:
        form.clean[field.name] = fn(*args, raw)
    except IdentityError as err:
        raise ValidationError(err.message) from None


def refuse_hidden_characters(form, printed: frozenset[str] = frozenset()) -> bool:
    """Put the free-text check (domain/free_text.py) in front of every text box of ``form``:
    a box holding a control, format or bidi character (or, in ``printed`` boxes, an emoji)
    gets that message instead of its own, and keeps what was typed. False if any did."""
    ok = True
    for field in form:
        if field.type not in ("StringField", "TextAreaField") or not isinstance(field.data, str):
            continue
        message = free_text.problem(field.data, printed=field.name in printed)
        if message:
            field.errors = [message]
            ok = False
    return ok


class KioskForm(FlaskForm):
    # Boxes whose value the contract prints: no emoji there (the contract's font has none).
    PRINTED: frozenset[str] = frozenset()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clean: dict = {}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # After the fields' own checks, so that the hidden-character message replaces theirs
        # (a name with a bidi override is not "too short" but unreadable).
        return refuse_hidden_characters(self, self.PRINTED) and valid


class AccountForm(KioskForm):
    id_type = RadioField(
        "Loại giấy tờ",
        choices=[SelectChoice(t.value, t.label) for t in ACCEPTED_ID_TYPES],
        default=IdType.CCCD.value,
        validate_choice=False,  # validate_id_type says why (the CMND is refused by name)
    )
    id_number = StringField("Số giấy tờ")
    phone = StringField("Số điện thoại di động")
    consent = BooleanField("Tôi đã đọc và đồng ý cho VNPT xử lý dữ liệu cá nhân như trên.")

    def validate_id_type(self, field):
        if field.data == IdType.CMND.value:
            raise ValidationError(CMND_REFUSED)
        if field.data not in {t.value for t in ACCEPTED_ID_TYPES}:
            raise ValidationError("Vui lòng chọn loại giấy tờ.")

    def validate_id_number(self, field):
        if self.id_type.data in {t.value for t in ACCEPTED_ID_TYPES}:
            _clean(self, field, normalize_id_number, IdType(self.id_type.data))

    def validate_phone(self, field):
        _clean(self, field, normalize_mobile)

    def validate_consent(self, field):
        if not field.data:
            raise ValidationError(
                "Cần có sự đồng ý của quý khách để đăng ký dịch vụ. Vui lòng đánh dấu vào ô đồng ý."
            )


class PackageForm(KioskForm):
    package = RadioField("Gói dịch vụ", coerce=int, validate_choice=False)

    def validate_package(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Vui lòng chọn một gói dịch vụ.")


class PersonalForm(KioskForm):
    PRINTED = frozenset({"full_name", "address", "email"})
    full_name = StringField("Họ và tên (như trên giấy tờ)")
    date_of_birth = StringField("Ngày sinh (ngày/tháng/năm)")
    gender = RadioField("Giới tính", choices=[SelectChoice(g, g) for g in GENDERS], validate_choice=False)
    address = TextAreaField("Nơi thường trú")
    issue_date = StringField("Ngày cấp giấy tờ (ngày/tháng/năm)")
    email = StringField("Email (không bắt buộc)")
    # Today's address (docs/addresses.md): the unit touched in the list, the name typed to find
    # it, and the card text the list was made for (a changed text must be looked at again).
    ward_code = StringField("Xã/phường hiện nay")
    ward_query = StringField("Gõ tên xã/phường nơi quý khách ở")
    address_seen = HiddenField()

    def validate_full_name(self, field):
        _clean(self, field, normalize_full_name)

    def validate_date_of_birth(self, field):
        _clean(self, field, parse_vn_date)

    def validate_gender(self, field):
        if not field.data:
            raise ValidationError("Vui lòng chọn giới tính.")
        _clean(self, field, normalize_gender)

    def validate_address(self, field):
        _clean(self, field, normalize_address)

    def validate_issue_date(self, field):
        _clean(self, field, parse_vn_date)

    def validate_ward_code(self, field):
        # Checked against the data by the service (services/addresses.py), which words the refusal.
        self.clean["ward_code"] = (field.data or "").strip()[:10]

    def validate_email(self, field):
        try:
            self.clean["email"] = normalize_email(field.data or "")
        except IdentityError as err:
            raise ValidationError(err.message) from None

    def fill_from(self, data: dict) -> None:
        """Prefill from what is already known (earlier answer or the card's QR)."""
        for name in ("full_name", "address", "email", "gender"):
            if data.get(name) and not getattr(self, name).data:
                getattr(self, name).data = data[name]
        for name in ("date_of_birth", "issue_date"):
            if data.get(name) and not getattr(self, name).data:
                getattr(self, name).data = date.fromisoformat(data[name]).strftime("%d/%m/%Y")


class ProvisionForm(KioskForm):
    """Step 4 has nothing to fill in, but its POST is still CSRF-protected."""


class OtpForm(KioskForm):
    code = StringField("Mã kích hoạt (6 chữ số)")

    def validate_code(self, field):
        # NFKC turns full-width digits from some on-screen keyboards into 0–9.
        value = unicodedata.normalize("NFKC", field.data or "").strip().replace(" ", "")
        if not (len(value) == 6 and value.isascii() and value.isdigit()):
            raise ValidationError("Mã kích hoạt gồm đúng 6 chữ số trong tin nhắn SMS.")
        self.clean["code"] = value


class PasswordForm(KioskForm):
    password = PasswordField("Mật khẩu mới")
    password_confirm = PasswordField("Nhập lại mật khẩu")


class StaffConfirmForm(KioskForm):
    staff_username = StringField("Tên đăng nhập nhân viên")
    staff_password = PasswordField("Mật khẩu nhân viên")
    verdict = HiddenField(default="confirm")  # sent by the clicked button: confirm | reject


class CaptureForm(KioskForm):
    image_data = HiddenField()


class SignatureForm(KioskForm):
    signature = HiddenField()


class PinForm(KioskForm):
    pin = PasswordField("Mã PIN (6 chữ số)")
    pin_confirm = PasswordField("Nhập lại mã PIN")
