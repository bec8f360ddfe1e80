"""Staff console (minimal for now): sign in, see registrations and the sandbox SMS outbox."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from kiosk.web.staff import routes  # noqa: E402,F401
