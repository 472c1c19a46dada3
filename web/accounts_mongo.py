"""The account store on MongoDB (or FerretDB): collections ``web_accounts`` and ``web_sessions`` of the
LRS's database; an account's ``_id`` is its user name (unique: of two creators, one wins)."""
from __future__ import annotations

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from lrs.storage.own_loop import OnOwnLoop, add_blocking_methods

from .accounts import Account, Session

# (collection, keys, options, the query it serves); every query names its index (`hint`), which
# tests/test_mongo_hints.py checks is one made here. ID is the index every collection has on _id.
INDEXES = [
    ("web_sessions", [("username", ASCENDING)], {"name": "username"}, "the sessions of an account, to end them"),
]
ID = "_id_"


def _account(d) -> Account:
    return Account(d["_id"], d["role"], d["password_hash"], d.get("person_id"), bool(d["disabled"]), d["created"])


def _doc(a: Account) -> dict:
    return {"_id": a.username, "role": a.role, "password_hash": a.password_hash, "person_id": a.person_id,
            "disabled": a.disabled, "created": a.created}


class AsyncMongoAccountStore:
    def __init__(self, url: str, database: str | None = None):
        self.client = AsyncMongoClient(url, appname="lrs-web-accounts")
        self.db = db = self.client[database] if database else self.client.get_default_database("lrs")
        self.accounts_, self.sessions_ = db["web_accounts"], db["web_sessions"]

    async def setup(self) -> None:
        for coll, keys, options, _ in INDEXES:
            await self.db[coll].create_index(keys, **options)

    async def close(self) -> None:
        await self.client.close()

    async def add_account(self, account):
        try:
            await self.accounts_.insert_one(_doc(account))
        except DuplicateKeyError:
            return False
        return True

    async def put_account(self, account):
        await self.accounts_.replace_one({"_id": account.username}, _doc(account), hint=ID)

    async def account(self, username):
        d = await self.accounts_.find_one({"_id": username}, hint=ID)
        return _account(d) if d else None

    async def accounts(self):
        return [_account(d) for d in await self.accounts_.find({}, hint=ID).sort("_id", ASCENDING).to_list(None)]

    async def add_session(self, session):
        await self.sessions_.insert_one({"_id": session.id, "username": session.username,
                                         "expires": session.expires, "created": session.created})

    async def session(self, session_id):
        d = await self.sessions_.find_one({"_id": session_id}, hint=ID)
        return Session(d["_id"], d["username"], d["expires"], d["created"]) if d else None

    async def delete_session(self, session_id):
        await self.sessions_.delete_one({"_id": session_id}, hint=ID)

    async def delete_sessions(self, username):
        return (await self.sessions_.delete_many({"username": username}, hint="username")).deleted_count


_METHODS = ["add_account", "put_account", "account", "accounts", "add_session", "session", "delete_session",
            "delete_sessions"]


class MongoAccountStore(OnOwnLoop):
    def __init__(self, url: str, database: str | None = None):
        async def make():
            return AsyncMongoAccountStore(url, database)

        super().__init__("lrs-web-accounts-mongo", make)


add_blocking_methods(MongoAccountStore, _METHODS)
