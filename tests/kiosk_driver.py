"""Drives the kiosk like the browser does (htmx headers + CSRF token), step by step."""
from __future__ import annotations

import base64
import re

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kiosk.core.extensions import db
from kiosk.core.models import Registration, SmsMessage
from tests.app_factory import STAFF

CUSTOMER = {
    "id_type": "cccd",
    "id_number": "038085012345",  # Thanh Hóa (038), male born 19xx (0), year 85
    "phone": "0912 345 678",
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "05/09/1985",
    "gender": "Nam",
    "address": "Số 12 Lê Lai, Phường Điện Biên, TP Thanh Hóa",
    "issue_date": "02/10/2023",
    "email": "an.nguyen@example.vn",
}
PASSWORD = "Hoa@1234"
PIN = "908172"


def jpeg_bytes(width=640, height=480, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def signature_png(ink=True) -> bytes:
    canvas = np.zeros((260, 900, 4), dtype=np.uint8)
    if ink:
        pts = np.array([[60, 200], [200, 80], [320, 190], [470, 70], [640, 180], [820, 90]], np.int32)
        cv2.polylines(canvas, [pts], False, (40, 20, 10, 255), 4)
    ok, buf = cv2.imencode(".png", canvas)
    assert ok
    return buf.tobytes()


class KioskDriver:
    def __init__(self, client):
        self.client = client
        self.token: str | None = None
        self._csrf: str | None = None

    # -- plumbing -----------------------------------------------------------------------------
    def csrf(self) -> str:
        if self._csrf is None:
            html = self.client.get("/").get_data(as_text=True)
            self._csrf = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', html).group(1)
        return self._csrf

    def headers(self, htmx=True) -> dict:
        h = {"X-CSRFToken": self.csrf()}
        if htmx:
            h["HX-Request"] = "true"
        return h

    def url(self, number: int) -> str:
        return f"/r/{self.token}/step/{number}"

    def get(self, path: str, htmx=False):
        return self.client.get(path, headers={"HX-Request": "true"} if htmx else {})

    def post(self, path: str, data=None, htmx=True, **kw):
        return self.client.post(path, data=data or {}, headers=self.headers(htmx), **kw)

    def post_step(self, number: int, data=None, htmx=True, **kw):
        return self.post(self.url(number), data, htmx, **kw)

    def row(self) -> Registration:
        """The registration in the caller's app context (to change it behind the wizard's back)."""
        return db.session.scalar(select(Registration).where(Registration.token == self.token))

    def registration(self) -> Registration:
        """A fresh, detached snapshot of the registration (its own short app context)."""
        with self.client.application.app_context():
            return db.session.scalar(
                select(Registration).where(Registration.token == self.token)
                .options(selectinload(Registration.evidence), selectinload(Registration.documents)))

    def last_sms_code(self) -> str:
        reg = self.registration()
        with self.client.application.app_context():
            msg = db.session.scalar(select(SmsMessage).where(SmsMessage.registration_id == reg.id)
                                    .order_by(SmsMessage.id.desc()).limit(1))
            return re.search(r"\b(\d{6})\b", msg.body["text"]).group(1)

    # -- the steps ----------------------------------------------------------------------------
    def start(self):
        response = self.post("/start", {"csrf_token": self.csrf()}, htmx=False)
        assert response.status_code == 303, response.status_code
        self.token = re.search(r"/r/([^/]+)/step/1", response.headers["Location"]).group(1)
        return response

    def account(self, **override):
        c = {**CUSTOMER, **override}
        return self.post_step(1, {"id_type": c["id_type"], "id_number": c["id_number"],
                                  "phone": c["phone"], "consent": "y"} | override.get("extra", {}))

    def package(self, package_id=None):
        if package_id is None:
            html = self.get(self.url(2)).get_data(as_text=True)
            package_id = re.search(r'name="package" value="(\d+)"', html).group(1)
        return self.post_step(2, {"package": str(package_id)})

    def personal(self, **override):
        c = {**CUSTOMER, **override}
        return self.post_step(3, {k: c[k] for k in
                                  ("full_name", "date_of_birth", "gender", "address", "issue_date", "email")})

    def provision(self):
        return self.post_step(4, {})

    def activate(self, code=None):
        return self.post_step(5, {"code": code or self.last_sms_code()})

    def password(self, password=PASSWORD, confirm=None):
        return self.post_step(5, {"password": password, "password_confirm": confirm or password})

    def capture(self, kind: str, data: bytes | None = None):
        image = data if data is not None else jpeg_bytes(seed=hash(kind) % 1000)
        return self.post(f"/r/{self.token}/step/6/capture/{kind}",
                         {"image_data": data_url("image/jpeg", image)})

    def capture_all(self):
        for kind in ("card_front", "card_back", "face"):
            self.capture(kind)

    def staff_confirm(self, username=STAFF[0], password=STAFF[1], verdict="confirm"):
        return self.post_step(6, {"staff_username": username, "staff_password": password,
                                  "verdict": verdict})

    def confirm_certificate(self):
        """Step 9's first screen: «Thông tin này đúng»."""
        return self.post_step(9, {"certificate": "confirm"})

    def sign(self, number: int, png: bytes | None = None):
        """Sign at step 7 or 9; at step 9 the certificate's information is confirmed first."""
        png = signature_png() if png is None else png
        if number == 9:
            self.confirm_certificate()
        return self.post_step(number, {"signature": data_url("image/png", png) if png else ""})

    def pin(self, pin=PIN, confirm=None):
        return self.post_step(8, {"pin": pin, "pin_confirm": confirm or pin})

    def walk_to(self, number: int):
        """Complete every step before `number` on the happy path."""
        actions = [
            None,
            lambda: self.account(),
            lambda: self.package(),
            lambda: self.personal(),
            lambda: self.provision(),
            lambda: (self.activate(), self.password()),
            lambda: (self.capture_all(), self.staff_confirm()),
            lambda: self.sign(7),
            lambda: self.pin(),
            lambda: self.sign(9),
        ]
        if self.token is None:
            self.start()
        for n in range(1, number):
            actions[n]()
        reg = self.registration()
        assert reg.furthest_step >= number, f"stuck before step {reg.furthest_step}"
