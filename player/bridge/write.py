"""Writing a plan through the LRS's own storage port, as the player's authority.

Statements go first, as one batch: the store keeps a batch whole or not at all, and an id it
already holds with the same content is success (StatementStore.insert), so a commit recomputed
after a crash stores none of its statements twice. Documents follow, each in one atomic
``update_document``: a merge or an append that is already in the stored document changes
nothing (not even its ETag), so writing them again is harmless too. The HTTP handler writes a
plan before it applies the commit to the player's store; a crash anywhere in between is mended by
the browser's retry of the same commit, which recomputes the same plan.
"""
from __future__ import annotations

import copy

import orjson

from lrs.http.documents import etag_of
from lrs.statements.forms import now_timestamp, prepare
from lrs.statements.terms import statement_terms
from lrs.statements.validate import validate_statement
from lrs.storage import Document, NewStatement

from .course import course_statements
from .documents import JSON, DocumentWrite
from .plan import Plan, context_for, plan
from .vocabulary import player_authority

XAPI_VERSION = "1.0.3"   # the statements are checked and stored as a 1.0.3 client's would be


class BridgeError(Exception):
    """A statement of a plan is not one the LRS accepts (``path`` names where): nothing was written."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path


class Bridge:
    """Writes plans to ``store`` (an LRS store: StatementStore and DocumentStore) with ``authority``
    (default: ``player_authority(iri_base)``). Blocking, like the store's calls."""

    def __init__(self, store, authority: dict | None = None, iri_base: str = ""):
        if authority is None:
            if not iri_base:
                raise ValueError("give the player's authority Agent or the activity IRI base it is made from")
            authority = player_authority(iri_base)
        self.store = store
        self.authority = authority
        self.iri_base = iri_base.rstrip("/")

    def write(self, plan: Plan) -> list[str]:
        """Store the plan's statements (one atomic batch), then its documents; the statement ids.
        Raises BridgeError before writing anything if a statement is invalid; a store error
        (lrs.storage.Conflict for an id stored with other content) after writing nothing of the batch."""
        batch = []
        for i, st in enumerate(plan.statements):
            st = copy.deepcopy(st)  # prepare and the store add authority, version and stored to it
            try:
                validate_statement(st, XAPI_VERSION, f"statements[{i}]")
            except Exception as exc:  # XAPIError: the bridge made a statement the LRS refuses
                raise BridgeError(getattr(exc, "message", str(exc)), getattr(exc, "path", None)) from None
            prepare(st, self.authority, XAPI_VERSION)
            batch.append(NewStatement(st, statement_terms(st)))
        if batch or plan.documents:
            # one writer for the statements and their documents (the SQLite store's writer process,
            # in one transaction): documents written apart from it waited for its turns on the file
            self.store.insert(batch, {}, True, documents=[(d.resource, d.scope(), d.doc_id, _Change(d))
                                                          for d in plan.documents])
        return plan.statement_ids

    def record(self, before, after, commit, registration, course: dict, version: dict, sco) -> list[str]:
        """``write(plan(before, after, commit, context))`` for the commit route, the context made by
        ``context_for`` from the registration, the content store's course and version, and the
        runtime's ScoContext ``sco`` (scorm_version, item; learner_id, learner_name, credit and
        mode when it has them)."""
        if not self.iri_base:
            raise ValueError("record needs the activity IRI base: make the Bridge with iri_base")
        ctx = context_for(registration, course, version, sco.item, sco.scorm_version, self.iri_base,
                          getattr(sco, "learner_id", None), getattr(sco, "learner_name", None),
                          getattr(sco, "credit", None) or "credit", getattr(sco, "mode", None) or "normal")
        return self.write(plan(before, after, commit, ctx))

    def record_course(self, before: dict | None, after: dict, trigger: tuple[str, int, int], at: str,
                      registration, course: dict, version: dict) -> list[str]:
        """Write the course-level statements of a change of the course's status (bridge/course.py)."""
        if not self.iri_base:
            raise ValueError("record_course needs the activity IRI base: make the Bridge with iri_base")
        item = {"identifier": "#course", "title": version.get("title") or course.get("title")}
        ctx = context_for(registration, course, version, item, "2004", self.iri_base)
        return self.write(Plan(course_statements(before, after, ctx, trigger, at), []))

    def write_document(self, doc: DocumentWrite) -> None:
        self.store.update_document(doc.resource, doc.scope(), doc.doc_id, _Change(doc))


class _Change:
    """A document write as the store's change function; it pickles, so the SQLite server's writer
    process can run it. The stored document itself (ETag included) when it already is the result."""

    def __init__(self, doc: DocumentWrite):
        self.doc = doc

    def __call__(self, current: Document | None) -> Document:
        content, content_type = _merged(self.doc, current)
        if current is not None and current.content == content and current.content_type == content_type:
            return current
        return Document(content, content_type, etag_of(content), now_timestamp())


def _merged(doc: DocumentWrite, current: Document | None) -> tuple[bytes, str]:
    """The document ``doc`` makes of the stored one ``current``."""
    if doc.how == "replace" or current is None:
        return doc.content(), doc.content_type
    stored = _json_object(current)
    if stored is None:   # not a JSON object (someone PUT something else): ours replaces it
        return doc.content(), doc.content_type
    if doc.how == "merge":
        stored.update(doc.body)
    elif doc.how == "append":
        for key, items in doc.body.items():
            have = stored.get(key)
            have = list(have) if isinstance(have, list) else []
            for item in items:
                if item not in have:
                    have.append(item)
            stored[key] = have
    else:
        raise ValueError(f"unknown document write {doc.how!r}")
    return orjson.dumps(stored), JSON


def _json_object(current: Document) -> dict | None:
    if current.content_type.split(";")[0].strip().lower() != JSON:
        return None
    try:
        value = orjson.loads(current.content)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
