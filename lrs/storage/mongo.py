"""The scale-out store: MongoDB (or FerretDB) through PyMongo's asyncio API.

All MongoDB queries of this adapter are in this file. It relies on nothing but what MongoDB and
FerretDB both make atomic: inserting one document under a unique key. (FerretDB 1.x applies
``update_one``/``findAndModify`` as a read followed by a replace, so a conditional update is no
compare-and-set there; see internal/handler/msg_update.go.) No transactions, no change streams:

- **Order and commit.** A batch claims the next number N in ``batches`` by inserting ``{_id: N}``
  (the unique ``_id`` lets exactly one writer have each N; the loser tries N+1). Its statements get
  seq ``N << 20 | i``, so seqs strictly increase across processes. They carry ``p: N``. The
  batch commits or is abandoned by inserting ``{_id: N, ok: true|false}`` into ``outcomes``: one
  single-document insert, and whoever inserts first (the writer, or another process cleaning up
  after a dead writer) decides. A Statement is visible once its batch's outcome says committed:
  nothing is written per Statement to commit (an update per Statement cost FerretDB ~25 ms each).
  An abandoned batch is listed in ``abandoned`` and its Statements deleted; then the batch is
  marked done.
- **Visible through.** Queries and the stream only return statements of batches below the lowest
  batch not yet done, so `more` pages and stream checkpoints never skip a batch that commits late
  with a lower seq, and leave out the batches listed in ``abandoned`` (read after the watermark: a
  batch is listed before it is done). A batch left open longer than ``pending_timeout`` (its
  writer died) is abandoned, or finished when it had committed, by whoever sees it; an abandoned
  batch's Statements stay hidden whatever happens later (a slow writer may still insert them).
  Reads of one Statement look its batch's outcome up (outcomes never change, so they are cached).
- **Unique ids.** The statement id is ``_id``. Same id with the same content is accepted and left as
  it is; different content raises Conflict; an insert that races another writer's is retried.
- **Documents** are versioned: a write inserts version n+1 of its key under a unique ``_id``, so of
  two writers that read version n only one succeeds; the other re-reads and re-applies its change
  (If-Match is checked again against what is stored then). A deletion is a tombstone version.
  Versions superseded for ``KEEP_VERSIONS`` are deleted; a writer gives up a version it read more
  than ``WRITE_DEADLINE`` ago, so it never writes a number that cleaning has freed again.

The port is blocking (lrs/storage/ports.py): the HTTP layer and the CLI call it from threads.
``MongoStore`` runs every call as a coroutine of ``AsyncMongoStore`` on the adapter's own event
loop thread, so one ``AsyncMongoClient`` and its connection pool serve every caller, whatever
loop or thread it is on.
"""
from __future__ import annotations

import asyncio
import hashlib
import os
import time
from typing import Callable, Iterable

import orjson
import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from ..statements.forms import now_timestamp, same_statement
from ..statements.activities import SeenDefinitions, merge_definition
from ..statements.attachments import legacy_uploads, uploads
from ..statements.terms import Terms, inheritable, merge, statement_terms, term_hash
from .own_loop import OnOwnLoop
from .ports import READ_TIMEOUT, Conflict, Document, NewStatement, StatementQuery, StoreBusy

SHIFT = 20                  # seq = batch number << SHIFT | position in the batch
PENDING_TIMEOUT = 30.0      # seconds after which an open batch is presumed to belong to a dead writer
WRITE_DEADLINE = 5.0        # seconds a document writer may take from reading a version to writing the next
KEEP_VERSIONS = 120.0       # seconds a superseded document version is kept (> WRITE_DEADLINE + clock skew)
WAIT_LIMIT = PENDING_TIMEOUT + 10   # longest an insert waits for another writer's batch with the same ids

