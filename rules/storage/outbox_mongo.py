"""The outbox store on MongoDB (or FerretDB): collections ``rules_outbox_*`` of the LRS's database.

Reminders and deliveries are inserts under their unique id (of two writers, one stores it); a
delivery is claimed with a conditional update (``claimed_until`` still in the past), which both
MongoDB and FerretDB make atomic for one document."""
from __future__ import annotations

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from lrs.storage.own_loop import OnOwnLoop, add_blocking_methods

from .outbox import DELIVERY_STATES, DELIVERED, FAILED, Delivery, Endpoint, Reminder, page

# (collection, keys, options, the query it serves); created at start-up, listed in the README.
INDEXES = [
    ("rules_outbox_reminders", [("person_id", ASCENDING), ("_id", ASCENDING)], {"name": "person"},
     "a person's reminders, in id order"),
    ("rules_outbox_deliveries", [("state", ASCENDING), ("next_at", ASCENDING), ("_id", ASCENDING)],
     {"name": "due_order"}, "the deliveries due (pending or retrying), in (next_at, id) order"),
]
# Indexes of earlier layouts, dropped at start-up: (state, next_at) did not serve the claim's sort.
DROPPED_INDEXES = [("rules_outbox_deliveries", "due")]
# Every query names its index (`hint`); ID is the index MongoDB makes on every collection's _id.
ID = "_id_"
# The states a delivery can still be claimed in: an $in of them (not a $nin of the final ones) gives
# MongoDB one index range per state, merged in (next_at, _id) order.
OPEN_STATES = [s for s in DELIVERY_STATES if s not in (DELIVERED, FAILED)]


def _delivery(d) -> Delivery:
    return Delivery(d["_id"], d["reminder_id"], d["endpoint_id"], d["state"], d["attempts"], d["next_at"],
                    d["last_error"], d["last_at"], d["created"], d["claimed_until"], tuple(d.get("log", ())))


def _delivery_doc(d: Delivery) -> dict:
    body = {k: v for k, v in d.__dict__.items() if k != "id"}
    return {"_id": d.id, **body, "log": list(d.log)}


class AsyncMongoOutboxStore:
    def __init__(self, url: str, database: str | None = None):
        self.client = AsyncMongoClient(url, appname="lrs-rules-outbox")
        db = self.client[database] if database else self.client.get_default_database("lrs")
        self.cursors, self.reminders_ = db["rules_outbox_cursors"], db["rules_outbox_reminders"]
        self.endpoints_, self.deliveries_ = db["rules_outbox_endpoints"], db["rules_outbox_deliveries"]

    async def setup(self) -> None:
        db = self.reminders_.database
        for coll, keys, options, _ in INDEXES:
            await db[coll].create_index(keys, **options)
        for coll, name in DROPPED_INDEXES:
            try:
                await db[coll].drop_index(name)
            except OperationFailure:  # not there (a new database, or dropped already)
                pass

    async def close(self) -> None:
        await self.client.close()

    async def cursor(self, name):
        d = await self.cursors.find_one({"_id": name}, hint=ID)
        return d["v"] if d else {}

    async def set_cursor(self, name, value):
        await self.cursors.replace_one({"_id": name}, {"_id": name, "v": value}, upsert=True, hint=ID)

    async def _insert_new(self, coll, docs) -> set:
        """Insert each document whose _id is new; the ids this call stored."""
        if not docs:
            return set()
        try:
            await coll.insert_many(docs, ordered=False)
            return {d["_id"] for d in docs}
        except BulkWriteError as exc:
            failed = {docs[e["index"]]["_id"] for e in exc.details.get("writeErrors", ()) if e.get("code") == 11000}
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", ())):
                raise
            return {d["_id"] for d in docs} - failed

    async def add_reminders(self, reminders):
        stored = await self._insert_new(self.reminders_, [{"_id": r.id, **r.__dict__} for r in reminders])
        return [r for r in reminders if r.id in stored]

    @staticmethod
    def _reminder(d) -> Reminder:
        return Reminder(**{k: v for k, v in d.items() if k != "_id"})

    async def reminder(self, reminder_id):
        d = await self.reminders_.find_one({"_id": reminder_id}, hint=ID)
        return self._reminder(d) if d else None

    async def reminders(self, person_id=None, after=None, limit=1000):
        flt = {"_id": {"$gt": after or ""}}
        if person_id is not None:
            flt["person_id"] = person_id
        docs = await self.reminders_.find(flt, hint="person" if person_id is not None else ID).sort("_id", ASCENDING).limit(page(limit)).to_list(None)
        return [self._reminder(d) for d in docs]

    async def put_endpoint(self, endpoint):
        doc = {**endpoint.__dict__, "kinds": list(endpoint.kinds)}
        await self.endpoints_.replace_one({"_id": endpoint.id}, {"_id": endpoint.id, **doc}, upsert=True, hint=ID)

    @staticmethod
    def _endpoint(d) -> Endpoint:
        return Endpoint(**{**{k: v for k, v in d.items() if k != "_id"}, "kinds": tuple(d["kinds"])})

    async def endpoint(self, endpoint_id):
        d = await self.endpoints_.find_one({"_id": endpoint_id}, hint=ID)
        return self._endpoint(d) if d else None

    async def endpoints(self):
        return [self._endpoint(d) async for d in self.endpoints_.find({}, hint=ID).sort("_id", ASCENDING)]

    async def delete_endpoint(self, endpoint_id):
        return (await self.endpoints_.delete_one({"_id": endpoint_id}, hint=ID)).deleted_count > 0

    async def add_deliveries(self, deliveries):
        return len(await self._insert_new(self.deliveries_, [_delivery_doc(d) for d in deliveries]))

    async def claim_deliveries(self, now, until, limit=100):
        flt = {"state": {"$in": OPEN_STATES}, "next_at": {"$lte": now}, "claimed_until": {"$lte": now}}
        docs = await self.deliveries_.find(flt, hint="due_order").sort([("next_at", ASCENDING), ("_id", ASCENDING)]) \
            .limit(page(limit)).to_list(None)
        out = []
        for d in docs:
            done = await self.deliveries_.update_one({"_id": d["_id"], "claimed_until": d["claimed_until"],
                                                      "state": d["state"]}, {"$set": {"claimed_until": until}},
                                                     hint=ID)
            if done.modified_count == 1:
                d["claimed_until"] = until
                out.append(_delivery(d))
        return out

    async def finish_delivery(self, delivery):
        doc = _delivery_doc(delivery)
        doc["claimed_until"] = 0.0
        await self.deliveries_.replace_one({"_id": delivery.id}, doc, hint=ID)

    async def deliveries(self, states=None, after=None, limit=1000):
        flt = {"_id": {"$gt": after or ""}}
        if states:
            flt["state"] = {"$in": list(states)}
        docs = await self.deliveries_.find(flt, hint=ID).sort("_id", ASCENDING).limit(page(limit)).to_list(None)
        return [_delivery(d) for d in docs]


_METHODS = ["cursor", "set_cursor", "add_reminders", "reminder", "reminders", "put_endpoint", "endpoint", "endpoints",
            "delete_endpoint", "add_deliveries", "claim_deliveries", "finish_delivery", "deliveries"]


class MongoOutboxStore(OnOwnLoop):
    def __init__(self, url: str, database: str | None = None):
        async def make():
            return AsyncMongoOutboxStore(url, database)

        super().__init__("lrs-rules-outbox-mongo", make)


add_blocking_methods(MongoOutboxStore, _METHODS)

__all__ = ["MongoOutboxStore", "DuplicateKeyError"]
