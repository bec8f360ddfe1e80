"""Signing clerks into the console in tests (a second test client beside the kiosk's)."""
from __future__ import annotations

import re

from kiosk.core.extensions import db
from kiosk.core.models import StaffUser
from kiosk.domain.credentials import hash_secret
from tests.app_factory import STAFF

ADMIN = ("qt.lan", "Admin@2026")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html)
    return match.group(1)


def add_admin(app, username=ADMIN[0], password=ADMIN[1]):
    with app.app_context():
        db.session.add(StaffUser(username=username, full_name="Lê Thị Lan", role="admin",
                                 password_hash=hash_secret(password)))
        db.session.commit()


def login(client, username=STAFF[0], password=STAFF[1], addr="10.0.0.5"):
    env = {"REMOTE_ADDR": addr}
    token = csrf_of(client.get("/staff/login", environ_base=env).get_data(as_text=True))
    return client.post("/staff/login", data={"csrf_token": token, "username": username,
                                             "password": password}, environ_base=env)


class Clerk:
    """A signed-in console client that posts with the page's CSRF token."""

    def __init__(self, app, username=STAFF[0], password=STAFF[1], addr="10.0.0.5"):
        self.client = app.test_client()
        self.addr = addr
        response = login(self.client, username, password, addr)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.token = csrf_of(self.client.get("/staff/", environ_base=self.env).get_data(as_text=True))

    @property
    def env(self):
        return {"REMOTE_ADDR": self.addr}

    def get(self, path, **kw):
        return self.client.get(path, environ_base=self.env, **kw)

    def post(self, path, data=None, **kw):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})},
                                environ_base=self.env, **kw)

    def html(self, path, **kw) -> str:
        response = self.get(path, **kw)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)
