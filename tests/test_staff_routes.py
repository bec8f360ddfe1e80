"""Walk the URL map: every staff route needs a signed-in clerk, every admin route an admin."""
from __future__ import annotations

import re

from tests.app_factory import kiosk_client

from .kiosk_driver import KioskDriver
from .staff_console import ADMIN, Clerk, add_admin, csrf_of

PUBLIC = {"staff.login"}
# Pages that change who may do what or what every customer sees: admin only.
ADMIN_PREFIXES = ("/staff/settings", "/staff/accounts")


def _staff_rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint.startswith("staff.")
            and r.endpoint not in PUBLIC]


def _url(rule, number):
    values = {}
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        values[arg] = 1 if conv == "IntegerConverter" else number
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _requests(app, number):
    for rule in _staff_rules(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, _url(rule, number)


def _number(app):
    kiosk = KioskDriver(kiosk_client(app))
    kiosk.start()
    return kiosk.registration().number


def test_the_url_map_has_staff_routes_to_check(app):
    endpoints = {r.endpoint for r in _staff_rules(app)}
    assert len(endpoints) > 25
    assert {"staff.approve", "staff.reject", "staff.settings_page", "staff.reports_csv"} <= endpoints


def test_every_staff_route_requires_a_signed_in_clerk(app):
    number = _number(app)
    anonymous = app.test_client()
    token = csrf_of(anonymous.get("/staff/login").get_data(as_text=True))
    checked = 0
    for _rule, method, url in _requests(app, number):
        response = anonymous.open(url, method=method, headers={"X-CSRFToken": token},
                                  data={"csrf_token": token})
        assert response.status_code == 302, (method, url, response.status_code)
        assert "/staff/login" in response.headers["Location"], (method, url)
        checked += 1
    assert checked > 30


def test_every_admin_route_refuses_a_clerk_and_is_marked_admin_only(app):
    number = _number(app)
    clerk = Clerk(app)
    admin_rules = [r for r in _staff_rules(app) if r.rule.startswith(ADMIN_PREFIXES)]
    assert len(admin_rules) >= 10
    for rule in admin_rules:
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "admin_only", False), rule.endpoint
    for rule, method, url in _requests(app, number):
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "admin_only", False):
            continue
        response = clerk.client.open(url, method=method, environ_base=clerk.env,
                                     headers={"X-CSRFToken": clerk.token},
                                     data={"csrf_token": clerk.token})
        assert response.status_code == 403, (method, url, response.status_code)


def test_an_admin_reaches_every_admin_page(app):
    add_admin(app)
    admin = Clerk(app, *ADMIN, addr="10.0.0.2")
    for path in ("/staff/settings", "/staff/accounts"):
        assert admin.get(path).status_code == 200


def test_every_clerk_page_opens_for_a_clerk(app):
    number = _number(app)
    clerk = Clerk(app)
    for rule, method, url in _requests(app, number):
        view = app.view_functions[rule.endpoint]
        if method != "GET" or getattr(view, "admin_only", False) or rule.arguments - {"number"}:
            continue
        response = clerk.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        if rule.endpoint not in ("staff.evidence_portrait", "staff.chip_portrait"):  # 404: none read
            assert response.status_code == 200, url