# (collection, keys, options, the query it serves); created idempotently at start-up, listed in the README.
INDEXES = [
    ("statements", [("s", ASCENDING)], {"name": "seq", "unique": True},
     "the stream, unfiltered queries and `more` paging, in seq order"),
    ("statements", [("t", ASCENDING), ("s", ASCENDING)], {"name": "term_seq"},
     "queries by verb, agent, activity, registration or authority (one term per value), in seq order"),
    ("statements", [("st", ASCENDING), ("s", ASCENDING)], {"name": "stored_seq"},
     "since and until: the first Statement stored after `since` and the last stored by `until`, in (st, s) order"),
    ("refs", [("r", ASCENDING)], {"name": "target"},
     "the Statements that target a Statement (StatementRef): voided targets, inherited terms"),
    ("refs", [("s", ASCENDING)], {"name": "statement"}, "whether Statements are voiding Statements"),
    ("refs", [("p", ASCENDING)], {"name": "pending"}, "the refs of a batch being abandoned (deleted)"),
    ("statements", [("p", ASCENDING)], {"name": "pending"},
     "the statements of a batch being abandoned (deleted) or finished by another process"),
    ("batches", [("done", ASCENDING), ("_id", ASCENDING)], {"name": "open"},
     "the lowest batch not yet done: how far queries and the stream may read"),
    ("documents", [("key", ASCENDING), ("n", ASCENDING)], {"name": "versions"},
     "reading a state or profile document: its newest version"),
    ("documents", [("k", ASCENDING), ("a", ASCENDING), ("g", ASCENDING), ("r", ASCENDING), ("d", ASCENDING)],
     {"name": "scope"}, "listing and deleting the state and profile documents of a scope"),
    ("credentials", [("created", ASCENDING)], {"name": "created"}, "listing credentials in creation order"),
]
# Indexes of earlier layouts, dropped at start-up: (st) gave way to (st, s), which also serves the sort.
DROPPED_INDEXES = [("statements", "stored")]
# Every query names its index (`hint`), so that MongoDB's planner cannot pick a worse plan as the data
# grows; tests/test_mongo_hints.py checks that each hint names an index created here. ID is the
# index MongoDB makes on every collection's _id; SCAN a deliberate collection scan (a one-off upgrade).
ID = "_id_"
SCAN = [("$natural", ASCENDING)]


def query_filter(q: StatementQuery, hi: int, lo: int | None, visible: dict) -> dict:
    """The filter of a statement query: the seq window, not voided, not in an abandoned batch, and, when
    the query has terms, their hashes (one term: an equality on the term_seq index; more: ``$all``)."""
    seq: dict = {"$lte": hi}
    if lo is not None:
        seq["$gte"] = lo
    flt: dict = {"s": seq, "vd": False, **visible}
    if q.terms:
        hashes = [_direct(t) if direct else term_hash(t) for t, direct in q.terms]
        flt["t"] = hashes[0] if len(hashes) == 1 else {"$all": hashes}
    return flt


def _direct(term: str) -> int:
    """The hash that marks a term a Statement has directly (the agent and activity filters)."""
    return term_hash("=" + term)


def term_hashes(terms: Terms) -> list[int]:
    return [term_hash(t) for t in terms] + [_direct(t) for t, d in terms.items() if d]


class _Retry(Exception):
    """Another writer's batch holds one of these ids: look again."""

    def __init__(self, ids: list[str]):
        super().__init__(ids)
        self.ids = ids


def _ref_doc(sid: str, target: str, voiding: bool, number: int | None) -> dict:
    """A Statement that targets another (StatementRef), kept apart from the Statements so that finding
    them by target reads only them."""
    doc = {"_id": f"{number}:{sid}", "s": sid, "r": target, "v": voiding}
    if number is not None:
        doc["p"] = number
    return doc


