"""Characters no free-text field takes (pure): what a person cannot see, and, in the fields a
legal document prints, pictures instead of letters.

- Control characters (NUL, escape …) and every Unicode *format* character (category Cf: the
  bidirectional overrides U+202A–U+202E and isolates U+2066–U+2069, the marks U+200E/U+200F,
  zero-width joiners and spaces, the BOM, soft hyphens): they change how a name or an address is
  *shown* — «‮nờưhT» renders as another name in the console, on the contract and in the audit
  trail — or hide text from a search. Tabs and line breaks are whitespace, which each field's own
  cleaner folds.
- Private-use, surrogate and unassigned code points: no keyboard types them.
- Where the contract prints the value (name, address, e-mail): emoji and other pictographic
  symbols (category So, keycaps, variation selectors), which the contract's font cannot draw.

Vietnamese typed in decomposed form (NFD: a base letter plus combining accents, as some
on-screen keyboards send it) is not refused: it is composed (NFC) before anything is checked,
and combining marks (category Mn) are letters' accents, not hidden characters.
"""
from __future__ import annotations

import unicodedata

HIDDEN_MESSAGE = ("Mục này có ký tự ẩn hoặc ký tự điều khiển (không nhìn thấy trên màn hình). "
                  "Vui lòng xóa và nhập lại.")
PICTURE_MESSAGE = ("Mục này không dùng được biểu tượng (emoji) hay ký hiệu hình. "
                   "Vui lòng chỉ nhập chữ, số và dấu câu.")

_WHITESPACE = {"\t", "\n", "\r"}
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn"}


def _pictographic(ch: str) -> bool:
    code = ord(ch)
    return (unicodedata.category(ch) in ("So", "Me")  # symbols (emoji), enclosing keycaps
            or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF)  # variation selectors


def problem(text: str | None, printed: bool = False) -> str | None:
    """The Vietnamese message for the first character this field must not take, or None."""
    if not text:
        return None
    for ch in unicodedata.normalize("NFC", text):
        if ch in _WHITESPACE:
            continue
        if unicodedata.category(ch) in _HIDDEN_CATEGORIES:
            return HIDDEN_MESSAGE
        if printed and _pictographic(ch):
            return PICTURE_MESSAGE
    return None
