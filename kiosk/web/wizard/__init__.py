"""The kiosk wizard: welcome screen, the nine steps, the done screen."""
from flask import Blueprint

bp = Blueprint("wizard", __name__)

# registering the views on bp (the chip screens answer only when CHIP_READER is on)
from kiosk.web.wizard import chip_routes, handoff, routes  # noqa: E402,F401
