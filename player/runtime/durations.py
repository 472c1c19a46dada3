"""Durations of the SCORM data models, counted in whole hundredths of a second (centiseconds).

SCORM 1.2 writes a time span as ``CMITimespan`` (a SCORM 1.2 RTE data type, ``HHHH:MM:SS.SS``);
SCORM 2004 as ``timeinterval (second,10,2)`` (an ISO 8601 duration, seconds to two decimals).
The xAPI Profile for SCORM keeps ``total_time`` as an ISO 8601 duration with a precision of 0.01 s.
Whole centiseconds keep sums exact: no float rounding creeps into a total over many sessions.
"""
from __future__ import annotations

import re

# What the browser's data model (scorm-again 3.4.3) accepts, so that a value it took is never refused
# here: 1.2 hours of any number of digits; 2004 with an optional "T" and comma or dot decimals.
TIMESPAN_12 = re.compile(r"^([0-9]+):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,2}))?$")
_N = r"([0-9.,]+)"
DURATION_2004 = re.compile(rf"^P(?:{_N}Y)?(?:{_N}M)?(?:{_N}W)?(?:{_N}D)?"
                           rf"(?:T?(?:{_N}H)?(?:{_N}M)?(?:([0-9]+(?:\.[0-9]{{1,2}})?)S)?)?$")
# Seconds per designator, as scorm-again counts them (a month is 30 days, a year 365).
_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def _number(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return 0.0


def parse_timespan_12(text: str) -> int | None:
    """Centiseconds of a SCORM 1.2 CMITimespan (``0000:01:02.5`` -> 6250), None if it is not one."""
    m = TIMESPAN_12.match(text or "")
    if not m:
        return None
    hours, minutes, seconds, fraction = m.groups()
    cs = (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 100
    if fraction:
        cs += int(fraction.ljust(2, "0"))
    return cs


def parse_duration_2004(text: str) -> int | None:
    """Centiseconds of a SCORM 2004 timeinterval (``PT1M2.5S`` -> 6250), None if it is not one."""
    m = DURATION_2004.match(text or "")
    if not m:
        return None
    seconds = sum(_number(value) * unit for value, unit in zip(m.groups(), _UNITS))
    return max(0, round(seconds * 100))


def parse_duration(text: str | None) -> int:
    """Centiseconds of either form (a stored total, a session time); 0 for nothing or garbage."""
    if not text:
        return 0
    found = parse_timespan_12(text) if ":" in text else parse_duration_2004(text)
    return found or 0


def iso_duration(cs: int) -> str:
    """An ISO 8601 duration with 0.01 s precision, hours as the largest unit: ``PT1H2M3.45S``, ``PT0S``."""
    cs = max(0, int(cs))
    hours, rest = divmod(cs, 360000)
    minutes, rest = divmod(rest, 6000)
    seconds, hundredths = divmod(rest, 100)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if seconds or hundredths or out == "PT":
        out += f"{seconds}.{hundredths:02d}".rstrip("0").rstrip(".") + "S"
    return out


def timespan_12(cs: int) -> str:
    """A SCORM 1.2 CMITimespan, ``HHHH:MM:SS.SS`` (more hour digits past 9999 hours)."""
    cs = max(0, int(cs))
    hours, rest = divmod(cs, 360000)
    minutes, rest = divmod(rest, 6000)
    seconds, hundredths = divmod(rest, 100)
    return f"{hours:04d}:{minutes:02d}:{seconds:02d}.{hundredths:02d}"
