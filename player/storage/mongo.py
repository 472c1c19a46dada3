"""The player's scale-out store: MongoDB (or FerretDB) through PyMongo's asyncio API.

All MongoDB queries of this adapter are in this file. Its collections are prefixed ``player_`` in
the LRS's database. Like lrs/storage/mongo.py it relies on nothing but what MongoDB and FerretDB
both make atomic, inserting one document under a unique ``_id`` (FerretDB 1.x applies an update
as a read followed by a replace, so a conditional update is no compare-and-set there):

- **Current registration.** ``player_current`` holds one document per (learner key, course), its
  ``_id`` a hash of the two: the first ``registration_for`` to insert it makes the registration,
  the others read it. It carries the whole registration, so a writer that dies before inserting
  the registration into ``player_registrations`` leaves nothing a reader cannot repair.
- **Attempts are versioned.** Each commit inserts a new version of its attempt, ``_id``
  ``<key>:<attempt number>:<seq>``: of two writers with one seq only one insert succeeds, and the
  other reports a duplicate; a version is one document, so nothing is half-applied. Starting an
  attempt inserts its version 0 the same way. The newest version is the attempt; versions
  superseded ``KEEP_VERSIONS`` ago are deleted, and a writer gives up a version it read more than
  ``WRITE_DEADLINE`` ago and reads again, so it never writes a seq whose version has been deleted.
- **JSON as bytes.** The learner's Agent and an attempt's runtime data are stored as JSON text in a
  binary field: their keys (``cmi.location``, ``$...``) are not all valid MongoDB field names.
- **Sequencing state** is versioned like attempts: each save inserts ``<registration>:<seq>`` in
  ``player_sequencing``; the newest is the state, a duplicate or older seq is stale.
- **Global objectives**: one document per (learner, objective) in ``player_global_objectives``,
  replaced whole (each save carries the whole entry of that objective).
- **Tokens** are consumed by inserting their id as ``_id`` in ``player_tokens``.

The port is blocking (player/storage/ports.py): ``MongoPlayerStore`` runs every call as a coroutine
of ``AsyncMongoPlayerStore`` on its own event loop thread, so one ``AsyncMongoClient`` and its
connection pool serve every caller, whatever thread it is on.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime
from typing import Callable

import orjson
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from lrs.storage.own_loop import OnOwnLoop

from .ports import (PAGE_LIMIT, Applied, Attempt, NotFound, Registration, RegistrationConflict, SequencingState,
                    changed, check_objectives, check_seq, check_sequencing, decide, learner_key, page_limit, registration_id_text, timestamp, utc_now)

WRITE_DEADLINE = 5.0    # seconds a commit may take from reading a version to inserting the next
KEEP_VERSIONS = 120.0   # seconds a superseded attempt version is kept (> WRITE_DEADLINE + clock skew)

# (collection, keys, options, the query it serves); created idempotently at start-up, listed in the README.
INDEXES = [
    ("player_registrations", [("lk", ASCENDING), ("c", ASCENDING), ("_id", ASCENDING)], {"name": "learner"},
     "registrations of a learner (and course), in id order"),
    ("player_registrations", [("c", ASCENDING), ("_id", ASCENDING)], {"name": "course"},
     "registrations of a course, in id order"),
    ("player_attempts", [("k", ASCENDING), ("a", ASCENDING), ("q", ASCENDING)], {"name": "versions"},
     "the newest version of an attempt, the current attempt of a SCO, old versions to delete"),
    ("player_attempts", [("r", ASCENDING)], {"name": "registration"}, "the attempts of a registration"),
    ("player_tokens", [("x", ASCENDING)], {"name": "expiry"}, "forgetting expired launch tokens"),
    ("player_sequencing", [("r", ASCENDING), ("q", ASCENDING)], {"name": "versions"},
     "the newest sequencing state of a registration, old versions to delete"),
    ("player_global_objectives", [("lk", ASCENDING)], {"name": "learner"}, "a learner's global objectives"),
]
# Every query names its index (`hint`); tests/test_mongo_hints.py checks each names one
# made here. ID is the index MongoDB makes on every collection's _id.
ID = "_id_"


def _key(*parts: str) -> str:
    return hashlib.blake2b(orjson.dumps(parts), digest_size=16).hexdigest()


def _registration_doc(reg: Registration) -> dict:
    return {"_id": reg.id, "learner": orjson.dumps(reg.learner), "lk": reg.learner_key, "c": reg.course_id, "v": reg.version,
            "created": reg.created, "updated": reg.updated}


def _registration(doc: dict) -> Registration:
    return Registration(doc["_id"], orjson.loads(doc["learner"]), doc["lk"], doc["c"], doc["v"], doc["created"], doc["updated"])


def _attempt_doc(a: Attempt) -> dict:
    key = _key(a.registration_id, a.sco_id)
    return {"_id": f"{key}:{a.number:09d}:{a.applied_seq:012d}", "k": key, "r": a.registration_id, "s": a.sco_id,
            "a": a.number, "q": a.applied_seq, "t": time.time(), "started": a.started, "updated": a.updated,
            "data": orjson.dumps(a.data), "cs": a.completion_status, "ss": a.success_status, "sc": a.score_scaled,
            "tt": a.total_time, "e": a.ended}


def _attempt(doc: dict) -> Attempt:
    return Attempt(doc["r"], doc["s"], doc["a"], doc["started"], doc["updated"], orjson.loads(doc["data"]), doc["q"],
                   doc["cs"], doc["ss"], doc["sc"], doc["tt"], doc["e"])


class AsyncMongoPlayerStore:
    def __init__(self, url: str, database: str | None = None, clock: Callable[[], datetime] = utc_now):
        self.client = AsyncMongoClient(url, appname="lrs-player")
        self.db = self.client[database] if database else self.client.get_default_database("lrs")
        self.registrations_ = self.db["player_registrations"]
        self.current = self.db["player_current"]
        self.attempts_ = self.db["player_attempts"]
        self.tokens = self.db["player_tokens"]
        self.sequencing_ = self.db["player_sequencing"]
        self.objectives_ = self.db["player_global_objectives"]
        self.clock = clock

    async def setup(self) -> None:
        for coll, keys, options, _ in INDEXES:
            await self.db[coll].create_index(keys, **options)

    async def close(self) -> None:
        await self.client.close()

    def _now(self) -> str:
        return timestamp(self.clock())

    # -- registrations -------------------------------------------------------------------

    async def registration_for(self, learner: dict, course_id: str, latest_version: int) -> Registration:
        key = learner_key(learner)
        pointer = _key(key, course_id)
        while True:
            found = await self.current.find_one({"_id": pointer}, hint=ID)
            if found is not None:
                reg = _registration(found["reg"])
                await self._ensure_stored(reg)
                return reg
            now = self._now()
            reg = Registration(str(uuid.uuid4()), learner, key, course_id, int(latest_version), now, now)
            try:
                await self.current.insert_one({"_id": pointer, "reg": _registration_doc(reg)})
            except DuplicateKeyError:
                continue  # another caller made it first: read theirs
            await self._ensure_stored(reg)
            return reg

    async def _ensure_stored(self, reg: Registration) -> None:
        """Insert the registration a current pointer names, unless it is stored (its writer may have died)."""
        if await self.registrations_.find_one({"_id": reg.id}, {"_id": 1}, hint=ID) is None:
            try:
                await self.registrations_.insert_one(_registration_doc(reg))
            except DuplicateKeyError:
                pass

    async def new_registration(self, learner: dict, course_id: str, version: int,
                               registration_id: str | None = None) -> Registration:
        key = learner_key(learner)
        rid = registration_id_text(registration_id) if registration_id is not None else str(uuid.uuid4())
        now = self._now()
        reg = Registration(rid, learner, key, course_id, int(version), now, now)
        try:
            await self.registrations_.insert_one(_registration_doc(reg))
        except DuplicateKeyError:
            found = _registration(await self.registrations_.find_one({"_id": rid}, hint=ID))
            if (found.learner_key, found.course_id) != (key, course_id):
                raise RegistrationConflict(rid, f"registration {rid} belongs to another learner or course") from None
            return found
        pointer = {"_id": _key(key, course_id), "reg": _registration_doc(reg)}
        while True:  # the last writer wins; two upserts of a new _id can collide, then the next one replaces
            try:
                await self.current.replace_one({"_id": pointer["_id"]}, pointer, upsert=True, hint=ID)
                return reg
            except DuplicateKeyError:
                continue

    async def close_registration(self, registration_id: str) -> bool:
        rid = registration_id_text(registration_id)
        doc = await self.registrations_.find_one({"_id": rid}, hint=ID)
        if doc is None:
            raise NotFound(f"no registration {rid}")
        result = await self.current.delete_one({"_id": _key(doc["lk"], doc["c"]), "reg._id": rid}, hint=ID)
        return result.deleted_count > 0

    async def get_registration(self, registration_id: str) -> Registration | None:
        try:
            rid = registration_id_text(registration_id)
        except ValueError:
            return None
        doc = await self.registrations_.find_one({"_id": rid}, hint=ID)
        return _registration(doc) if doc else None

    async def registrations(self, learner_key: str | None = None, course_id: str | None = None,
                            limit: int = PAGE_LIMIT, after: str | None = None) -> list[Registration]:
        flt: dict = {}
        if learner_key is not None:
            flt["lk"] = learner_key
        if course_id is not None:
            flt["c"] = course_id
        if after is not None:
            flt["_id"] = {"$gt": after}
        cursor = self.registrations_.find(
            flt, hint="learner" if learner_key is not None else "course" if course_id is not None else ID,
        ).sort("_id", ASCENDING).limit(page_limit(limit))
        return [_registration(d) for d in await cursor.to_list(None)]

    # -- attempts ------------------------------------------------------------------------

    async def _newest(self, key: str, number: int | None = None) -> dict | None:
        """The newest version of the attempt ``number`` (or of the latest attempt) of a SCO."""
        flt: dict = {"k": key}
        if number is not None:
            flt["a"] = number
        docs = await self.attempts_.find(flt, hint="versions").sort([("a", DESCENDING), ("q", DESCENDING)]).limit(1).to_list(None)
        return docs[0] if docs else None

    async def current_attempt(self, registration_id: str, sco_id: str) -> Attempt | None:
        doc = await self._newest(_key(registration_id, sco_id))
        return _attempt(doc) if doc else None

    async def start_attempt(self, registration_id: str, sco_id: str) -> Attempt:
        if await self.registrations_.find_one({"_id": registration_id}, {"_id": 1}, hint=ID) is None:
            raise NotFound(f"no registration {registration_id}")
        key = _key(registration_id, sco_id)
        while True:
            doc = await self._newest(key)
            if doc is not None and not doc["e"]:
                return _attempt(doc)
            now = self._now()
            attempt = Attempt(registration_id, sco_id, doc["a"] + 1 if doc else 1, now, now)
            try:
                await self.attempts_.insert_one(_attempt_doc(attempt))
            except DuplicateKeyError:
                continue  # another caller started it: read theirs
            return attempt

    async def attempts(self, registration_id: str) -> list[Attempt]:
        newest: dict[tuple[str, int], dict] = {}
        async for doc in self.attempts_.find({"r": registration_id}, {"data": 0}, hint="registration"):
            if (doc["s"], doc["a"]) not in newest or doc["q"] > newest[doc["s"], doc["a"]]["q"]:
                newest[doc["s"], doc["a"]] = doc
        found = []
        for (sco_id, number), doc in sorted(newest.items()):
            full = await self.attempts_.find_one({"_id": doc["_id"]}, hint=ID)
            if full is not None:  # None: superseded and deleted between the two reads
                found.append(_attempt(full))
            else:
                found.append(_attempt(await self._newest(doc["k"], number)))
        return found

    async def apply_commit(self, registration_id: str, sco_id: str, attempt_number: int, seq: int,
                           change: Callable[[Attempt], Attempt]) -> Applied:
        check_seq(seq)
        key = _key(registration_id, sco_id)
        while True:
            doc = await self._newest(key, attempt_number)
            read_at = time.monotonic()
            if doc is None:
                raise NotFound(f"no attempt {attempt_number} of SCO {sco_id!r} in registration {registration_id}")
            current = _attempt(doc)
            if not decide(current, seq):
                return Applied(current, True)
            new = changed(current, change(current), seq, self._now())
            if time.monotonic() - read_at > WRITE_DEADLINE:
                continue  # too slow: versions read may have been deleted since; read again
            try:
                await self.attempts_.insert_one(_attempt_doc(new))
            except DuplicateKeyError:
                continue  # another writer applied this seq: read it, and answer a duplicate
            # Versions superseded long enough ago that no writer can still be working from one before them.
            await self.attempts_.delete_many({"k": key, "a": attempt_number, "q": {"$lt": seq},
                                              "t": {"$lt": time.time() - KEEP_VERSIONS}}, hint="versions")
            return Applied(new, False)

    # -- sequencing ----------------------------------------------------------------------

    async def sequencing_state(self, registration_id: str) -> SequencingState | None:
        doc = await self.sequencing_.find_one({"r": registration_id}, sort=[("q", DESCENDING)], hint="versions")
        if doc is None:
            return None
        return SequencingState(doc["r"], doc["q"], doc["state"], orjson.loads(doc["rollup"]), doc["updated"])

    async def save_sequencing_state(self, registration_id: str, seq: int, state: str,
                                    rollup: dict) -> tuple[SequencingState, bool]:
        check_sequencing(seq, state, rollup)
        if await self.registrations_.find_one({"_id": registration_id}, {"_id": 1}, hint=ID) is None:
            raise NotFound(f"no registration {registration_id}")
        current = await self.sequencing_state(registration_id)
        if current is not None and current.seq >= seq:
            return current, False
        saved = SequencingState(registration_id, seq, state, dict(rollup), self._now())
        try:
            await self.sequencing_.insert_one({"_id": f"{registration_id}:{seq:012d}", "r": registration_id, "q": seq,
                                               "state": state, "rollup": orjson.dumps(saved.rollup),
                                               "updated": saved.updated})
        except DuplicateKeyError:
            return await self.sequencing_state(registration_id), False
        await self.sequencing_.delete_many({"r": registration_id, "q": {"$lt": seq}}, hint="versions")
        return saved, True

    async def global_objectives(self, learner_key: str) -> dict[str, dict]:
        out = {}
        async for doc in self.objectives_.find({"lk": learner_key}, hint="learner"):
            out[doc["o"]] = orjson.loads(doc["entry"])
        return dict(sorted(out.items()))

    async def save_global_objectives(self, learner_key: str, objectives: dict[str, dict]) -> None:
        check_objectives(objectives)
        now = self._now()
        for objective_id, entry in objectives.items():
            await self.objectives_.replace_one({"_id": _key(learner_key, objective_id)},
                                               {"lk": learner_key, "o": objective_id, "entry": orjson.dumps(entry),
                                                "updated": now}, upsert=True, hint=ID)

    # -- launch tokens -------------------------------------------------------------------

    async def consume_token(self, token_id: str, expires_at: float) -> bool:
        try:
            await self.tokens.insert_one({"_id": token_id, "x": float(expires_at)})
        except DuplicateKeyError:
            return False
        return True

    async def purge_tokens(self, now: float) -> int:
        return (await self.tokens.delete_many({"x": {"$lt": float(now)}}, hint="expiry")).deleted_count


class MongoPlayerStore(OnOwnLoop):
    """The player store port, blocking, over ``AsyncMongoPlayerStore`` running on this adapter's own event loop."""

    def __init__(self, url: str, database: str | None = None, clock: Callable[[], datetime] = utc_now):
        async def make():
            return AsyncMongoPlayerStore(url, database, clock)

        super().__init__("lrs-player-mongo", make)

    def registration_for(self, learner, course_id, latest_version):
        return self._run(self.aio.registration_for(learner, course_id, latest_version))

    def new_registration(self, learner, course_id, version, registration_id=None):
        return self._run(self.aio.new_registration(learner, course_id, version, registration_id))

    def close_registration(self, registration_id):
        return self._run(self.aio.close_registration(registration_id))

    def get_registration(self, registration_id):
        return self._run(self.aio.get_registration(registration_id))

    def registrations(self, learner_key=None, course_id=None, limit=PAGE_LIMIT, after=None):
        return self._run(self.aio.registrations(learner_key, course_id, limit, after))

    def current_attempt(self, registration_id, sco_id):
        return self._run(self.aio.current_attempt(registration_id, sco_id))

    def start_attempt(self, registration_id, sco_id):
        return self._run(self.aio.start_attempt(registration_id, sco_id))

    def attempts(self, registration_id):
        return self._run(self.aio.attempts(registration_id))

    def apply_commit(self, registration_id, sco_id, attempt_number, seq, change):
        return self._run(self.aio.apply_commit(registration_id, sco_id, attempt_number, seq, change))

    def sequencing_state(self, registration_id):
        return self._run(self.aio.sequencing_state(registration_id))

    def save_sequencing_state(self, registration_id, seq, state, rollup):
        return self._run(self.aio.save_sequencing_state(registration_id, seq, state, rollup))

    def global_objectives(self, learner_key):
        return self._run(self.aio.global_objectives(learner_key))

    def save_global_objectives(self, learner_key, objectives):
        return self._run(self.aio.save_global_objectives(learner_key, objectives))

    def consume_token(self, token_id, expires_at):
        return self._run(self.aio.consume_token(token_id, expires_at))

    def purge_tokens(self, now):
        return self._run(self.aio.purge_tokens(now))