class AsyncMongoStore:
    def __init__(self, url: str, database: str | None = None, pending_timeout: float = PENDING_TIMEOUT):
        self.client = AsyncMongoClient(url, appname="lrs")
        db = self.client[database] if database else self.client.get_default_database("lrs")
        self.db = db
        self.statements = db["statements"]
        self.batches = db["batches"]
        self.outcomes = db["outcomes"]
        self.abandoned = db["abandoned"]
        self.refs = db["refs"]
        self.attachments_ = db["attachments"]
        self.uploads = db["uploads"]
        self.activities_ = db["activities"]
        self.documents = db["documents"]
        self.credentials_ = db["credentials"]
        self.secrets = db["secrets"]
        self.pending_timeout = pending_timeout
        self._last: dict | None = None     # the last batch this process claimed
        self._claim_lock = asyncio.Lock()
        self._definitions = SeenDefinitions()
        self._decided: dict[int, bool] = {}  # batch number -> committed, for decided batches

    async def setup(self) -> None:
        for coll, keys, options, _ in INDEXES:
            await self.db[coll].create_index(keys, **options)
        for coll, name in DROPPED_INDEXES:
            try:
                await self.db[coll].drop_index(name)
            except OperationFailure:  # not there (a new database, or dropped already)
                pass
        if await self.refs.find_one({"_id": "filled"}, hint=ID) is None:
            # A database from before refs: fill it from statements, once (a collection scan: no index on
            # statements serves it, so that no insert pays for an index only this one-off read uses).
            # Idempotent: a document another process inserts meanwhile has the same _id.
            docs = [_ref_doc(d["_id"], d["ref"], d.get("vg", False), d.get("p"))
                    for d in await self.statements.find({"ref": {"$exists": True}}, {"ref": 1, "vg": 1, "p": 1},
                                                        hint=SCAN).to_list(None)]
            try:
                await self.refs.insert_many(docs + [{"_id": "filled"}], ordered=False)
            except BulkWriteError as exc:
                if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", ())):
                    raise
        if await self.uploads.find_one({"_id": "filled"}, hint=ID) is None:
            # Attachments stored before uploads were recorded: credit their uploaders from the stored
            # Statements, once (lrs/statements/attachments.py). Idempotent, like refs above.
            stored = {d["_id"] for d in await self.attachments_.find({}, {"_id": 1}, hint=ID).to_list(None)}
            pairs: set = set()
            if stored:
                bodies = [d["body"] async for d in self.statements.find({}, {"body": 1}, hint="seq").sort("s", ASCENDING)
                          if b'"attachments"' in d["body"]]
                pairs = legacy_uploads(bodies, stored)
            await self._put_uploads(pairs | {("filled", None)})

    async def close(self) -> None:
        await self.client.close()

    # -- statements: writing -------------------------------------------------------------

    async def insert(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]],
                     define: bool = True) -> list[str]:
        ids = [n.statement["id"] for n in batch]
        if len(batch) >= 1 << SHIFT:
            raise ValueError(f"a batch holds at most {(1 << SHIFT) - 1} Statements")
        deadline = time.monotonic() + WAIT_LIMIT
        delay = 0.005
        waiting: list[str] = []
        while True:
            try:
                if waiting:  # ids another writer's open batch holds: wait for it before claiming again
                    await self._wait_decided(waiting)
                await self._write(batch, attachments, define)
                return ids
            except _Retry as exc:
                waiting = exc.ids
                if time.monotonic() > deadline:
                    raise TimeoutError("another writer's batch with the same Statement ids did not finish") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

    async def _wait_decided(self, ids: list[str]) -> None:
        for sid in ids:
            doc = await self.statements.find_one({"_id": sid}, {"p": 1}, hint=ID)
            if doc is not None and await self._committed(doc) is None:
                raise _Retry(ids)

    async def _write(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]], define: bool) -> None:
        """Insert the batch as batch N, finding the ids already stored by the insert itself (the
        unique ``_id``): a lookup by anything but ``_id`` equality is a full scan on FerretDB 1.x."""
        ids = [n.statement["id"] for n in batch]
        voided_targets = {d["r"] for d in await self.refs.find({"r": {"$in": ids}, "v": True}, {"r": 1, "p": 1},
                                                               hint="target").to_list(None)
                          if await self._committed(d)}
        number, stored = await self._claim(len(batch))
        final = True  # no insert of this batch can still be under way if it is abandoned now
        try:
            docs = await self._documents(batch, number, stored, voided_targets)
            final = False
            try:
                fresh = await self._insert_new(batch, docs)
            except (Conflict, _Retry):  # raised once the insert had finished
                final = True
                raise
            final = True
            if attachments:  # once no Statement of the batch conflicts, before any is visible
                await self._put_attachments(attachments)
                await self._put_uploads(uploads((n.statement for n in batch), attachments))
            refs = [_ref_doc(n.statement["id"], n.ref, n.voids is not None, number) for n in fresh if n.ref]
            if refs:
                final = False
                await self.refs.insert_many(refs, ordered=True)
                final = True
            await self._inherit_terms(fresh)
            await self._merge_activities([n.statement for n in fresh], define)
        except BaseException:
            await asyncio.shield(self._resolve(number, False, listed=not final))
            raise
        voiding = [n.voids for n in fresh if n.voids is not None]
        if not await self._resolve(number, True, voiding):  # abandoned by another process: we took too long
            raise TimeoutError("the batch took longer than the pending timeout and was abandoned")

    async def _insert_new(self, batch: list[NewStatement], docs: list[dict]) -> list[NewStatement]:
        """Insert ``docs``; the Statements of ``batch`` that were not stored yet. One stored with other
        content raises Conflict; one in another writer's open batch raises _Retry."""
        try:
            await self.statements.insert_many(docs, ordered=False)
            return batch
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", ())
            if any(e.get("code") != 11000 for e in errors):
                raise
            stored = {e["index"] for e in errors}
        pending = []
        for i in sorted(stored):
            n = batch[i]
            doc = await self.statements.find_one({"_id": n.statement["id"]}, {"body": 1, "p": 1}, hint=ID)
            committed = None if doc is None else await self._committed(doc)
            if not committed:  # in another writer's open batch, left by an abandoned one, or just deleted
                if committed is False:
                    await self.statements.delete_one({"_id": doc["_id"], "p": doc["p"]}, hint=ID)
                pending.append(n.statement["id"])
            elif not same_statement(orjson.loads(doc["body"]), n.statement):
                raise Conflict(doc["_id"])
        if pending:
            raise _Retry(pending)
        return [n for i, n in enumerate(batch) if i not in stored]

    async def _claim(self, k: int) -> tuple[int, str]:
        """The next batch number, claimed by inserting it (only one writer can), and its stored time."""
        async with self._claim_lock:
            last = self._last
            while True:
                if last is None:
                    last = await self.batches.find_one({}, sort=[("_id", DESCENDING)], hint=ID) or {"_id": 0, "st": ""}
                stored = max(now_timestamp(), last["st"])  # stored never decreases with seq
                doc = {"_id": last["_id"] + 1, "st": stored, "k": k, "t": time.time(), "done": False}
                try:
                    await self.batches.insert_one(doc)
                except DuplicateKeyError:
                    last = None
                    continue
                self._last = doc
                return doc["_id"], stored

    async def _resolve(self, number: int, commit: bool, voiding: list[str] | None = None, listed: bool = True) -> bool:
        """Commit or abandon batch ``number`` (whichever is decided first stands) and finish it; True if
        committed. ``voiding``: the targets of the batch's voiding Statements, when the writer knows them.
        ``listed=False``: the writer abandons its own batch after its inserts finished, so nothing of it
        can appear after the deletion and queries need not leave it out."""
        try:
            await self.outcomes.insert_one({"_id": number, "ok": commit})
            ok = commit
        except DuplicateKeyError:
            ok = (await self.outcomes.find_one({"_id": number}, hint=ID))["ok"]
        self._decide(number, ok)
        if ok:
            if voiding is None:  # finishing the batch of a writer that died after committing
                voiding = [d["vo"] for d in await self.statements.find(
                    {"p": number, "vo": {"$exists": True}}, {"vo": 1}, hint="pending").to_list(None)]
            if voiding:
                await self.statements.update_many({"_id": {"$in": voiding}, "vg": False}, {"$set": {"vd": True}},
                                                  hint=ID)
        else:
            if listed:
                try:
                    await self.abandoned.insert_one({"_id": number})
                except DuplicateKeyError:
                    pass
            await self.statements.delete_many({"p": number}, hint="pending")
            await self.refs.delete_many({"p": number}, hint="pending")
        await self.batches.update_one({"_id": number}, {"$set": {"done": True}}, hint=ID)
        return ok

    def _decide(self, number: int, ok: bool) -> None:
        if len(self._decided) >= 100_000:
            self._decided.clear()
        self._decided[number] = ok

    async def _committed(self, doc: dict) -> bool | None:
        """Is the Statement ``doc`` committed? None while its batch is open, False once abandoned."""
        number = doc.get("p")
        if number is None:  # stored before batches kept p: committed by then
            return True
        if number not in self._decided:
            outcome = await self.outcomes.find_one({"_id": number}, hint=ID)
            if outcome is None:
                return None
            self._decide(number, outcome["ok"])
        return self._decided[number]

    async def _visible(self) -> dict:
        """The filter that leaves out abandoned batches; call it after reading the watermark."""
        abandoned = [d["_id"] for d in await self.abandoned.find({}, {"_id": 1}, hint=ID).to_list(None)]
        return {"p": {"$nin": abandoned}} if abandoned else {}

    async def _documents(self, fresh: list[NewStatement], number: int, stored: str,
                         voided_targets: set[str]) -> list[dict]:
        by_id = {n.statement["id"]: n for n in fresh}
        memo: dict[str, Terms] = {}
        docs = []
        for i, n in enumerate(fresh):
            st = n.statement
            st["stored"] = stored
            st.setdefault("timestamp", stored)
            terms = n.terms if n.ref is None else await self._full_terms(st["id"], st, memo, by_id)
            doc = {"_id": st["id"], "s": number << SHIFT | i, "st": stored, "vd": n.voids is None and st["id"] in voided_targets,
                   "vg": n.voids is not None, "body": orjson.dumps(st), "t": term_hashes(terms), "p": number}
            if n.ref is not None:
                doc["ref"] = n.ref
            if n.voids is not None:
                doc["vo"] = n.voids
            docs.append(doc)
        return docs

    async def _inherit_terms(self, fresh: list[NewStatement]) -> None:
        """Statements stored earlier that target one of these now also match what it matches."""
        by_id = {n.statement["id"]: n for n in fresh}
        referrers = [d for d in await self.refs.find({"r": {"$in": list(by_id)}}, {"s": 1, "r": 1, "p": 1},
                                                     hint="target").to_list(None) if await self._committed(d)]
        memo: dict[str, Terms] = {}
        for doc in referrers:
            inherited = term_hashes(inheritable(await self._full_terms(doc["r"], None, memo, by_id)))
            targets = [doc["s"]] + await self._referrers(doc["s"], 1)
            await self.statements.update_many({"_id": {"$in": targets}}, {"$addToSet": {"t": {"$each": inherited}}},
                                              hint=ID)

    async def _referrers(self, sid: str, depth: int) -> list[str]:
        if depth > 32:
            return []
        out = []
        for doc in await self.refs.find({"r": sid}, {"s": 1, "p": 1}, hint="target").to_list(None):
            if await self._committed(doc):
                out.append(doc["s"])
                out.extend(await self._referrers(doc["s"], depth + 1))
        return out

    async def _full_terms(self, sid: str, st: dict | None, memo: dict, by_id: dict, depth: int = 0) -> Terms:
        """A Statement's own terms and, through StatementRef, those of its target, recursively."""
        if sid in memo:
            return memo[sid]
        if st is None:
            if sid in by_id:
                st = by_id[sid].statement
            else:
                doc = await self.statements.find_one({"_id": sid}, {"body": 1, "p": 1}, hint=ID)
                if doc is None or not await self._committed(doc):
                    return {}
                st = orjson.loads(doc["body"])
        memo[sid] = terms = dict(statement_terms(st))
        obj = st["object"]
        if obj.get("objectType") == "StatementRef" and depth < 32:
            merge(terms, await self._full_terms(obj["id"].lower(), None, memo, by_id, depth + 1))
        return terms

    async def _merge_activities(self, statements: list[dict], define: bool) -> None:
        # One round trip reads every definition the batch changes and one inserts the new ones; only an
        # Activity already stored with a different definition (or lost to a concurrent insert) takes the
        # per-Activity compare-and-set below. A per-Activity find and insert cost two round trips (and,
        # on FerretDB, a transaction each) for every new Activity.
        changed: dict[str, list[dict]] = {}
        raws: dict[str, bytes] = {}
        seen: dict[str, bytes] = {}
        for st in statements:
            for activity_id, definition, raw in self._definitions.changed([st]):
                if seen.get(activity_id) == raw:
                    continue
                seen[activity_id] = raw
                changed.setdefault(activity_id, []).append(definition)
                raws[activity_id] = raw
        if not changed:
            return
        current = {d["_id"]: d for d in await self.activities_.find({"_id": {"$in": list(changed)}}, hint=ID)
                   .to_list(None)}
        new = {}
        for activity_id, definitions in changed.items():
            if activity_id not in current:
                merged: dict = {}
                for definition in definitions if define else definitions[:1]:  # without define: the first one
                    merged = merge_definition(merged, definition)
                new[activity_id] = {"_id": activity_id, "d": orjson.dumps(merged)}
                if not define:
                    raws[activity_id] = orjson.dumps(definitions[0], option=orjson.OPT_SORT_KEYS)
        retry = [a for a in changed if a not in new]
        if new:
            try:
                await self.activities_.insert_many(list(new.values()), ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", ())
                if any(e.get("code") != 11000 for e in errors):
                    raise
                retry += [list(new)[e["index"]] for e in errors]  # inserted meanwhile by another writer
        if not define:  # xAPI 4.2 `define`: only then is a stored definition updated
            for activity_id in retry:
                raws.pop(activity_id, None)
            retry = []
        for activity_id in retry:
            for definition in changed[activity_id]:
                await self._merge_activity(activity_id, definition)
        for activity_id, raw in raws.items():
            self._definitions.remember(activity_id, raw)

    async def _merge_activity(self, activity_id: str, definition: dict) -> None:
        while True:  # compare-and-set on the stored definition
            cur = await self.activities_.find_one({"_id": activity_id}, hint=ID)
            merged = orjson.dumps(merge_definition(orjson.loads(cur["d"]) if cur else {}, definition))
            if cur is None:
                try:
                    await self.activities_.insert_one({"_id": activity_id, "d": merged})
                    return
                except DuplicateKeyError:
                    continue
            if merged == cur["d"]:
                return
            r = await self.activities_.update_one({"_id": activity_id, "d": cur["d"]}, {"$set": {"d": merged}}, hint=ID)
            if r.matched_count:
                return

    async def _put_attachments(self, attachments: dict[str, tuple[str, bytes]]) -> None:
        for sha, (content_type, content) in attachments.items():
            try:
                await self.attachments_.update_one({"_id": sha}, {"$setOnInsert": {"ct": content_type, "c": content}},
                                                   upsert=True, hint=ID)
            except DuplicateKeyError:
                pass

    async def _put_uploads(self, pairs) -> None:
        """Record that Statements with these authorities uploaded these hashes ((sha2, authority key) pairs)."""
        docs = [{"_id": sha if key is None else f"{sha}|{key}"} for sha, key in sorted(pairs, key=str)]
        if not docs:
            return
        try:
            await self.uploads.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", ())):
                raise

    async def _watermark(self) -> int:
        """The highest seq through which every batch is final: what queries and the stream may show."""
        while True:
            first_open = await self.batches.find_one({"done": False}, sort=[("_id", ASCENDING)], hint="open")
            if first_open is None:
                last = await self.batches.find_one({}, sort=[("_id", DESCENDING)], hint=ID)
                return ((last["_id"] + 1) << SHIFT) - 1 if last else 0
            if time.time() - first_open["t"] <= self.pending_timeout:
                return (first_open["_id"] << SHIFT) - 1
            await self._resolve(first_open["_id"], False)  # its writer died: abandon it (or finish it, if committed)

    # -- statements: reading -------------------------------------------------------------

    async def voiding_ids(self, ids: list[str]) -> set[str]:
        found = await self.refs.find({"s": {"$in": list(ids)}, "v": True}, {"s": 1, "p": 1}, hint="statement").to_list(None)
        return {d["s"] for d in found if await self._committed(d)}

    async def get(self, statement_id: str, voided: bool) -> bytes | None:
        doc = await self.statements.find_one({"_id": statement_id.lower()}, {"body": 1, "vd": 1, "p": 1}, hint=ID)
        if doc is None or bool(doc["vd"]) != voided or not await self._committed(doc):
            return None
        return doc["body"]

    async def last_seq(self) -> int:
        watermark = await self._watermark()
        doc = await self.statements.find_one({"s": {"$lte": watermark}, **await self._visible()},
                                             {"s": 1}, sort=[("s", DESCENDING)], hint="seq")
        return doc["s"] if doc else 0

    async def query(self, q: StatementQuery) -> tuple[list[tuple[int, bytes]], int | None]:
        watermark = await self._watermark()
        lo, hi = await self._seq_bounds(q, watermark)  # on the first page, fixes what the `more` chain sees
        flt = query_filter(q, hi, lo, await self._visible())
        order = ASCENDING if q.ascending else DESCENDING
        docs = await self.statements.find(flt, {"s": 1, "body": 1}, hint="term_seq" if q.terms else "seq") \
            .sort("s", order).limit(q.limit + 1).to_list(None)
        rows = [(d["s"], d["body"]) for d in docs]
        cursor = rows[q.limit - 1][0] if len(rows) > q.limit else None
        rows = rows[: q.limit]
        if q.terms:
            rows = [r for r in rows if await self._matches(r[1], q.terms)]
        return rows, cursor

    async def _matches(self, body: bytes, terms: list[tuple[str, bool]]) -> bool:
        """The exact check behind the hashed index: does the Statement (or one it targets) have every term?"""
        st = orjson.loads(body)
        if _has(statement_terms(st), terms):
            return True
        return _has(await self._full_terms(st["id"], st, {}, {}), terms)

    async def _seq_bounds(self, q: StatementQuery, watermark: int) -> tuple[int | None, int]:
        lo = hi = None
        if q.since:
            doc = await self.statements.find_one({"st": {"$gt": q.since}}, {"s": 1}, sort=[("st", 1), ("s", 1)],
                                                 hint="stored_seq")
            lo = doc["s"] if doc else (1 << 62)
        if q.until:
            doc = await self.statements.find_one({"st": {"$lte": q.until}}, {"s": 1}, sort=[("st", -1), ("s", -1)],
                                                 hint="stored_seq")
            hi = doc["s"] if doc else 0
        return q.seq_window(lo, hi, watermark)

    async def stream(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        watermark = await self._watermark()
        docs = await self.statements.find({"s": {"$gt": after_seq, "$lte": watermark}, **await self._visible()},
                                          {"s": 1, "body": 1}, hint="seq").sort("s", ASCENDING).limit(limit).to_list(None)
        return [(d["s"], d["body"]) for d in docs]

    async def attachment(self, sha2: str, authority: str) -> tuple[str, bytes] | None:
        if await self.uploads.find_one({"_id": f"{sha2}|{authority}"}, hint=ID) is None:
            return None
        doc = await self.attachments_.find_one({"_id": sha2}, hint=ID)
        return (doc["ct"], doc["c"]) if doc else None

    async def activity(self, activity_id: str) -> dict | None:
        doc = await self.activities_.find_one({"_id": activity_id}, hint=ID)
        return orjson.loads(doc["d"]) if doc else None

    async def activities(self, ids: Iterable[str]) -> dict[str, dict]:
        docs = await self.activities_.find({"_id": {"$in": list(ids)}}, hint=ID).to_list(None)
        return {d["_id"]: orjson.loads(d["d"]) for d in docs}

    # -- documents -----------------------------------------------------------------------

    async def _current(self, key: str) -> dict | None:
        return await self.documents.find_one({"key": key}, sort=[("n", DESCENDING)], hint="versions")

    async def get_document(self, kind: str, scope: tuple[str, str, str], doc_id: str) -> Document | None:
        doc = await self._current(_doc_key(kind, scope, doc_id))
        return _document(doc) if doc and "c" in doc else None

    async def update_document(self, kind: str, scope: tuple[str, str, str], doc_id: str,
                              change: Callable[[Document | None], Document | None]) -> Document | None:
        key = _doc_key(kind, scope, doc_id)
        while True:  # insert the next version: of two writers that read the same version, one wins
            cur = await self._current(key)
            read_at = time.time()
            current = _document(cur) if cur and "c" in cur else None
            new = change(current)
            if new is current and current is not None:   # the change leaves it as it is
                return new
            if new is None and (cur is None or "c" not in cur):
                return None
            n = cur["n"] + 1 if cur else 1
            doc = {"_id": f"{key}:{n:012d}", "key": key, "n": n, "k": kind, "a": scope[0], "g": scope[1],
                   "r": scope[2], "d": doc_id}
            if new is not None:
                doc.update(c=new.content, ct=new.content_type, e=new.etag, u=new.updated)
            if time.time() - read_at > WRITE_DEADLINE:
                continue  # too slow: the version read may have been cleaned away since, so its number reused
            doc["t"] = time.time()
            try:
                await self.documents.insert_one(doc)
            except DuplicateKeyError:
                continue
            # Versions superseded long enough ago that no writer can still be working from one before them.
            await self.documents.delete_many({"key": key, "n": {"$lt": n}, "t": {"$lt": time.time() - KEEP_VERSIONS}},
                                             hint="versions")
            return new

    async def _latest_in(self, flt: dict) -> list[dict]:
        latest: dict[str, dict] = {}
        for doc in await self.documents.find(flt, {"c": 0}, hint="scope").to_list(None):
            if doc["key"] not in latest or doc["n"] > latest[doc["key"]]["n"]:
                latest[doc["key"]] = doc
        return [d for d in latest.values() if "e" in d]

    async def document_ids(self, kind: str, scope: tuple[str, str, str],
                           since: str | None) -> tuple[list[str], str | None]:
        docs = await self._latest_in({"k": kind, "a": scope[0], "g": scope[1], "r": scope[2]})
        if since:
            docs = [d for d in docs if d["u"] > since]
        return sorted(d["d"] for d in docs), max((d["u"] for d in docs), default=None)

    async def delete_documents(self, kind: str, scope: tuple[str, str, str]) -> int:
        flt = {"k": kind, "a": scope[0], "g": scope[1]}
        if scope[2]:
            flt["r"] = scope[2]
        count = len(await self._latest_in(flt))
        await self.documents.delete_many(flt, hint="scope")
        return count

    # -- secrets -------------------------------------------------------------------------

    async def secret(self, name: str) -> bytes:
        """The store's random 32-byte key ``name``, made on the first call: of processes that race to
        make it, the first insert wins (unique ``_id``) and every one reads that."""
        try:
            await self.secrets.insert_one({"_id": name, "v": os.urandom(32)})
        except DuplicateKeyError:
            pass
        return bytes((await self.secrets.find_one({"_id": name}, hint=ID))["v"])

    # -- credentials ---------------------------------------------------------------------

    async def credentials(self) -> list[dict]:
        docs = await self.credentials_.find({}, hint="created").sort("created", ASCENDING).to_list(None)
        return [{"key": d["_id"], "secret_hash": d["secret_hash"], "scopes": d["scopes"],
                 "authority": orjson.loads(d["authority"]), "created": d["created"]} for d in docs]

    async def add_credential(self, cred: dict) -> None:
        try:
            await self.credentials_.insert_one({
                "_id": cred["key"], "secret_hash": cred["secret_hash"], "scopes": list(cred["scopes"]),
                "authority": orjson.dumps(cred["authority"]), "created": cred["created"]})
        except DuplicateKeyError:
            raise ValueError(f"a credential with key {cred['key']!r} already exists") from None

    async def remove_credential(self, key: str) -> bool:
        return (await self.credentials_.delete_one({"_id": key}, hint=ID)).deleted_count > 0


class MongoStore(OnOwnLoop):
    """The storage ports, blocking, over ``AsyncMongoStore`` running on this adapter's own event loop.

    Every read has a deadline, ``read_timeout`` from its start (PyMongo's client-side operation timeout:
    it bounds the wait for a pooled connection and sends ``maxTimeMS`` with each command); a read that
    passes it raises StoreBusy."""

    def __init__(self, url: str, database: str | None = None, pending_timeout: float = PENDING_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT):
        self.read_timeout = read_timeout

        async def make():
            return AsyncMongoStore(url, database, pending_timeout)

        super().__init__("lrs-mongo", make)

    def _read(self, coro):
        return self._run(self._bounded(coro))

    async def _bounded(self, coro):
        try:
            with pymongo.timeout(self.read_timeout):
                return await coro
        except PyMongoError as exc:
            if exc.timeout:
                raise StoreBusy.after("the read took longer than", self.read_timeout) from None
            raise

    def start(self) -> None:
        """Nothing to prepare before the server listens: the database was set up when the store opened."""

    def insert(self, batch, attachments, define=True, documents=()):
        ids = self._run(self.aio.insert(batch, attachments, define)) if batch else []
        for kind, scope, doc_id, change in documents:   # after the batch: mongo has no transaction here
            self.update_document(kind, scope, doc_id, change)
        return ids

    def voiding_ids(self, ids):
        return self._read(self.aio.voiding_ids(ids))

    def get(self, statement_id, voided):
        return self._read(self.aio.get(statement_id, voided))

    def query(self, q):
        return self._read(self.aio.query(q))

    def last_seq(self):
        return self._read(self.aio.last_seq())

    def stream(self, after_seq, limit):
        return self._read(self.aio.stream(after_seq, limit))

    def attachment(self, sha2, authority):
        return self._read(self.aio.attachment(sha2, authority))

    def activity(self, activity_id):
        return self._read(self.aio.activity(activity_id))

    def activities(self, ids):
        return self._read(self.aio.activities(ids))

    def get_document(self, kind, scope, doc_id):
        return self._read(self.aio.get_document(kind, scope, doc_id))

    def update_document(self, kind, scope, doc_id, change):
        return self._run(self.aio.update_document(kind, scope, doc_id, change))

    def document_ids(self, kind, scope, since):
        return self._read(self.aio.document_ids(kind, scope, since))

    def delete_documents(self, kind, scope):
        return self._run(self.aio.delete_documents(kind, scope))

    def secret(self, name):
        return self._run(self.aio.secret(name))

    def credentials(self):
        return self._read(self.aio.credentials())

    def add_credential(self, cred):
        return self._run(self.aio.add_credential(cred))

    def remove_credential(self, key):
        return self._run(self.aio.remove_credential(key))


def _doc_key(kind: str, scope: tuple[str, str, str], doc_id: str) -> str:
    return hashlib.blake2b(orjson.dumps([kind, *scope, doc_id]), digest_size=16).hexdigest()


def _document(doc: dict) -> Document:
    return Document(doc["c"], doc["ct"], doc["e"], doc["u"])


def _has(own: Terms, terms: list[tuple[str, bool]]) -> bool:
    return all(t in own and (own[t] or not direct) for t, direct in terms)
