"""The kiosk wizard: welcome screen, the nine steps, the done screen."""
from flask import Blueprint

bp = Blueprint("wizard", __name__)

# registering the views on bp (the chip screens answer only when CHIP_READER is on)
# device first: its before_request (which kiosk is this browser?) guards every other view
from kiosk.web.wizard import device  # noqa: E402,F401,I001
from kiosk.web.wizard import chip_routes, handoff, routes  # noqa: E402,F401
