"""The storage contract (lrs/storage/ports.py) every adapter keeps, run against each adapter.

To add an adapter (e.g. mongo), add a factory to ``ADAPTERS``: it gets a fresh temporary folder and
returns an open store with the same methods as ``SqliteStore``.
"""
from __future__ import annotations

import threading

import orjson
import pytest

from lrs.statements.attachments import authority_key
from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import Conflict, Document, NewStatement, StatementQuery
from lrs_testkit import fresh_database_name, make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}


def sqlite_store(tmp_path):
    from lrs.storage.sqlite import SqliteStore

    return SqliteStore(tmp_path / "lrs.sqlite3")


def mongo_store(tmp_path):
    """A fresh database per test on the server LRS_TEST_MONGODB_URL names (FerretDB in CI)."""
    from lrs_testkit import mongo_url_or_skip

    from lrs.storage.mongo import MongoStore

    return MongoStore(mongo_url_or_skip(), database=fresh_database_name())


ADAPTERS = {"sqlite": sqlite_store, "mongo": mongo_store}


@pytest.fixture(params=list(ADAPTERS))
def store(request, tmp_path):
    s = ADAPTERS[request.param](tmp_path)
    yield s
    s.close()


def new(st=None, **kw) -> NewStatement:
    st = prepare(st or make_statement(**kw), AUTHORITY, "1.0.3")
    obj = st["object"]
    ref = obj["id"] if obj.get("objectType") == "StatementRef" else None
    voids = ref if st["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided" else None
    return NewStatement(st, statement_terms(st), voids=voids, ref=ref)


def verb_filter(verb_id: str) -> list:
    """``StatementQuery.terms`` for "verb is verb_id", in whichever shape the port currently declares
    (plain term strings, or (term, must-be-direct) pairs)."""
    declared = str(StatementQuery.__dataclass_fields__["terms"].type)
    term = "v:" + verb_id
    return [(term, False)] if "tuple" in declared else [term]


def ids_of(rows) -> list[str]:
    return [orjson.loads(body)["id"] for _, body in rows]


# -- statements -----------------------------------------------------------------------------------

def test_insert_returns_the_ids_in_order(store):
    batch = [new() for _ in range(3)]
    assert store.insert(batch, {}) == [n.statement["id"] for n in batch]


def test_sequence_numbers_strictly_increase_across_inserts(store):
    last = store.last_seq()
    seen = []
    for size in (1, 3, 2):
        store.insert([new() for _ in range(size)], {})
        seq = store.last_seq()
        assert seq > last
        last = seq
    seen = [seq for seq, _ in store.stream(0, 100)]
    assert len(seen) == 6
    assert all(a < b for a, b in zip(seen, seen[1:]))
    assert seen[-1] == store.last_seq()


def test_stream_returns_statements_in_order_from_a_checkpoint(store):
    batches = [[new() for _ in range(2)] for _ in range(3)]
    for b in batches:
        store.insert(b, {})
    all_ids = [n.statement["id"] for b in batches for n in b]
    rows = store.stream(0, 100)
    assert ids_of(rows) == all_ids
    checkpoint = rows[1][0]
    assert ids_of(store.stream(checkpoint, 3)) == all_ids[2:5]
    assert ids_of(store.stream(rows[-1][0], 10)) == []
    # a consumer resuming from its checkpoint sees what arrived since, exactly once
    later = [new() for _ in range(2)]
    store.insert(later, {})
    assert ids_of(store.stream(rows[-1][0], 10)) == [n.statement["id"] for n in later]


def test_stream_bodies_carry_stored_and_authority(store):
    store.insert([new()], {})
    (_, body), = store.stream(0, 1)
    st = orjson.loads(body)
    assert st["stored"] and st["authority"] == AUTHORITY


def test_same_id_same_content_is_left_as_it_is(store):
    n = new()
    store.insert([n], {})
    seq = store.last_seq()
    body = store.get(n.statement["id"], False)
    again = new(orjson.loads(orjson.dumps(n.statement)))
    assert store.insert([again], {}) == [n.statement["id"]]
    assert store.last_seq() == seq
    assert store.get(n.statement["id"], False) == body


def test_batch_is_all_or_nothing_when_a_conflict_is_in_the_middle(store):
    existing = new()
    store.insert([existing], {})
    seq = store.last_seq()
    changed = orjson.loads(orjson.dumps(existing.statement))
    changed["verb"] = {"id": "http://adlnet.gov/expapi/verbs/failed"}
    before, after = new(), new()
    with pytest.raises(Conflict) as exc:
        store.insert([before, new(changed), after], {"a" * 64: ("text/plain", b"x")})
    assert exc.value.statement_id == existing.statement["id"]
    assert store.get(before.statement["id"], False) is None
    assert store.get(after.statement["id"], False) is None
    assert store.last_seq() == seq
    assert store.attachment("a" * 64, authority_key(AUTHORITY)) is None
    assert ids_of(store.stream(0, 10)) == [existing.statement["id"]]


def test_batch_is_all_or_nothing_when_a_statement_cannot_be_stored(store):
    good = new()
    bad = new()
    bad.statement["result"]["extensions"] = {"http://example.com/x": {1, 2}}  # not JSON-serialisable
    with pytest.raises(Exception):
        store.insert([good, bad], {})
    assert store.get(good.statement["id"], False) is None
    assert store.stream(0, 10) == []
    # and the store still works afterwards
    store.insert([new()], {})
    assert len(store.stream(0, 10)) == 1


def test_ids_are_unique_per_store(store):
    n = new()
    store.insert([n], {})
    store.insert([new(orjson.loads(orjson.dumps(n.statement)))], {})
    assert len(store.stream(0, 10)) == 1


def test_get_distinguishes_voided_statements(store):
    target = new()
    store.insert([target], {})
    voiding = new(make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                                 object={"objectType": "StatementRef", "id": target.statement["id"]}, context=None))
    store.insert([voiding], {})
    assert store.get(target.statement["id"], False) is None
    assert orjson.loads(store.get(target.statement["id"], True))["id"] == target.statement["id"]
    assert store.get(voiding.statement["id"], True) is None
    rows, more = store.query(StatementQuery(limit=10))
    assert ids_of(rows) == [voiding.statement["id"]] and not more


