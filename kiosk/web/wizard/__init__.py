"""The kiosk wizard: welcome screen, the nine steps, the done screen."""
from flask import Blueprint

bp = Blueprint("wizard", __name__)

from kiosk.web.wizard import routes  # noqa: E402,F401  (registers the views on bp)
