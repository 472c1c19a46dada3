"""Query parameter values, validated to the same standard as the same values in Statements."""
from __future__ import annotations

import re

import jsonschema_rs
import orjson

import schemas

from ..errors import XAPIError

_schema = schemas.load("xapi-statement")
_definitions = _schema["definitions"]
_actor = jsonschema_rs.Draft7Validator({**_schema, "allOf": [{"$ref": "#/definitions/actor"}]})
_agent = jsonschema_rs.Draft7Validator({**_schema, "allOf": [{"$ref": "#/definitions/agent"}]})
_IRI = re.compile(_definitions["iri"]["pattern"])
_UUID = re.compile(_definitions["uuid"]["pattern"])


def parse_agent(value: str, name: str, groups: bool = True) -> dict:
    try:
        agent = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise XAPIError(400, f"parameter {name} must be an Agent as JSON", name) from None
    validator = _actor if groups else _agent
    if not validator.is_valid(agent):
        message = next(iter(validator.iter_errors(agent))).message
        raise XAPIError(400, f"parameter {name} is not a valid {'Agent or Group' if groups else 'Agent'}: "
                             f"{message}", name)
    return agent


def parse_iri(value: str, name: str) -> str:
    if not _IRI.match(value):
        raise XAPIError(400, f"parameter {name} must be an IRI, not {value!r}", name)
    return value


def parse_uuid(value: str, name: str) -> str:
    if not _UUID.match(value):
        raise XAPIError(400, f"parameter {name} must be a UUID, not {value!r}", name)
    return value
