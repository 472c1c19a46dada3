"""The rules' scale-out store: MongoDB (or FerretDB) through PyMongo's asyncio API, in collections
``rules_*`` of the LRS's database.

Like lrs/storage/mongo.py it relies on what MongoDB and FerretDB both make atomic, inserting one
document under a unique ``_id``: people versions (``person|version``), definition versions
(``kind|id|version``), publications (``n``), facts and voids (statement id), actions, lease terms
and history events (``n``) are inserts, so of two writers of one key exactly one wins. The
current-version pointers of people, the engine checkpoint, the dirty marks and the records are
replaced whole (a cache or a position that replaying recomputes).

The port is blocking (rules/storage/ports.py): ``MongoRulesStore`` runs every call as a coroutine of
``AsyncMongoRulesStore`` on its own event loop thread.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Callable

import orjson
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from lrs.storage.own_loop import OnOwnLoop, add_blocking_methods

from ..chain import link
from .ports import (GENESIS, PAGE_LIMIT, Action, DefinitionVersion, Fact, HistoryEvent, LeaseLost, PersonVersion,
                    Publication, Record, page_limit, timestamp, utc_now)

INDEXES = [
    ("rules_people", [("p", ASCENDING), ("v", ASCENDING)], {"name": "person"}, "versions of a person"),
    ("rules_identities", [("p", ASCENDING)], {"name": "person"}, "identities of a person"),
    ("rules_people_current", [("sup", ASCENDING), ("_id", ASCENDING)], {"name": "supervisor"},
     "the people a supervisor supervises, in order"),
    ("rules_definitions", [("k", ASCENDING), ("i", ASCENDING), ("v", ASCENDING)], {"name": "definition"},
     "versions of a definition"),
    ("rules_facts", [("a", ASCENDING)], {"name": "agent"}, "facts of an agent"),
    ("rules_actions", [("p", ASCENDING), ("r", ASCENDING)], {"name": "person"}, "actions on a person"),
    ("rules_records", [("c", ASCENDING), ("p", ASCENDING)], {"name": "roster"}, "roster of a certification"),
    ("rules_records", [("p", ASCENDING)], {"name": "person"}, "records of a person"),
    ("rules_records", [("nx", ASCENDING)], {"name": "next_change"}, "records whose status changes with time"),
    ("rules_records", [("exp", ASCENDING)], {"name": "expires"}, "records expiring by a day (the dashboard's counts)"),
    ("rules_history", [("p", ASCENDING), ("_id", ASCENDING)], {"name": "person_order"},
     "history of a person (of one of their certifications: filtered in the index's order)"),
    ("rules_history", [("c", ASCENDING), ("_id", ASCENDING)], {"name": "certification_order"},
     "history of a certification, in event order"),
]
# Indexes of earlier layouts, dropped at start-up: each gave way to one that also serves its query's sort.
DROPPED_INDEXES = [("rules_history", "person"), ("rules_history", "certification")]
# Every query names its index (`hint`); tests/test_mongo_hints.py checks each names one made
# here. ID is the index MongoDB makes on every collection's _id.
ID = "_id_"


def _person(d) -> PersonVersion:
    return PersonVersion(d["p"], d["v"], d["since"], tuple(d["ids"]), tuple(orjson.loads(d["agents"])),
                         orjson.loads(d["attrs"]), d["src"])


def _definition(d) -> DefinitionVersion:
    return DefinitionVersion(d["k"], d["i"], d["v"], orjson.loads(d["body"]), d["created"], d["who"], d["why"])


def _fact(d) -> Fact:
    return Fact(d["i"], d["_id"], d["a"], d["o"], d["vb"], d["ts"], d.get("su"), d.get("co"), d.get("sc"), d.get("rg"))


def _action(d) -> Action:
    return Action(d["_id"], d["p"], d["k"], d["t"], orjson.loads(d["body"]), d["reason"], d["who"], d["r"])


def _event(d) -> HistoryEvent:
    return HistoryEvent(d["_id"], d["prev"], d["hash"], orjson.loads(d["body"]))


def _record(d) -> Record:
    b = orjson.loads(d["body"])
    return Record(d["p"], d["c"], d["st"], b["earned"], b["valid_from"], d["exp"], b["due"], d["nx"],
                  b["definition_version"], b["evidence"], d["site"], tuple(d["roles"]),
                  tuple(tuple(t) for t in b["timeline"]), b["updated"])


class AsyncMongoRulesStore:
    def __init__(self, url: str, database: str | None = None, clock: Callable[[], datetime] = utc_now):
        self.client = AsyncMongoClient(url, appname="lrs-rules")
        self.db = self.client[database] if database else self.client.get_default_database("lrs")
        self.clock = clock
        c = self.db
        self.people_, self.current, self.identities = c["rules_people"], c["rules_people_current"], c["rules_identities"]
        self.definitions, self.publications_ = c["rules_definitions"], c["rules_publications"]
        self.facts, self.voids = c["rules_facts"], c["rules_voids"]
        self.actions, self.lease, self.checkpoint_ = c["rules_actions"], c["rules_lease"], c["rules_checkpoint"]
        self.dirty_, self.records, self.history_ = c["rules_dirty"], c["rules_records"], c["rules_history"]

    async def setup(self) -> None:
        for coll, keys, options, _ in INDEXES:
            await self.db[coll].create_index(keys, **options)
        # current-version pointers written before they carried the supervisor (``sup``): add it
        async for d in self.current.find({"sup": {"$exists": False}}, {"d.attrs": 1}, hint=ID):
            sup = orjson.loads(d["d"]["attrs"]).get("supervisor")
            await self.current.update_one({"_id": d["_id"]}, {"$set": {"sup": sup}}, hint=ID)
        for coll, name in DROPPED_INDEXES:
            try:
                await self.db[coll].drop_index(name)
            except OperationFailure:  # not there (a new database, or dropped already)
                pass

    async def close(self) -> None:
        await self.client.close()

    def _now(self) -> str:
        return timestamp(self.clock())

    # -- people --------------------------------------------------------------------------

    async def _current_person(self, person_id):
        """The newest version (from the versions themselves: the ``rules_people_current`` pointer, used for
        listing, may lag behind when a writer died between the two writes)."""
        docs = await self.people_.find({"p": person_id}, hint="person").sort("v", DESCENDING).limit(1).to_list(None)
        return _person(docs[0]) if docs else None

    async def put_person(self, person_id, agents, identities, attributes, source):
        identities = sorted(set(identities))
        while True:
            current = await self._current_person(person_id)
            if current and list(current.identities) == identities and current.attributes == attributes:
                pointer = await self.current.find_one({"_id": person_id}, {"d.v": 1}, hint=ID)
                if pointer is None or pointer["d"]["v"] < current.version:   # repair a pointer left behind
                    doc = await self.people_.find_one({"_id": f"{person_id}|{current.version:09d}"}, hint=ID)
                    await self.current.replace_one({"_id": person_id}, _pointer(person_id, doc), upsert=True,
                                                   hint=ID)
                return None
            for identity in identities:
                try:
                    await self.identities.insert_one({"_id": identity, "p": person_id})
                except DuplicateKeyError:
                    owner = await self.identities.find_one({"_id": identity}, hint=ID)
                    if owner and owner["p"] != person_id:
                        raise ValueError(f"the identity {identity} belongs to person {owner['p']}") from None
            number = current.version + 1 if current else 1
            doc = {"_id": f"{person_id}|{number:09d}", "p": person_id, "v": number, "since": self._now(),
                   "ids": identities, "agents": orjson.dumps(list(agents)), "attrs": orjson.dumps(attributes),
                   "src": source}
            try:
                await self.people_.insert_one(doc)
            except DuplicateKeyError:
                continue  # another writer made this version: compare with theirs
            await self.current.replace_one({"_id": person_id}, _pointer(person_id, doc), upsert=True, hint=ID)
            if current:
                gone = set(current.identities) - set(identities)
                if gone:
                    await self.identities.delete_many({"_id": {"$in": sorted(gone)}, "p": person_id}, hint=ID)
            return _person(doc)

    async def person(self, person_id):
        return [_person(d) async for d in self.people_.find({"p": person_id}, hint="person").sort("v", ASCENDING)]

    async def people(self, after=None, limit=PAGE_LIMIT):
        flt = {"_id": {"$gt": after}} if after is not None else {}
        docs = await self.current.find(flt, hint=ID).sort("_id", ASCENDING).limit(page_limit(limit)).to_list(None)
        return [_person(d["d"]) for d in docs]

    async def persons(self, person_ids):
        out: dict[str, list[PersonVersion]] = {}
        ids = list(person_ids)
        for i in range(0, len(ids), 500):
            async for d in self.people_.find({"p": {"$in": ids[i:i + 500]}}, hint="person"):
                out.setdefault(d["p"], []).append(_person(d))
        return {p: sorted(vs, key=lambda v: v.version) for p, vs in sorted(out.items())}

    async def people_versions(self):
        return await self.people_.count_documents({}, hint=ID)

    async def supervised_by(self, person_id):
        docs = await self.current.find({"sup": person_id}, {"_id": 1}, hint="supervisor").to_list(None)
        return sorted(d["_id"] for d in docs)

    async def persons_for(self, identities):
        out = {}
        ids = list(identities)
        for i in range(0, len(ids), 500):
            async for d in self.identities.find({"_id": {"$in": ids[i:i + 500]}}, hint=ID):
                out[d["_id"]] = d["p"]
        return out

    # -- definitions ---------------------------------------------------------------------

    async def save_definition(self, kind, def_id, body, who, why):
        while True:
            top = await self.definition(kind, def_id)
            d = DefinitionVersion(kind, def_id, (top.version if top else 0) + 1, body, self._now(), who, why)
            try:
                await self.definitions.insert_one({"_id": f"{kind}|{def_id}|{d.version:09d}", "k": kind, "i": def_id,
                                                   "v": d.version, "body": orjson.dumps(body), "created": d.created,
                                                   "who": who, "why": why})
            except DuplicateKeyError:
                continue
            return d

    async def definition(self, kind, def_id, version=None):
        if version is None:
            docs = await self.definitions.find({"k": kind, "i": def_id}, hint="definition").sort("v", DESCENDING).limit(1).to_list(None)
            return _definition(docs[0]) if docs else None
        doc = await self.definitions.find_one({"_id": f"{kind}|{def_id}|{int(version):09d}"}, hint=ID)
        return _definition(doc) if doc else None

    async def definition_versions(self, kind=None):
        flt = {"k": kind} if kind else {}
        docs = await self.definitions.find(flt, hint="definition").to_list(None)
        return sorted((_definition(d) for d in docs), key=lambda d: (d.kind, d.id, d.version))

    async def publish(self, kind, def_id, version, who, why):
        if await self.definition(kind, def_id, version) is None:
            raise KeyError(f"no version {version} of {kind} {def_id!r}")
        while True:
            docs = await self.publications_.find({}, hint=ID).sort("_id", DESCENDING).limit(1).to_list(None)
            n = (docs[0]["_id"] if docs else 0) + 1
            p = Publication(n, kind, def_id, int(version), self._now(), who, why)
            try:
                await self.publications_.insert_one({"_id": n, "k": kind, "i": def_id, "v": p.version, "at": p.at,
                                                     "who": who, "why": why})
            except DuplicateKeyError:
                continue
            return p

    async def publications(self):
        return [Publication(d["_id"], d["k"], d["i"], d["v"], d["at"], d["who"], d["why"])
                async for d in self.publications_.find({}, hint=ID).sort("_id", ASCENDING)]

    # -- facts ---------------------------------------------------------------------------

    async def _insert_many(self, coll, docs):
        if not docs:
            return
        try:
            await coll.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    async def add_facts(self, facts, voids):
        await self._insert_many(self.facts, [
            {"_id": f.seq, "i": f.statement_id, "a": f.agent_key, "o": f.activity_id, "vb": f.verb, "ts": f.timestamp,
             "su": f.success, "co": f.completion, "sc": f.scaled, "rg": f.registration} for f in facts])
        await self._insert_many(self.voids, [{"_id": v.voided_id, "by": v.by_id, "s": v.seq} for v in voids])

    async def facts_for(self, identities, activities=None):
        ids = list(identities)
        if activities is not None and not activities:
            return []
        flt = {"a": {"$in": ids}}
        if activities is not None:
            flt["o"] = {"$in": sorted(set(activities))}
        facts = [_fact(d) async for d in self.facts.find(flt, hint="agent")] if ids else []
        if facts:
            sids = [f.statement_id for f in facts]
            voided = set()
            for i in range(0, len(sids), 500):
                async for d in self.voids.find({"_id": {"$in": sids[i:i + 500]}}, {"_id": 1}, hint=ID):
                    voided.add(d["_id"])
            facts = [f for f in facts if f.statement_id not in voided]
        facts.sort(key=lambda f: f.seq)
        return facts

    # -- actions -------------------------------------------------------------------------

    async def add_action(self, a):
        await self.actions.insert_one({"_id": a.id, "p": a.person_id, "k": a.kind, "t": a.target,
                                       "body": orjson.dumps(a.body), "reason": a.reason, "who": a.who, "r": a.recorded})

    async def actions_for(self, person_id):
        docs = await self.actions.find({"p": person_id}, hint="person").to_list(None)
        return sorted((_action(d) for d in docs), key=lambda a: (a.recorded, a.id))

    async def actions_of(self, person_ids):
        out: dict[str, list[Action]] = {}
        ids = list(person_ids)
        for i in range(0, len(ids), 500):
            async for d in self.actions.find({"p": {"$in": ids[i:i + 500]}}, hint="person"):
                out.setdefault(d["p"], []).append(_action(d))
        return {p: sorted(acts, key=lambda a: (a.recorded, a.id)) for p, acts in sorted(out.items())}

    # -- engine --------------------------------------------------------------------------

    async def _lease_top(self):
        docs = await self.lease.find({}, hint=ID).sort("_id", DESCENDING).limit(1).to_list(None)
        return docs[0] if docs else None

    async def take_lease(self, holder, now, seconds):
        top = await self._lease_top()
        if top and top["h"] != holder and top["u"] > now:
            return False
        term = (top["_id"] if top else 0) + 1
        try:
            await self.lease.insert_one({"_id": term, "h": holder, "u": now + seconds})
        except DuplicateKeyError:
            return False
        await self.lease.delete_many({"_id": {"$lt": term - 10}}, hint=ID)
        return True

    async def release_lease(self, holder, now):
        top = await self._lease_top()
        if top and top["h"] == holder:
            try:
                await self.lease.insert_one({"_id": top["_id"] + 1, "h": "", "u": 0.0})
            except DuplicateKeyError:
                pass

    async def checkpoint(self):
        doc = await self.checkpoint_.find_one({"_id": "engine"}, hint=ID)
        return orjson.loads(doc["body"]) if doc else {}

    async def set_checkpoint(self, checkpoint):
        doc = {"_id": "engine", "body": orjson.dumps(checkpoint)}
        for _ in range(3):
            try:
                await self.checkpoint_.replace_one({"_id": "engine"}, doc, upsert=True, hint=ID)
                return
            except DuplicateKeyError:
                continue

    async def mark_dirty(self, person_ids):
        for p in person_ids:
            doc = {"_id": p, "stamp": uuid.uuid4().hex}
            try:
                await self.dirty_.replace_one({"_id": p}, doc, upsert=True, hint=ID)
            except DuplicateKeyError:
                await self.dirty_.replace_one({"_id": p}, doc, upsert=True, hint=ID)

    async def dirty(self, limit=PAGE_LIMIT, after=None):
        query = {"_id": {"$gt": after}} if after is not None else {}
        docs = await self.dirty_.find(query, hint=ID).sort("_id", ASCENDING).limit(page_limit(limit)).to_list(None)
        return [(d["_id"], d["stamp"]) for d in docs]

    async def clear_dirty(self, marks):
        for p, stamp in marks:
            await self.dirty_.delete_one({"_id": p, "stamp": stamp}, hint=ID)

    # -- records -------------------------------------------------------------------------

    async def put_records(self, records):
        if not records:
            return
        ops = []
        for r in records:
            key = f"{r.certification}|{r.person_id}"
            ops.append(ReplaceOne({"_id": key}, {"_id": key, "p": r.person_id, "c": r.certification, "st": r.status,
                                                 "exp": r.expires, "nx": r.next_change, "site": r.site,
                                                 "roles": list(r.roles), "body": _record_body(r)}, upsert=True,
                                   hint=ID))
        try:
            await self.records.bulk_write(ops, ordered=False)
        except BulkWriteError:
            for op in ops:  # two upserts of one new _id can collide: the next replace wins
                await self.records.replace_one(op._filter, op._doc, upsert=True, hint=ID)

    async def records_for(self, person_id):
        docs = await self.records.find({"p": person_id}, hint="person").to_list(None)
        return sorted((_record(d) for d in docs), key=lambda r: r.certification)

    async def roster(self, certification, status=None, site=None, role=None, expires_by=None, after=None,
                     limit=PAGE_LIMIT, people=None):
        flt = self._roster_filter(certification, status, site, role, expires_by, after, people)
        docs = await self.records.find(flt, hint="roster").sort("p", ASCENDING).limit(page_limit(limit)).to_list(None)
        return [_record(d) for d in docs]

    async def roster_table(self, certification, status=None, site=None, role=None, expires_by=None, people=None):
        flt = self._roster_filter(certification, status, site, role, expires_by, None, people)
        out = []
        async for d in self.records.find(flt, {"p": 1, "st": 1, "exp": 1, "site": 1, "roles": 1, "body": 1},
                                         hint="roster").sort("p", ASCENDING):
            b = orjson.loads(d["body"])
            out.append((d["p"], d["st"], b["earned"], b["valid_from"], d["exp"], b["due"], d["site"],
                        tuple(d["roles"]), b["definition_version"], tuple(b["evidence"].get("statements", ()))))
        return out

    @staticmethod
    def _roster_filter(certification, status, site, role, expires_by, after, people) -> dict:
        flt: dict = {"c": certification}
        if after is not None:
            flt["p"] = {"$gt": after}
        if people is not None:
            flt.setdefault("p", {})["$in"] = list(people)
        if status:
            flt["st"] = {"$in": list(status)}
        if site is not None:
            flt["site"] = site
        if role is not None:
            flt["roles"] = role
        if expires_by is not None:
            flt["exp"] = {"$ne": None, "$lte": expires_by}
        return flt

    async def status_counts(self, certification):
        pipeline = [{"$match": {"c": certification}},
                    {"$group": {"_id": {"st": "$st", "site": "$site", "roles": "$roles"}, "n": {"$sum": 1}}}]
        cursor = await self.records.aggregate(pipeline, hint="roster")
        return [(d["_id"]["st"], d["_id"].get("site"), tuple(d["_id"].get("roles") or ()), d["n"])
                async for d in cursor]

    async def count_records(self, expires_by=(), people=None, expiring=None):
        key = {"_id": {"c": "$c", "st": "$st", "site": "$site", "roles": "$roles"}, "n": {"$sum": 1}}
        of = {} if expiring is None else {"st": {"$in": list(expiring)}}

        async def groups(cursor) -> dict:
            out = {}
            async for d in cursor:
                k = d["_id"]
                out[(k["c"], k["st"], k.get("site"), tuple(k.get("roles") or ()))] = d["n"]
            return out

        if people is None:
            counts = await groups(await self.records.aggregate([{"$group": key}], hint=ID))
            by_day = [await groups(await self.records.aggregate(
                [{"$match": {"exp": {"$ne": None, "$lte": day}, **of}}, {"$group": key}], hint="expires"))
                for day in expires_by]
        else:
            who = {"p": {"$in": list(people)}}
            counts = await groups(await self.records.aggregate([{"$match": who}, {"$group": key}], hint="person"))
            by_day = [await groups(await self.records.aggregate(
                [{"$match": {**who, "exp": {"$ne": None, "$lte": day}, **of}}, {"$group": key}], hint="person"))
                for day in expires_by]
        return [(*k, n, tuple(d.get(k, 0) for d in by_day)) for k, n in counts.items()]

    async def due_people(self, day, limit=PAGE_LIMIT):
        docs = await self.records.find({"nx": {"$ne": None, "$lte": day}}, {"p": 1}, hint="next_change").limit(page_limit(limit)).to_list(None)
        return sorted({d["p"] for d in docs})

    # -- history -------------------------------------------------------------------------

    async def chain_head(self):
        docs = await self.history_.find({}, {"hash": 1}, hint=ID).sort("_id", DESCENDING).limit(1).to_list(None)
        return (docs[0]["_id"], docs[0]["hash"]) if docs else (-1, GENESIS)

    async def append_history(self, bodies, holder=None, after=None):
        if not bodies:
            return []
        if holder is not None:
            top = await self._lease_top()
            if not top or top["h"] != holder:
                raise LeaseLost(f"{holder} no longer holds the rules engine's lease")
        n, prev = await self.chain_head()
        if after is not None and n != after:
            # another process appended since: the caller's view is stale (if one appends between this
            # read and the inserts below, the insert of event after + 1 collides and raises LeaseLost)
            raise LeaseLost(f"the history has event {n}, not {after}: another process appended since")
        out = []
        for body in bodies:
            n += 1
            h = link(prev, body)
            try:
                await self.history_.insert_one({"_id": n, "prev": prev, "hash": h, "p": body.get("person"),
                                                "c": body.get("certification"), "body": orjson.dumps(body)})
            except DuplicateKeyError:
                raise LeaseLost(f"history event {n} was written by another process") from None
            out.append(HistoryEvent(n, prev, h, body))
            prev = h
        return out

    async def history(self, after=-1, limit=PAGE_LIMIT):
        docs = await self.history_.find({"_id": {"$gt": after}}, hint=ID).sort("_id", ASCENDING).limit(page_limit(limit)).to_list(None)
        return [_event(d) for d in docs]

    async def history_for(self, person_id, certification=None):
        flt = {"p": person_id}
        if certification is not None:
            flt["c"] = certification
        return [_event(d) async for d in self.history_.find(flt, hint="person_order").sort("_id", ASCENDING)]

    async def history_of(self, certification):
        return [_event(d) async for d in self.history_.find({"c": certification}, hint="certification_order")
                .sort("_id", ASCENDING)]


def _pointer(person_id: str, doc: dict) -> dict:
    """The current-version pointer of a person: the version, and its supervisor to find a team by."""
    return {"_id": person_id, "d": doc, "sup": orjson.loads(doc["attrs"]).get("supervisor")}


def _record_body(r: Record) -> bytes:
    from .sqlite import record_body

    return record_body(r)


_METHODS = ["put_person", "person", "people", "persons_for", "save_definition", "definition", "definition_versions",
            "publish", "publications", "add_facts", "facts_for", "add_action", "actions_for",
            "persons", "actions_of",
            "take_lease", "release_lease", "checkpoint", "set_checkpoint", "mark_dirty", "dirty", "clear_dirty",
            "put_records", "records_for", "roster", "roster_table", "status_counts", "count_records", "due_people", "supervised_by", "people_versions", "append_history", "history", "history_for",
            "history_of", "chain_head"]


class MongoRulesStore(OnOwnLoop):
    """The rules store port, blocking, over ``AsyncMongoRulesStore`` on this adapter's own event loop."""

    def __init__(self, url: str, database: str | None = None, clock: Callable[[], datetime] = utc_now):
        async def make():
            return AsyncMongoRulesStore(url, database, clock)

        super().__init__("lrs-rules-mongo", make)


add_blocking_methods(MongoRulesStore, _METHODS)
