"""Whole numbers in requests (version numbers, Content-Length), read strictly.

``str.isdigit`` is true for "²" and ``int`` reads "١٢" (Arabic-Indic digits); SQLite integers stop
at 2**63 - 1. A number here is ASCII digits only, within a range the store can hold.
"""
from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
SQLITE_MAX = 2**63 - 1


def whole_number(text: str | None, most: int = SQLITE_MAX) -> int | None:
    """``text`` as an int when it is ASCII digits only and at most ``most``; otherwise None."""
    if text is None or not _DIGITS.fullmatch(text):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(most)):  # never int() of thousands of digits
        return None
    n = int(digits)
    return n if n <= most else None


def is_digits(text: str) -> bool:
    return bool(_DIGITS.fullmatch(text))
