"""Limits on the size of input values, so no client can make the LRS hold or walk more than a
bounded amount for one string or one nested value.

Lengths are in characters (Unicode code points, what JSON Schema's ``maxLength`` counts): the
compiled schema checks them on the ingest hot path at almost no cost, where counting UTF-8 bytes
would need a Python pass over every string. A character is at most 4 bytes, in UTF-8 and in memory.

The service sets the limits once at start (``configure``, from ``Settings``); they are per process.
"""
from __future__ import annotations

from dataclasses import dataclass

# How deep JSON may nest inside one extension's value (and inside a document that POST merges is
# limited by what can be written back, see lrs/http/documents.py). Real extensions nest a few levels;
# the bound keeps every recursive pass over a Statement (schema checks, serialisers, copies) far from
# any recursion limit.
MAX_EXTENSION_DEPTH = 64


@dataclass(frozen=True)
class InputLimits:
    # IRIs and identifiers: verb, activity, type and extension IRIs, mbox, openid, account name and
    # homePage, language tags, and the same values as query or document parameters (stateId, profileId).
    max_iri_length: int = 4096
    # Every other string (language map values, names, responses, extension values, property names).
    max_string_length: int = 1024 * 1024


_current = InputLimits()
_listeners: list = []


def current() -> InputLimits:
    return _current


def configure(limits: InputLimits) -> None:
    """Make ``limits`` the process's limits (the service calls this from its settings)."""
    global _current
    if limits.max_iri_length < 1 or limits.max_string_length < 1:
        raise ValueError("input length limits must be positive")
    if limits != _current:
        _current = limits
        for listener in _listeners:
            listener(limits)


def on_change(listener) -> None:
    """Call ``listener(limits)`` whenever the limits change (modules that compile them in)."""
    _listeners.append(listener)