def test_query_by_term_and_limit(store):
    a = [new(verb={"id": "urn:verb:a"}) for _ in range(3)]
    b = [new(verb={"id": "urn:verb:b"}) for _ in range(2)]
    store.insert(a + b, {})
    rows, more = store.query(StatementQuery(terms=verb_filter("urn:verb:a"), limit=2, ascending=True))
    assert ids_of(rows) == [n.statement["id"] for n in a[:2]]
    assert more
    rows, more = store.query(StatementQuery(terms=verb_filter("urn:verb:a"), limit=2, ascending=True,
                                            after_seq=rows[-1][0]))
    assert ids_of(rows) == [a[2].statement["id"]]
    assert not more


def with_attachment(sha2: str, length: int, **kw) -> dict:
    return make_statement(attachments=[{"usageType": "http://example.com/u", "display": {"en-US": "a"},
                                        "contentType": "application/pdf", "length": length, "sha2": sha2, **kw}])


def test_attachments_are_kept_by_hash(store):
    store.insert([new(with_attachment("b" * 64, 4))], {"b" * 64: ("application/pdf", b"%PDF")})
    assert store.attachment("b" * 64, authority_key(AUTHORITY)) == ("application/pdf", b"%PDF")
    assert store.attachment("c" * 64, authority_key(AUTHORITY)) is None


OTHER = {"objectType": "Agent", "name": "other", "mbox": "mailto:other@example.com"}


def new_by(authority: dict, st: dict) -> NewStatement:
    st = prepare(st, authority, "1.0.3")
    return NewStatement(st, statement_terms(st))


