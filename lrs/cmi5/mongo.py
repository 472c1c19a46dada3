"""The cmi5 store on MongoDB (or FerretDB), through PyMongo's asyncio API on a loop of its own
(lrs/storage/own_loop.py). Collections ``cmi5_registrations`` and ``cmi5_sessions`` in the LRS's
database; each record is kept as JSON bytes (``data``) beside the fields queries filter on."""
from __future__ import annotations

import orjson
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from ..storage.own_loop import OnOwnLoop
from .store import ACTIVE

# (collection, keys, options, the query it serves); every query names its index (`hint`), which
# tests/test_mongo_hints.py checks is one made here. ID is the index every collection has on _id.
INDEXES = [
    ("cmi5_sessions", [("registration", ASCENDING), ("active", ASCENDING)], {"name": "registration_active"},
     "the active sessions of a registration"),
    ("cmi5_sessions", [("active", ASCENDING), ("last", ASCENDING)], {"name": "active_last"},
     "active sessions idle since before a time (the abandon sweep)"),
]
ID = "_id_"


class AsyncMongoCmi5Store:
    def __init__(self, url: str, database: str | None = None):
        self.client = AsyncMongoClient(url, appname="lrs-cmi5")
        self.db = self.client[database] if database else self.client.get_default_database("lrs")
        self.registrations = self.db["cmi5_registrations"]
        self.sessions = self.db["cmi5_sessions"]

    async def setup(self) -> None:
        for coll, keys, options, _ in INDEXES:
            await self.db[coll].create_index(keys, **options)

    async def close(self) -> None:
        await self.client.close()

    async def get(self, name: str, record_id: str) -> dict | None:
        if name == "registrations":
            doc = await self.registrations.find_one({"_id": record_id}, hint=ID)
        else:
            doc = await self.sessions.find_one({"_id": record_id}, hint=ID)
        return orjson.loads(doc["data"]) if doc else None

    async def put(self, name: str, record: dict, expected_rev: int, extra: dict) -> bool:
        coll = self.registrations if name == "registrations" else self.sessions
        record = {**record, "rev": expected_rev + 1}
        doc = {"rev": record["rev"], **extra, "data": orjson.dumps(record)}
        if expected_rev == 0:
            try:
                await coll.insert_one({"_id": record["id"], **doc})
            except DuplicateKeyError:
                return False
            return True
        flt, change = {"_id": record["id"], "rev": expected_rev}, {"$set": doc}
        if name == "registrations":
            result = await self.registrations.update_one(flt, change, hint=ID)
        else:
            result = await self.sessions.update_one(flt, change, hint=ID)
        return result.modified_count == 1

    async def active(self, registration_id: str) -> list[dict]:
        cursor = self.sessions.find({"registration": registration_id, "active": True}, hint="registration_active")
        return [orjson.loads(d["data"]) async for d in cursor]

    async def stale(self, before: float, limit: int) -> list[dict]:
        cursor = self.sessions.find({"active": True, "last": {"$lt": before}}, limit=limit, hint="active_last")
        return [orjson.loads(d["data"]) async for d in cursor]


class MongoCmi5Store(OnOwnLoop):
    def __init__(self, url: str, database: str | None = None):
        async def make():
            return AsyncMongoCmi5Store(url, database)

        super().__init__("lrs-cmi5-mongo", make)

    def get_registration(self, registration_id: str) -> dict | None:
        return self._run(self.aio.get("registrations", registration_id))

    def put_registration(self, record: dict, expected_rev: int) -> bool:
        return self._run(self.aio.put("registrations", record, expected_rev, {}))

    def get_session(self, session_id: str) -> dict | None:
        return self._run(self.aio.get("sessions", session_id))

    def put_session(self, record: dict, expected_rev: int) -> bool:
        extra = {"registration": record["registration"], "active": record["state"] in ACTIVE,
                 "last": float(record["last"])}
        return self._run(self.aio.put("sessions", record, expected_rev, extra))

    def active_sessions(self, registration_id: str) -> list[dict]:
        return self._run(self.aio.active(registration_id))

    def stale_sessions(self, before: float, limit: int = 100) -> list[dict]:
        return self._run(self.aio.stale(before, limit))
