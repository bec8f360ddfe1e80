"""Offices in tests: make a second office and a clerk in it, and put a kiosk's registration in
an office (an enrolled kiosk of that office would have given it at the start)."""
from __future__ import annotations

from sqlalchemy import select, update

from kiosk.core.extensions import db
from kiosk.core.models import Office, Registration, StaffUser
from kiosk.core.seed import OFFICE
from kiosk.domain.credentials import hash_secret

SAM_SON = dict(OFFICE, code="sam-son", name="VNPT Sầm Sơn", address="1 Hồ Xuân Hương, Sầm Sơn",
               phone="0237 3821000", hotline="0237 3821999", email="samson@vnpt.vn")


def first_office_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Office.id).order_by(Office.id))


def make_office(app, **values) -> int:
    with app.app_context():
        office = Office(**{**SAM_SON, **values})
        db.session.add(office)
        db.session.commit()
        return office.id


def make_clerk(app, username: str, password: str, office_id: int | None, role="clerk") -> int:
    with app.app_context():
        user = StaffUser(username=username, full_name=f"Nhân viên {username}", role=role,
                         password_hash=hash_secret(password), office_id=office_id)
        db.session.add(user)
        db.session.commit()
        return user.id


def put_in_office(app, token: str, office_id: int | None) -> None:
    with app.app_context():
        db.session.execute(update(Registration).where(Registration.token == token)
                           .values(office_id=office_id))
        db.session.commit()
