"""JSON Schemas: the single source of truth for the structure of documents.

Each schema is a ``*.json`` file beside this module; ``load`` reads one by name.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def load(name: str) -> dict:
    """Return the parsed schema ``name`` (file name without ``.json``)."""
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))
