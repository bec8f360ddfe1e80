"""Reading the chip of a CCCD / căn cước (ICAO 9303 eMRTD) over a ``transmit`` seam.

Pure protocol code: no Flask. ``read_card(transport, can=..., mrz_key=...)`` opens a secure
channel (PACE first, BAC as fall-back), reads the data groups, parses them and runs passive
authentication. See docs/chip.md.
"""
from kiosk.chip.errors import (  # noqa: F401
    AccessDenied,
    BadKey,
    CardStatusError,
    ChipError,
    NoCard,
    ParseError,
    ReaderUnavailable,
    SecureMessagingError,
    TransportError,
    UnsupportedError,
)
from kiosk.chip.keys import MrzKey, can_from_id_number  # noqa: F401
from kiosk.chip.reader import ChipReadResult, read_card  # noqa: F401
from kiosk.chip.transport import Transport  # noqa: F401