def test_attachment_bytes_are_given_only_for_the_authority_that_uploaded_them(store):
    """Issue 9 finding 4: a Statement that names a hash by fileUrl does not make the bytes another
    authority uploaded readable; the uploader's authority still gets them."""
    sha = "d" * 64
    store.insert([new(with_attachment(sha, 6))], {sha: ("text/plain", b"secret")})
    store.insert([new_by(OTHER, with_attachment(sha, 6, fileUrl="http://example.com/x"))], {})
    assert store.attachment(sha, authority_key(OTHER)) is None
    assert store.attachment(sha, authority_key(AUTHORITY)) == ("text/plain", b"secret")
    # Uploading the same bytes proves having them: then the other authority gets them too.
    store.insert([new_by(OTHER, with_attachment(sha, 6))], {sha: ("text/plain", b"secret")})
    assert store.attachment(sha, authority_key(OTHER)) == ("text/plain", b"secret")


def activity(name: str, activity_id: str = "http://example.com/activities/a1") -> dict:
    return make_statement(object={"objectType": "Activity", "id": activity_id,
                                  "definition": {"name": {"en-US": name}, "type": "http://example.com/types/t"}})


def test_without_define_a_stored_activity_definition_is_not_changed(store):
    """Issue 9 finding 5: a writer without the define scope cannot change the canonical definition
    of an Activity the LRS has; with it (the default of trusted callers) the definition is merged."""
    store.insert([new(activity("Safety 101"))], {}, define=False)  # new to the LRS: its first definition is kept
    assert store.activity("http://example.com/activities/a1")["name"] == {"en-US": "Safety 101"}
    store.insert([new(activity("<b>pwned</b>"))], {}, define=False)
    assert store.activity("http://example.com/activities/a1")["name"] == {"en-US": "Safety 101"}
    store.insert([new(activity("Safety 102"))], {}, define=True)
    assert store.activity("http://example.com/activities/a1")["name"] == {"en-US": "Safety 102"}


def test_without_define_a_new_activity_keeps_the_first_definition_of_its_batch(store):
    """Issue 9 finding 5: without define, an Activity new to the LRS gets the first definition it is stored with."""
    aid = "http://example.com/activities/a2"
    store.insert([new(activity("First", aid)), new(activity("Second", aid))], {}, define=False)
    assert store.activity(aid)["name"] == {"en-US": "First"}


def test_concurrent_inserts_get_distinct_increasing_sequence_numbers(store):
    errors = []

    def writer():
        try:
            for _ in range(5):
                store.insert([new(), new()], {})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    seqs = [seq for seq, _ in store.stream(0, 100)]
    assert len(seqs) == 40 == len(set(seqs))
    assert seqs == sorted(seqs)


# -- documents --------------------------------------------------------------------------------------

SCOPE = ("http://example.com/a", "mbox:mailto:ada@example.com", "")


def doc(content: bytes, updated="2024-01-01T00:00:00.000000Z") -> Document:
    return Document(content, "application/json", "etag-" + content.decode(), updated)


def test_update_document_creates_replaces_and_deletes(store):
    assert store.get_document("state", SCOPE, "d") is None
    store.update_document("state", SCOPE, "d", lambda cur: doc(b"1"))
    assert store.get_document("state", SCOPE, "d").content == b"1"
    seen = []
    store.update_document("state", SCOPE, "d", lambda cur: seen.append(cur) or doc(b"2"))
    assert seen[0].content == b"1"
    assert store.get_document("state", SCOPE, "d").content == b"2"
    store.update_document("state", SCOPE, "d", lambda cur: None)
    assert store.get_document("state", SCOPE, "d") is None


def test_update_document_is_atomic_when_the_change_raises(store):
    store.update_document("state", SCOPE, "d", lambda cur: doc(b"1"))

    class Refused(Exception):
        pass

    def change(cur):
        raise Refused()

    with pytest.raises(Refused):
        store.update_document("state", SCOPE, "d", change)
    got = store.get_document("state", SCOPE, "d")
    assert got.content == b"1" and got.etag == "etag-1"
    with pytest.raises(Refused):
        store.update_document("state", SCOPE, "new", change)
    assert store.get_document("state", SCOPE, "new") is None


