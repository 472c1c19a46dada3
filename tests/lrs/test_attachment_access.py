"""Who gets an attachment's bytes (issue 9 finding 4): only Statements stored with the authority
that uploaded them, and only when the declared length is theirs."""
from __future__ import annotations

import sqlite3

from lrs_testkit import basic, error_of, make_statement, multipart_body
from test_attachments import attachment, split_multipart

SECRET_PDF = b"%PDF-1.4 A's grades: confidential\x00\xff"
CREDS = [("alice", "alice-secret", ["statements/write", "statements/read"], {"email": "alice@example.com"}),
         ("bob", "bob-secret", ["statements/write", "statements/read/mine"], {"email": "bob@example.com"})]
ALICE = {"Authorization": basic("alice", "alice-secret")}
BOB = {"Authorization": basic("bob", "bob-secret")}


def post_multipart(client, statements, parts, headers=None):
    body, ctype = multipart_body(statements, parts)
    return client.post("/statements", content=body, headers={"Content-Type": ctype, **(headers or {})})


def bytes_served(client, params, headers) -> list[bytes]:
    resp = client.get("/statements", params={**params, "attachments": "true"}, headers=headers)
    assert resp.status_code == 200, resp.text
    return [content for _, content in split_multipart(resp)[1:]]


def test_a_writer_who_names_another_users_hash_does_not_get_the_bytes(make_client):
    """Issue 9 finding 4: Bob posts a Statement naming Alice's attachment hash by fileUrl; asking for
    it (by id, or in a query) with attachments=true gives him no bytes; Alice still gets hers."""
    client = make_client(credentials=CREDS)
    mine = make_statement(attachments=[attachment(SECRET_PDF)])
    resp = post_multipart(client, mine, [("application/pdf", SECRET_PDF)], headers=ALICE)
    assert resp.status_code == 200, resp.text
    theft = make_statement(attachments=[attachment(SECRET_PDF, fileUrl="http://example.com/guess.pdf")])
    assert client.post("/statements", json=theft, headers=BOB).status_code == 200

    assert bytes_served(client, {"statementId": theft["id"]}, BOB) == []
    assert bytes_served(client, {"verb": theft["verb"]["id"], "limit": "1"}, BOB) == []
    assert SECRET_PDF not in client.get("/statements", params={"attachments": "true"}, headers=BOB).content
    assert bytes_served(client, {"statementId": mine["id"]}, ALICE) == [SECRET_PDF]


def test_the_uploaders_later_statements_may_name_the_bytes_by_file_url(make_client):
    """Issue 9 finding 4 (what keeps working): the same authority reuses its upload by fileUrl
    (what the ADL conformance suite does)."""
    client = make_client(credentials=CREDS)
    first = make_statement(attachments=[attachment(SECRET_PDF)])
    assert post_multipart(client, first, [("application/pdf", SECRET_PDF)], headers=ALICE).status_code == 200
    again = make_statement(attachments=[attachment(SECRET_PDF, fileUrl="http://example.com/a.pdf")])
    assert client.post("/statements", json=again, headers=ALICE).status_code == 200
    assert bytes_served(client, {"statementId": again["id"]}, ALICE) == [SECRET_PDF]


def test_a_part_whose_size_differs_from_the_declared_length_is_stored_and_served_with_its_statement(client):
    """Issue 9 finding 4 (what keeps working): a part whose size is not the declared length is
    accepted, as ADL's conformance suite requires (XAPI-00127 sends a hex-encoded image with the
    image's byte length), and its own Statement gets its bytes back; a Statement naming them by
    fileUrl with that wrong length does not (next test)."""
    st = make_statement(attachments=[attachment(SECRET_PDF, length=len(SECRET_PDF) + 1)])
    assert post_multipart(client, st, [("application/pdf", SECRET_PDF)]).status_code == 200
    assert bytes_served(client, {"statementId": st["id"]}, {}) == [SECRET_PDF]


def test_bytes_are_not_served_for_a_statement_declaring_another_length(client):
    """Issue 9 finding 4: a Statement that names the hash with a wrong length (by fileUrl) gets no bytes."""
    first = make_statement(attachments=[attachment(SECRET_PDF)])
    assert post_multipart(client, first, [("application/pdf", SECRET_PDF)]).status_code == 200
    wrong = make_statement(attachments=[attachment(SECRET_PDF, length=1, fileUrl="http://example.com/a.pdf")])
    assert client.post("/statements", json=wrong).status_code == 200
    assert bytes_served(client, {"statementId": wrong["id"]}, {}) == []
    assert bytes_served(client, {"statementId": first["id"]}, {}) == [SECRET_PDF]


def test_attachments_stored_before_uploads_were_recorded_stay_readable_by_their_uploader(make_client, data_dir,
                                                                                         backend):
    """Issue 9 finding 4: a store from before this change (no uploads recorded) credits the uploaders
    from the stored Statements when it is opened: Alice keeps her bytes, Bob's fileUrl gets none."""
    client = make_client(credentials=CREDS)
    mine = make_statement(attachments=[attachment(SECRET_PDF)])
    assert post_multipart(client, mine, [("application/pdf", SECRET_PDF)], headers=ALICE).status_code == 200
    theft = make_statement(attachments=[attachment(SECRET_PDF, fileUrl="http://example.com/guess.pdf")])
    assert client.post("/statements", json=theft, headers=BOB).status_code == 200
    _forget_uploads(data_dir, backend)

    again = make_client()  # opens the store again
    assert bytes_served(again, {"statementId": mine["id"]}, ALICE) == [SECRET_PDF]
    assert bytes_served(again, {"statementId": theft["id"]}, BOB) == []


def _forget_uploads(data_dir, mongodb_url: str) -> None:
    """Make the store look like one written before uploads were recorded."""
    if mongodb_url:
        from pymongo import MongoClient

        with MongoClient(mongodb_url) as mc:
            mc.get_default_database().drop_collection("uploads")
        return
    path = next(data_dir.rglob("*.sqlite3"))
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE uploads")
    conn.close()
