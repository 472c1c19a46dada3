"""Attachments (Data 2.4.11, Communication 1.5.2) and signed Statements (Data 2.6)."""
from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from lrs_testkit import error_of, make_statement, multipart_body, sha256

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
CERT_PDF = b"%PDF-1.4\n\x00\x01\x02 certificate of completion \xff\xfe\r\n--not-a-boundary\r\n"
NOTES = "Notes: ünïcode text\r\nline two".encode()


def attachment(content: bytes, content_type="application/pdf", usage="http://example.com/attachments/certificate",
               **kw) -> dict:
    att = {"usageType": usage, "display": {"en-US": "Certificate"}, "description": {"en-US": "Proof"},
           "contentType": content_type, "length": len(content), "sha2": sha256(content)}
    att.update(kw)
    return att


def post_multipart(client, statements, parts, method="POST", params=None, **kw):
    body, ctype = multipart_body(statements, parts, **kw)
    return client.request(method, "/statements", content=body, params=params or {}, headers={"Content-Type": ctype})


def split_multipart(resp) -> list[tuple[dict, bytes]]:
    """An independent reader of the multipart/mixed response (RFC 2046)."""
    ctype = resp.headers["content-type"]
    assert ctype.startswith("multipart/mixed"), ctype
    boundary = re.search(r'boundary="?([^";]+)"?', ctype).group(1).encode()
    body = resp.content
    delim = b"--" + boundary
    assert body.startswith(delim) or (b"\r\n" + delim) in body
    sections = body.split(b"\r\n" + delim) if not body.startswith(delim) else (b"\r\n" + body).split(b"\r\n" + delim)
    parts = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        head, _, content = section[2:].partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


# -- multipart/mixed ---------------------------------------------------------------------------------

def test_multipart_statement_with_attachments_is_stored_and_returned_with_attachments_true(client):
    st = make_statement(attachments=[attachment(CERT_PDF), attachment(NOTES, "text/plain")])
    resp = post_multipart(client, st, [("application/pdf", CERT_PDF), ("text/plain", NOTES)])
    assert resp.status_code == 200, resp.text
    assert resp.json() == [st["id"]]

    got = client.get("/statements", params={"statementId": st["id"], "attachments": "true"})
    assert got.status_code == 200
    parts = split_multipart(got)
    assert parts[0][0]["content-type"].startswith("application/json")
    assert json.loads(parts[0][1])["id"] == st["id"]
    by_hash = {h["x-experience-api-hash"]: (h, c) for h, c in parts[1:]}
    assert by_hash[sha256(CERT_PDF)][1] == CERT_PDF
    assert by_hash[sha256(NOTES)][1] == NOTES
    for headers, _ in parts[1:]:
        assert headers["content-transfer-encoding"] == "binary"