class _Put:
    """A document change that pickles (module level), as insert's documents must."""

    def __init__(self, content: bytes):
        self.content = content

    def __call__(self, cur):
        return cur if cur is not None and cur.content == self.content else doc(self.content)


def test_insert_writes_its_documents_with_the_batch(store):
    n = new()
    assert store.insert([n], {}, documents=[("state", SCOPE, "d", _Put(b"1")),
                                            ("activity_profile", ("http://example.com/a", "", ""), "p", _Put(b"2"))]) \
        == [n.statement["id"]]
    assert store.get(n.statement["id"], False) is not None
    assert store.get_document("state", SCOPE, "d").content == b"1"
    assert store.get_document("activity_profile", ("http://example.com/a", "", ""), "p").content == b"2"
    before = store.get_document("state", SCOPE, "d")
    store.insert([], {}, documents=[("state", SCOPE, "d", _Put(b"1"))])   # the change leaves it as it is
    assert store.get_document("state", SCOPE, "d") == before
    store.insert([], {}, documents=[("state", SCOPE, "d", _Put(b"3"))])   # documents alone
    assert store.get_document("state", SCOPE, "d").content == b"3"


def test_a_batch_that_is_refused_writes_none_of_its_documents(store):
    existing = new()
    store.insert([existing], {})
    changed = orjson.loads(orjson.dumps(existing.statement))
    changed["verb"] = {"id": "http://adlnet.gov/expapi/verbs/failed"}
    with pytest.raises(Conflict):
        store.insert([new(changed)], {}, documents=[("state", SCOPE, "d", _Put(b"1"))])
    assert store.get_document("state", SCOPE, "d") is None


def test_concurrent_read_modify_write_loses_no_update(store):
    store.update_document("state", SCOPE, "counter", lambda cur: doc(b"0"))

    def increment(cur):
        return doc(str(int(cur.content) + 1).encode())

    def worker():
        for _ in range(10):
            store.update_document("state", SCOPE, "counter", increment)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert store.get_document("state", SCOPE, "counter").content == b"40"


def test_document_kinds_and_scopes_are_separate(store):
    other = (SCOPE[0], SCOPE[1], "1c0c1ccb-0c4b-4b4e-9d4e-0e0e0e0e0e0e")
    store.update_document("state", SCOPE, "d", lambda cur: doc(b"1"))
    store.update_document("state", other, "d", lambda cur: doc(b"2"))
    store.update_document("activity_profile", (SCOPE[0], "", ""), "d", lambda cur: doc(b"3"))
    assert store.get_document("state", SCOPE, "d").content == b"1"
    assert store.get_document("state", other, "d").content == b"2"
    assert store.get_document("activity_profile", (SCOPE[0], "", ""), "d").content == b"3"


def test_document_ids_since_and_newest_update(store):
    store.update_document("state", SCOPE, "old", lambda cur: doc(b"1", "2024-01-01T00:00:00.000000Z"))
    store.update_document("state", SCOPE, "new", lambda cur: doc(b"2", "2024-06-01T00:00:00.000000Z"))
    assert store.document_ids("state", SCOPE, None) == (["new", "old"], "2024-06-01T00:00:00.000000Z")
    assert store.document_ids("state", SCOPE, "2024-03-01T00:00:00.000000Z") == (["new"], "2024-06-01T00:00:00.000000Z")
    assert store.document_ids("state", SCOPE, "2024-07-01T00:00:00.000000Z") == ([], None)


