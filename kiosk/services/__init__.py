"""Services: the actions that change data (registrations, evidence, the eKYC decision,
paperwork and printing, staff sign-in), called alike by the wizard, the staff console and the
CLI. They use core/ and the pure packages; they never import the web layer."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from kiosk.services import document_seal, ekyc, vision_pool

    ekyc.init_app(app)
    vision_pool.init_app(app, ekyc.EXTENSION_KEY)
    # The office's certificate is loaded at start: a wrong setting stops the start, not a
    # customer's signing at step 7.
    document_seal.init_app(app)