def test_query_with_attachments_true_returns_statement_result_then_parts(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    assert post_multipart(client, st, [("application/pdf", CERT_PDF)]).status_code == 200
    got = client.get("/statements", params={"attachments": "true"})
    parts = split_multipart(got)
    result = json.loads(parts[0][1])
    assert [s["id"] for s in result["statements"]] == [st["id"]]
    assert [c for _, c in parts[1:]] == [CERT_PDF]


def test_attachments_false_returns_json_without_raw_data_2_1_3_s2_b7(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    post_multipart(client, st, [("application/pdf", CERT_PDF)])
    for params in ({"statementId": st["id"]}, {}, {"attachments": "false"}):
        got = client.get("/statements", params=params)
        assert got.headers["content-type"].startswith("application/json")
        assert CERT_PDF not in got.content


def test_put_multipart_statement_with_attachment(client):
    st = make_statement(attachments=[attachment(NOTES, "text/plain")])
    resp = post_multipart(client, st, [("text/plain", NOTES)], method="PUT", params={"statementId": st["id"]})
    assert resp.status_code == 204, resp.text
    parts = split_multipart(client.get("/statements", params={"statementId": st["id"], "attachments": "true"}))
    assert parts[1][1] == NOTES


def test_batch_sharing_one_attachment_sent_once(client):
    a = make_statement(attachments=[attachment(CERT_PDF)])
    b = make_statement(attachments=[attachment(CERT_PDF)])
    resp = post_multipart(client, [a, b], [("application/pdf", CERT_PDF)])
    assert resp.status_code == 200, resp.text
    assert resp.json() == [a["id"], b["id"]]


def test_attachment_part_whose_content_does_not_match_its_hash_is_400(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    body, ctype = multipart_body(st, [("application/pdf", CERT_PDF + b"tampered")],
                                 part_headers={"X-Experience-API-Hash": sha256(CERT_PDF)})
    resp = client.post("/statements", content=body, headers={"Content-Type": ctype})
    assert resp.status_code == 400
    error_of(resp)
    assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_statement_sha2_matching_no_part_is_400_1_5_2_s3_b5(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    resp = post_multipart(client, st, [("text/plain", NOTES)])
    assert resp.status_code == 400
    assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_missing_part_for_attachment_without_file_url_is_400_1_5_2_s3_b5(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    resp = post_multipart(client, st, [])
    assert resp.status_code == 400
    assert "attachments[0]" in error_of(resp)["path"]


def test_json_statement_with_attachment_without_file_url_is_400_1_5_2_s2_b1(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    resp = client.post("/statements", json=st)
    assert resp.status_code == 400
    assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_one_bad_attachment_in_a_batch_rejects_the_batch(client):
    good = make_statement(attachments=[attachment(NOTES, "text/plain")])
    bad = make_statement(attachments=[attachment(CERT_PDF)])
    resp = post_multipart(client, [good, bad], [("text/plain", NOTES)])
    assert resp.status_code == 400
    assert client.get("/statements", params={"statementId": good["id"]}).status_code == 404


def test_file_url_only_attachments_are_accepted_as_application_json_1_5_2_s2_b1(client):
    st = make_statement(attachments=[attachment(CERT_PDF, fileUrl="http://files.example.com/cert.pdf")])
    resp = client.post("/statements", json=st)
    assert resp.status_code == 200, resp.text
    got = client.get("/statements", params={"statementId": st["id"]}).json()
    assert got["attachments"][0]["fileUrl"] == "http://files.example.com/cert.pdf"


def test_file_url_only_attachments_are_accepted_as_multipart_1_5_2_s3_b9(client):
    st = make_statement(attachments=[attachment(CERT_PDF, fileUrl="http://files.example.com/cert.pdf")])
    assert post_multipart(client, st, []).status_code == 200


def test_multipart_without_attachments_is_accepted_1_5_2_s3_b8(client):
    st = make_statement()
    assert post_multipart(client, [st], []).status_code == 200


def test_attachment_part_without_hash_header_is_400_1_5_2_s2_b2_b3(client):
    st = make_statement(attachments=[attachment(CERT_PDF)])
    body, ctype = multipart_body(st, [("application/pdf", CERT_PDF)], part_headers={"X-Experience-API-Hash": None})
    resp = client.post("/statements", content=body, headers={"Content-Type": ctype})
    assert resp.status_code == 400


def test_multipart_first_part_not_json_is_400_1_5_2_s2_b2_b1(client):
    body = (b"--b\r\nContent-Type: text/plain\r\n\r\n" + json.dumps(make_statement()).encode() + b"\r\n--b--\r\n")
    resp = client.post("/statements", content=body, headers={"Content-Type": "multipart/mixed; boundary=b"})
    assert resp.status_code == 400


@pytest.mark.parametrize("body", [b"garbage without boundary", b"--b\r\nContent-Type: application/json\r\n\r\n{}"],
                         ids=["no_boundary", "not_closed"])
def test_malformed_multipart_is_400(client, body):
    resp = client.post("/statements", content=body, headers={"Content-Type": "multipart/mixed; boundary=b"})
    assert resp.status_code == 400
    error_of(resp)


def test_multipart_without_boundary_parameter_is_400(client):
    resp = client.post("/statements", content=b"--b\r\n\r\n--b--", headers={"Content-Type": "multipart/mixed"})
    assert resp.status_code == 400


# -- signed Statements: Data 2.6 -------------------------------------------------------------------

@pytest.fixture(scope="module")
def signer():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LRS test signer")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return {"key": pem, "x5c": x5c}


def sign(statement: dict, signer, algorithm="RS256", key=None, x5c=True) -> bytes:
    headers = {"x5c": [signer["x5c"]]} if x5c else {}
    token = jwt.PyJWS().encode(json.dumps(statement).encode(), key or signer["key"], algorithm=algorithm,
                               headers=headers)
    return token.encode() if isinstance(token, str) else token


def signed(statement: dict, token: bytes) -> dict:
    out = copy.deepcopy(statement)
    out.setdefault("attachments", []).append(attachment(token, "application/octet-stream", usage=SIGNATURE,
                                                        display={"en-US": "Signature"}))
    return out


def post_signed(client, statement, token):
    return post_multipart(client, signed(statement, token), [("application/octet-stream", token)])


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_valid_signed_statement_is_accepted_2_6(client, signer, algorithm):
    st = make_statement()
    resp = post_signed(client, st, sign(st, signer, algorithm))
    assert resp.status_code == 200, resp.text
    got = client.get("/statements", params={"statementId": st["id"]}).json()
    assert got["attachments"][0]["usageType"] == SIGNATURE


def test_signed_statement_with_another_attachment_is_accepted(client, signer):
    st = make_statement(attachments=[attachment(NOTES, "text/plain")])
    token = sign(st, signer)
    resp = post_multipart(client, signed(st, token), [("text/plain", NOTES), ("application/octet-stream", token)])
    assert resp.status_code == 200, resp.text


def test_signature_without_x5c_is_accepted_when_payload_matches(client, signer):
    st = make_statement()
    assert post_signed(client, st, sign(st, signer, x5c=False)).status_code == 200


def test_jws_payload_differing_from_the_statement_is_400_2_6_s5_b3_b2(client, signer):
    st = make_statement()
    other = copy.deepcopy(st)
    other["result"]["success"] = False
    resp = post_signed(client, st, sign(other, signer))
    assert resp.status_code == 400
    error_of(resp)
    assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_hs256_signature_is_400_2_6_s4_b4(client, signer):
    st = make_statement()
    token = jwt.PyJWS().encode(json.dumps(st).encode(), "a-shared-secret-of-32-bytes-long!", algorithm="HS256")
    resp = post_signed(client, st, token.encode() if isinstance(token, str) else token)
    assert resp.status_code == 400
    assert "alg" in error_of(resp)["message"].lower() or "RS256" in error_of(resp)["message"]


@pytest.mark.parametrize("token", [b"not a jws", b"abc.def", b"\xff\xfe\x00binary", b"e30.e30.AAAA"],
                         ids=["text", "two_segments", "binary", "empty_header"])
def test_malformed_jws_is_400_2_6_s5_b1(client, token):
    st = make_statement()
    resp = post_signed(client, st, token)
    assert resp.status_code == 400
    error_of(resp)


def test_signature_not_verifying_against_x5c_certificate_is_400_2_6_s5_b3_b3(client, signer):
    st = make_statement()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    resp = post_signed(client, st, sign(st, signer, key=other_key))
    assert resp.status_code == 400


def test_signature_attachment_with_wrong_content_type_is_400_2_6_s4_b1(client, signer):
    st = make_statement()
    token = sign(st, signer)
    bad = signed(st, token)
    bad["attachments"][-1]["contentType"] = "application/jose"
    resp = post_multipart(client, bad, [("application/jose", token)])
    assert resp.status_code == 400


def test_signature_with_file_url_only_is_400(client, signer):
    st = make_statement()
    token = sign(st, signer)
    bad = signed(st, token)
    bad["attachments"][-1]["fileUrl"] = "http://example.com/sig.jws"
    resp = client.post("/statements", json=bad)
    assert resp.status_code == 400


def test_attachments_true_uses_multipart_even_without_attachments_2_1_3_s2_b6(client):
    st = make_statement()
    client.post("/statements", json=st)
    parts = split_multipart(client.get("/statements", params={"statementId": st["id"], "attachments": "true"}))
    assert len(parts) == 1
    assert json.loads(parts[0][1])["id"] == st["id"]


def test_substatement_attachment_is_returned_with_attachments_true(client):
    st = make_statement(context=None, object={
        "objectType": "SubStatement", "actor": {"mbox": "mailto:c@example.com"}, "verb": {"id": "urn:v:plan"},
        "object": {"id": "urn:o:x"}, "attachments": [attachment(NOTES, "text/plain")]})
    resp = post_multipart(client, st, [("text/plain", NOTES)])
    assert resp.status_code == 200, resp.text
    parts = split_multipart(client.get("/statements", params={"statementId": st["id"], "attachments": "true"}))
    assert [c for _, c in parts[1:]] == [NOTES]
