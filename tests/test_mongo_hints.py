"""Every query the mongo adapters send names the index built for it (`hint`), and that index is one the
adapter creates: so MongoDB's planner cannot pick a worse plan as the data grows.

The check reads each adapter's source: every call of a query method (find, update, delete, aggregate,
...) on one of its collections must pass ``hint=`` with a value that names an index of that collection
in the adapter's ``INDEXES`` table, or ``_id_`` (the index every collection has), or a deliberate
collection scan (``$natural``). On a server the indexes made at start-up are exactly the table's.
(SecantusDB, like MongoDB, also refuses a hint that names no index; FerretDB 1.x ignores hints.)"""
from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "lrs"))
from lrs_testkit import fresh_mongodb_url  # noqa: E402

ADAPTERS = ["lrs.storage.mongo", "rules.storage.mongo", "rules.storage.outbox_mongo", "player.storage.mongo",
            "lrs.cmi5.mongo", "web.accounts_mongo"]
QUERY_METHODS = {"find", "find_one", "find_one_and_update", "find_one_and_replace", "find_one_and_delete",
                 "update_one", "update_many", "replace_one", "delete_one", "delete_many", "count_documents",
                 "aggregate", "distinct"}
BULK_OPS = {"ReplaceOne", "UpdateOne", "UpdateMany", "DeleteOne", "DeleteMany"}
ID = "_id_"
SCAN = "$natural"


def _collections(tree: ast.AST) -> dict[str, str]:
    """self attribute -> collection name, from assignments such as ``self.x = db["name"]`` (also tuples)."""
    out = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = (zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple)
                     and isinstance(node.value, ast.Tuple) else [(target, node.value)])
            for t, v in pairs:
                if (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                        and isinstance(v, ast.Subscript) and isinstance(v.slice, ast.Constant)
                        and isinstance(v.slice.value, str)):
                    out[t.attr] = v.slice.value
    return out


def _values(node: ast.AST, module) -> set[str]:
    """The index names a hint expression can evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, module) | _values(node.orelse, module)
    if isinstance(node, ast.Name) and hasattr(module, node.id):
        value = getattr(module, node.id)
        if isinstance(value, str):
            return {value}
        if isinstance(value, list) and [k for k, _ in value] == [SCAN]:
            return {SCAN}
    raise ValueError(f"a hint that is not an index name or a constant naming one: {ast.unparse(node)}")


def hint_problems(source: str, module, indexes: list[tuple]) -> list[str]:
    """Each query call in ``source`` without a hint, or whose hint names no index of its collection."""
    tree = ast.parse(source)
    collections = _collections(tree)
    names: dict[str, set[str]] = {}
    for coll, _keys, options, *_ in indexes:
        names.setdefault(coll, set()).add(options["name"])
    every = set().union(*names.values()) if names else set()
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        where = f"line {node.lineno}: {ast.unparse(node)[:100]}"
        if isinstance(func, ast.Name) and func.id in BULK_OPS:
            coll, allowed = None, every | {ID}
        elif isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS:
            recv = func.value
            if not (isinstance(recv, ast.Attribute) and isinstance(recv.value, ast.Name) and recv.value.id == "self"
                    and recv.attr in collections):
                problems.append(f"{where}: a query on something not known to be a collection")
                continue
            coll = collections[recv.attr]
            allowed = names.get(coll, set()) | {ID}
        else:
            continue
        hint = next((k.value for k in node.keywords if k.arg == "hint"), None)
        if hint is None:
            problems.append(f"{where}: no hint")
            continue
        try:
            values = _values(hint, module)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for value in values - {SCAN}:
            if value not in allowed:
                problems.append(f"{where}: hint {value!r} names no index of {coll or 'the module'} ({sorted(allowed)})")
    return problems


def test_every_module_that_opens_a_mongo_client_is_checked():
    root = Path(__file__).resolve().parent.parent
    opening = sorted(".".join(p.relative_to(root).with_suffix("").parts)
                     for package in ("lrs", "rules", "player", "web", "content_store", "service")
                     for p in (root / package).rglob("*.py") if "AsyncMongoClient(" in p.read_text(encoding="utf-8"))
    assert opening == sorted(ADAPTERS)


@pytest.mark.parametrize("name", ADAPTERS)
def test_every_query_of_the_mongo_adapter_names_an_index_it_creates(name):
    module = importlib.import_module(name)
    assert hint_problems(inspect.getsource(module), module, module.INDEXES) == []


def test_the_hint_check_finds_a_query_without_a_hint_and_a_hint_naming_no_index():
    source = '''
class S:
    def __init__(self, db):
        self.things = db["things"]
    async def a(self):
        await self.things.find_one({"x": 1})
        await self.things.find({"x": 1}, hint="nope")
        await self.things.delete_many({"x": 1}, hint="by_x" if True else "_id_")
        await self.other.find({})
'''
    import types
    problems = hint_problems(source, types.ModuleType("m"), [("things", [("x", 1)], {"name": "by_x"})])
    assert len(problems) == 3
    assert "no hint" in problems[0] and "'nope' names no index" in problems[1]
    assert "not known to be a collection" in problems[2]


def _stores():
    from lrs.cmi5.mongo import AsyncMongoCmi5Store
    from lrs.storage.mongo import AsyncMongoStore
    from player.storage.mongo import AsyncMongoPlayerStore
    from rules.storage.mongo import AsyncMongoRulesStore
    from rules.storage.outbox_mongo import AsyncMongoOutboxStore
    from web.accounts_mongo import AsyncMongoAccountStore

    return {"lrs.storage.mongo": AsyncMongoStore, "rules.storage.mongo": AsyncMongoRulesStore,
            "rules.storage.outbox_mongo": AsyncMongoOutboxStore, "player.storage.mongo": AsyncMongoPlayerStore,
            "lrs.cmi5.mongo": AsyncMongoCmi5Store, "web.accounts_mongo": AsyncMongoAccountStore}


# The keys of the indexes earlier versions made, which start-up drops (each module's DROPPED_INDEXES).
EARLIER = {("statements", "stored"): [("st", 1)], ("rules_history", "person"): [("p", 1), ("c", 1)],
           ("rules_history", "certification"): [("c", 1)], ("rules_outbox_deliveries", "due"): [("state", 1), ("next_at", 1)]}


@pytest.mark.parametrize("name", ADAPTERS)
def test_mongo_adapter_start_up_makes_exactly_the_indexes_of_its_table_and_drops_earlier_ones(name):
    import asyncio

    url = fresh_mongodb_url()
    module = importlib.import_module(name)

    async def indexes():
        store = _stores()[name](url)
        try:
            db = store.client.get_default_database()
            for coll, index in getattr(module, "DROPPED_INDEXES", ()):
                await db[coll].create_index(EARLIER[coll, index], name=index)
            await store.setup()
            out = {}
            for coll in {c for c, *_ in module.INDEXES}:
                out[coll] = {ix["name"] async for ix in await db[coll].list_indexes()} - {ID}
            await store.client.drop_database(db.name)
            return out
        finally:
            await store.close()

    expected: dict[str, set[str]] = {}
    for coll, _keys, options, *_ in module.INDEXES:
        expected.setdefault(coll, set()).add(options["name"])
    assert asyncio.run(indexes()) == expected
