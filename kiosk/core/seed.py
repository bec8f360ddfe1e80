"""Seed data: the VNPT Thanh Hóa office and a sample package catalogue (staff edit both)."""
from __future__ import annotations

from kiosk.core.extensions import db
from kiosk.core.models import Kiosk, Office, ServicePackage

APP_STORE_SEARCH = "https://apps.apple.com/vn/search?term=VNPT%20SmartCA"
PLAY_STORE_SEARCH = "https://play.google.com/store/search?q=VNPT%20SmartCA&c=apps"

OFFICE = dict(
    code="thanh-hoa",
    name="VNPT Thanh Hóa",
    address="26A Đại lộ Lê Lợi, Phường Điện Biên, TP Thanh Hóa",
    phone="0237 3858000",
    hotline="18001260 nhánh 1",
    email="hotrodichvu.tha@vnpt.vn",
    website="smartca.vnpt.vn",
    app_store_url=APP_STORE_SEARCH,
    play_store_url=PLAY_STORE_SEARCH,
)

# Prices are placeholders for the sample catalogue: the screen labels them "giá mẫu"
# until a staff member edits the package (is_sample is cleared on edit).
SAMPLE_PACKAGES = [
    dict(code="SMARTCA-CN-12", name="SmartCA cá nhân 1 năm", duration_months=12,
         price_vnd=250_000, description="Chứng thư số cá nhân, ký số trên điện thoại."),
    dict(code="SMARTCA-CN-24", name="SmartCA cá nhân 2 năm", duration_months=24,
         price_vnd=450_000, description="Tiết kiệm hơn khi đăng ký 2 năm."),
    dict(code="SMARTCA-CN-36", name="SmartCA cá nhân 3 năm", duration_months=36,
         price_vnd=600_000, description="Dùng lâu dài, ít phải gia hạn."),
]


def seed() -> dict:
    """Insert what is missing; never overwrite what staff have edited."""
    added = {"office": 0, "kiosks": 0, "packages": 0}
    if db.session.query(Office).first() is None:
        db.session.add(Office(**OFFICE))
        added["office"] = 1
    if db.session.query(Kiosk).first() is None:
        # The first kiosk, in the first office: a fresh machine has one to enroll
        # (scripts/run.sh prints its one-time link; `flask kiosks enroll-code quay-01`).
        db.session.flush()
        office = db.session.query(Office).order_by(Office.id).first()
        db.session.add(Kiosk(code="quay-01", name="Quầy 01", printer="", active=True,
                             office_id=office.id if office else None))
        added["kiosks"] = 1
    if db.session.query(ServicePackage).count() == 0:
        for order, values in enumerate(SAMPLE_PACKAGES):
            db.session.add(ServicePackage(**values, is_sample=True, sort_order=order))
            added["packages"] += 1
    db.session.commit()
    return added
