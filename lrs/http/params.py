"""Query parameter values, validated to the same standard as the same values in Statements."""
from __future__ import annotations

import re

import orjson

from ..errors import XAPIError
from ..statements import limits as _limits
from ..statements import validate as _validate
from ..statements.agents import agent_key

_definitions = _validate.active().schema["definitions"]
_IRI = re.compile(_definitions["iri"]["pattern"])
_UUID = re.compile(_definitions["uuid"]["pattern"])
_ASCII_DIGITS = re.compile(r"[0-9]+")


def parse_agent(value: str, name: str, groups: bool = True) -> dict:
    """An Agent (or, with ``groups``, an identified Group) given as JSON in a parameter.

    The value names whose Statements or documents are meant, so it must identify someone: an
    anonymous Group (members but no IFI) is refused, as is anything the Statement schema refuses.
    """
    check_length(value, name, _limits.current().max_string_length)
    try:
        agent = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise XAPIError(400, f"parameter {name} must be an Agent as JSON", name) from None
    compiled = _validate.active()  # compiled with the current length limits
    validator = compiled.actor if groups else compiled.agent
    if not validator.is_valid(agent):
        message = next(iter(validator.iter_errors(agent))).message
        raise XAPIError(400, f"parameter {name} is not a valid {'Agent or Group' if groups else 'Agent'}: "
                             f"{_validate.shorten(message)}", name)
    if agent_key(agent) is None:
        raise XAPIError(400, f"parameter {name} must identify an Agent or Group by mbox, mbox_sha1sum, openid or "
                             "account; an anonymous Group (members only) identifies no one", name)
    return agent


def parse_iri(value: str, name: str) -> str:
    check_length(value, name, _limits.current().max_iri_length, "LRS_MAX_IRI_LENGTH")
    if not _IRI.match(value):
        raise XAPIError(400, f"parameter {name} must be an IRI, not {_validate.shorten(repr(value))}", name)
    return value


def parse_uuid(value: str, name: str) -> str:
    if not _UUID.match(value):
        raise XAPIError(400, f"parameter {name} must be a UUID, not {_validate.shorten(repr(value))}", name)
    return value


def parse_id(value: str, name: str) -> str:
    """A document id (stateId, profileId): any text, within the identifier length limit."""
    return check_length(value, name, _limits.current().max_iri_length, "LRS_MAX_IRI_LENGTH")


def check_length(value: str, name: str, most: int, setting: str = "LRS_MAX_STRING_LENGTH") -> str:
    if len(value) > most:
        raise XAPIError(400, f"parameter {name} is longer than {most} characters, the limit ({setting})", name)
    return value


def parse_int(value: str, name: str, lo: int = 0, hi: int = 2**63 - 1, clamp: bool = False) -> int:
    """A whole number written in ASCII digits only, between ``lo`` and ``hi`` (400 otherwise); with
    ``clamp`` a larger number means ``hi``.

    ``str.isdigit`` and ``int`` accept other scripts' digits and superscripts ("²", "١٢"); a
    parameter does not.
    """
    if not _ASCII_DIGITS.fullmatch(value):
        raise XAPIError(400, f"parameter {name} must be a whole number written with the digits 0-9, not "
                             f"{_validate.shorten(repr(value), 40)}", name)
    digits = value.lstrip("0") or "0"
    n = int(digits) if len(digits) <= len(str(hi)) else None  # never int() of thousands of digits
    if clamp and (n is None or n > hi):
        return hi
    if n is None or not lo <= n <= hi:
        raise XAPIError(400, f"parameter {name} must be between {lo} and {hi}", name)
    return n
