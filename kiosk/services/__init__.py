"""Services: the actions that change data (registrations, evidence, the eKYC decision,
paperwork and printing, staff sign-in), called alike by the wizard, the staff console and the
CLI. They use core/ and the pure packages; they never import the web layer."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from kiosk.services import ekyc

    ekyc.init_app(app)
