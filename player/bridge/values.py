"""SCORM runtime values (strings, as the data model holds them) read as xAPI values: numbers,
durations, timestamps and localized strings. Each returns None for a value it cannot read, so a
malformed element is left out of a statement rather than making the statement invalid."""
from __future__ import annotations

import math
import re
from datetime import timezone

import schemas
from lrs.statements.validate import parse_timestamp

from ..runtime.durations import iso_duration as _iso_duration
from .vocabulary import CONTENT_LANGUAGE

_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_TIMESPAN_12 = re.compile(r"^(\d{2,4}):(\d{2}):(\d{2}(?:\.\d{1,2})?)$")   # CMITimespan HHHH:MM:SS.SS
# Seconds per ISO 8601 unit. Years and months have no fixed length; SCORM tools count 365 and 30 days.
_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)
_LANG = re.compile(r"^\{lang=([A-Za-z0-9-]{1,35})\}")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_LANGUAGE_TAG = re.compile(schemas.load("xapi-statement")["definitions"]["languageTag"]["pattern"])


def number(text) -> int | float | None:
    """A SCORM real (``"80"``, ``"0.75"``) as a JSON number: an int when it is whole."""
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 2 ** 53 else value


def centiseconds(text) -> int | None:
    """An ISO 8601 duration (SCORM 2004) or a CMITimespan ``HHHH:MM:SS.SS`` (SCORM 1.2) in 0.01 s."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    m = _TIMESPAN_12.match(text)
    if m:
        return round((int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) * 100)
    m = _ISO_DURATION.match(text)
    if m:
        return round(sum(float(v) * unit for v, unit in zip(m.groups(), _UNITS) if v) * 100)
    return None


def duration(cs: int) -> str:
    """0.01 s as an ISO 8601 duration in hours, minutes and seconds: ``PT1H2M3.45S``, ``PT0S``."""
    return _iso_duration(cs)


def iso_duration(text) -> str | None:
    """A SCORM duration of either version in the form xAPI results and the attempt state hold."""
    cs = centiseconds(text)
    return None if cs is None else duration(cs)


def timestamp(text) -> str | None:
    """A SCORM 2004 ``time (second,10,0)`` given to at least the second, in UTC (``...Z``); a time
    without a zone designator is read as UTC. None for anything less precise or not a real date."""
    if not isinstance(text, str) or not _TIME.match(text):
        return None
    try:
        ts = parse_timestamp(text)
        utc = ts.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None
    frac = ""
    if "." in text[19:]:
        digits = re.match(r"\.(\d+)", text[19:])
        if digits:
            frac = "." + utc.strftime("%f")[: min(len(digits.group(1)), 6)]
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"


def localized(text) -> dict | None:
    """A SCORM 2004 localized string (``{lang=de}Text``, or plain text) as an xAPI language map."""
    if not isinstance(text, str) or not text:
        return None
    m = _LANG.match(text)
    if m:
        rest = text[m.end():]
        if not rest:
            return None
        return {m.group(1) if _LANGUAGE_TAG.match(m.group(1)) else CONTENT_LANGUAGE: rest}
    return {CONTENT_LANGUAGE: text}


def strip_lang(text: str) -> str:
    """The text of a localized string without its ``{lang=..}`` tag."""
    m = _LANG.match(text)
    return text[m.end():] if m else text
