"""Who may have an attachment's bytes: the authorities that uploaded them.

An attachment's bytes are stored once per hash (sha2), but a Statement can name any hash by
``fileUrl`` alone. So a store records, for each hash, the authorities of the Statements that
sent its bytes as a multipart part (an upload proves that its writer had the bytes), and
serves the bytes with a Statement only when that Statement's authority is one of them.
"""
from __future__ import annotations

from typing import Iterable, Iterator

import orjson

from .terms import agent_term


def statement_attachments(st: dict) -> Iterator[dict]:
    """The attachments of a Statement and of its SubStatement."""
    yield from st.get("attachments") or ()
    obj = st.get("object") or {}
    if obj.get("objectType") == "SubStatement":
        yield from obj.get("attachments") or ()


def authority_key(authority: dict | None) -> str:
    """The text an upload is recorded under: the authority's term (objectType and IFI), or for an
    authority without one (an OAuth pair of Agents) its canonical JSON."""
    authority = authority or {}
    return agent_term(authority) or orjson.dumps(authority, option=orjson.OPT_SORT_KEYS).decode()


def uploads(statements: Iterable[dict], uploaded: Iterable[str]) -> set[tuple[str, str]]:
    """(sha2, authority key) for each uploaded hash a Statement of the batch names."""
    uploaded = set(uploaded)
    out = set()
    for st in statements:
        key = None
        for att in statement_attachments(st):
            if att.get("sha2") in uploaded:
                key = key or authority_key(st.get("authority"))
                out.add((att["sha2"], key))
    return out


def legacy_uploads(rows: Iterable[bytes], stored: set[str]) -> set[tuple[str, str]]:
    """The uploads of attachments stored before uploads were recorded, from the stored Statements
    (bodies in stored order) that name them: every Statement that names a hash without a
    ``fileUrl`` sent its bytes (the LRS required the part), and the first Statement stored that
    names a hash is credited too (it sent the bytes, or named them before anyone had: a hash
    cannot be learnt from bytes that were not stored yet)."""
    out: set[tuple[str, str]] = set()
    first: dict[str, str] = {}
    for body in rows:
        st = orjson.loads(body)
        key = None
        for att in statement_attachments(st):
            sha = att.get("sha2")
            if sha not in stored:
                continue
            key = key or authority_key(st.get("authority"))
            first.setdefault(sha, key)
            if "fileUrl" not in att:
                out.add((sha, key))
    out.update(first.items())
    return out