def test_delete_documents_without_registration_matches_every_registration(store):
    reg = (SCOPE[0], SCOPE[1], "1c0c1ccb-0c4b-4b4e-9d4e-0e0e0e0e0e0e")
    store.update_document("state", SCOPE, "a", lambda cur: doc(b"1"))
    store.update_document("state", reg, "b", lambda cur: doc(b"2"))
    store.update_document("state", (SCOPE[0], "mbox:mailto:bob@example.com", ""), "c", lambda cur: doc(b"3"))
    assert store.delete_documents("state", reg) == 1
    assert store.get_document("state", SCOPE, "a") is not None
    assert store.delete_documents("state", SCOPE) == 1
    assert store.get_document("state", (SCOPE[0], "mbox:mailto:bob@example.com", ""), "c") is not None


# -- credentials ------------------------------------------------------------------------------------

def test_credentials_add_list_remove(store):
    cred = {"key": "k", "secret_hash": "scrypt$x", "scopes": ["all"], "authority": AUTHORITY,
            "created": "2024-01-01T00:00:00+00:00"}
    store.add_credential(cred)
    assert [c["key"] for c in store.credentials()] == ["k"]
    with pytest.raises(ValueError):
        store.add_credential(cred)
    assert store.remove_credential("k") is True
    assert store.remove_credential("k") is False
    assert store.credentials() == []


# -- reads: the seq window --------------------------------------------------------------------------

@pytest.mark.timeout(30)  # before the clamp this walked 2^50 buckets: fail, do not hang the suite
@pytest.mark.parametrize("ascending", [False, True])
def test_query_window_is_clamped_to_the_newest_seq(store, ascending):
    """Issue 9 finding 1: whatever seq window a query carries, the store reads no further than its
    newest Statement (a window up to 2^62 used to walk the SQLite term index bucket by bucket)."""
    batch = [new(verb={"id": "urn:verb:a"}) for _ in range(3)]
    store.insert(batch, {})
    far = 1 << 62
    q = StatementQuery(terms=verb_filter("urn:verb:a"), limit=10, ascending=ascending,
                       after_seq=0 if ascending else far, max_seq=far)
    rows, more = store.query(q)
    expected = [n.statement["id"] for n in batch]
    assert ids_of(rows) == (expected if ascending else expected[::-1])
    assert more is None
    assert store.last_seq() <= q.max_seq < far  # the chain's snapshot is clamped too
    empty = StatementQuery(terms=verb_filter("urn:verb:none"), limit=10, after_seq=far, max_seq=far)
    assert store.query(empty) == ([], None)
    top = (1 << 63) - 1  # the largest seq a signed cursor may hold: past it is no seq at all
    assert store.query(StatementQuery(limit=10, ascending=True, after_seq=top, max_seq=top)) == ([], None)


# -- secrets ----------------------------------------------------------------------------------------

def reopen(store, tmp_path):
    """Another store object on the same data: another process or server sharing the store."""
    if type(store).__name__ == "SqliteStore":
        return type(store)(store.path)
    from lrs_testkit import mongo_url_or_skip

    return type(store)(mongo_url_or_skip(), database=store.aio.db.name)


def test_secret_is_32_random_bytes_made_once_per_name(store, tmp_path):
    """Issue 9 finding 1 (the key that signs `more` cursors): a secret is made on first use, then the
    same for every caller, and every store object sharing the data gets the same one."""
    key = store.secret("cursor")
    assert isinstance(key, bytes) and len(key) == 32
    assert store.secret("cursor") == key
    assert store.secret("other") != key
    other = reopen(store, tmp_path)
    try:
        assert other.secret("cursor") == key
    finally:
        other.close()


def test_secret_made_by_concurrent_first_callers_is_one(store, tmp_path):
    """Of store objects racing to make a secret first, one wins and all read the same bytes."""
    others = [reopen(store, tmp_path) for _ in range(3)]
    got: list[bytes] = []
    barrier = threading.Barrier(len(others))

    def first(s):
        barrier.wait()
        got.append(s.secret("race"))

    threads = [threading.Thread(target=first, args=(s,)) for s in others]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(got) == 3 and len(set(got)) == 1
        assert store.secret("race") == got[0]
    finally:
        for s in others:
            s.close()
