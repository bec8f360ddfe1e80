"""The web layer: the kiosk wizard and the staff console (blueprints), and what every page shares
(security headers, error pages, template filters). Views parse the request, call a service and
render; they hold no business rules (docs/architecture.md)."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from kiosk.services import unit_of_work
    from kiosk.web import errors, filters, request_log, security
    from kiosk.web.ops import bp as ops_bp
    from kiosk.web.staff import bp as staff_bp
    from kiosk.web.wizard import bp as wizard_bp

    request_log.init_app(app)  # first: the request id exists for every later hook's log lines
    security.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.register_blueprint(wizard_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(ops_bp)

    @app.after_request
    def _commit_the_request(response):
        # Views and services only flush; the request commits once, here (services/unit_of_work).
        unit_of_work.finish_request(response.status_code)
        return response
