"""The cmi5 store on MongoDB (or FerretDB), through PyMongo's asyncio API on a loop of its own
(lrs/storage/own_loop.py). Collections ``cmi5_registrations`` and ``cmi5_sessions`` in the LRS's
database; each record is kept as JSON bytes (``data``) beside the fields queries filter on."""
from __future__ import annotations

import orjson
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from ..storage.own_loop import OnOwnLoop
from .store import ACTIVE


class AsyncMongoCmi5Store:
    def __init__(self, url: str, database: str | None = None):
        self.client = AsyncMongoClient(url, appname="lrs-cmi5")
        self.db = self.client[database] if database else self.client.get_default_database("lrs")
        self.registrations = self.db["cmi5_registrations"]
        self.sessions = self.db["cmi5_sessions"]

    async def setup(self) -> None:
        await self.sessions.create_index([("registration", ASCENDING), ("active", ASCENDING)])
        await self.sessions.create_index([("active", ASCENDING), ("last", ASCENDING)])

    async def close(self) -> None:
        await self.client.close()

    async def get(self, coll, record_id: str) -> dict | None:
        doc = await coll.find_one({"_id": record_id})
        return orjson.loads(doc["data"]) if doc else None

    async def put(self, coll, record: dict, expected_rev: int, extra: dict) -> bool:
        record = {**record, "rev": expected_rev + 1}
        doc = {"rev": record["rev"], **extra, "data": orjson.dumps(record)}
        if expected_rev == 0:
            try:
                await coll.insert_one({"_id": record["id"], **doc})
            except DuplicateKeyError:
                return False
            return True
        result = await coll.update_one({"_id": record["id"], "rev": expected_rev}, {"$set": doc})
        return result.modified_count == 1

    async def find(self, query: dict, limit: int = 0) -> list[dict]:
        return [orjson.loads(d["data"]) async for d in self.sessions.find(query, limit=limit)]


class MongoCmi5Store(OnOwnLoop):
    def __init__(self, url: str, database: str | None = None):
        async def make():
            return AsyncMongoCmi5Store(url, database)

        super().__init__("lrs-cmi5-mongo", make)

    def get_registration(self, registration_id: str) -> dict | None:
        return self._run(self.aio.get(self.aio.registrations, registration_id))

    def put_registration(self, record: dict, expected_rev: int) -> bool:
        return self._run(self.aio.put(self.aio.registrations, record, expected_rev, {}))

    def get_session(self, session_id: str) -> dict | None:
        return self._run(self.aio.get(self.aio.sessions, session_id))

    def put_session(self, record: dict, expected_rev: int) -> bool:
        extra = {"registration": record["registration"], "active": record["state"] in ACTIVE,
                 "last": float(record["last"])}
        return self._run(self.aio.put(self.aio.sessions, record, expected_rev, extra))

    def active_sessions(self, registration_id: str) -> list[dict]:
        return self._run(self.aio.find({"registration": registration_id, "active": True}))

    def stale_sessions(self, before: float, limit: int = 100) -> list[dict]:
        return self._run(self.aio.find({"active": True, "last": {"$lt": before}}, limit))
