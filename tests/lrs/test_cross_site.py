"""No API accepts credentials it did not ask for (issue 9 finding 10): no cookie authentication,
and the alternate syntax, which a cross-site HTML form can send with the Basic credentials a
browser has cached, takes a browser's credentials only from its Authorization form field."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from lrs_testkit import ADMIN, basic, make_statement

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def bare(make_client):
    return make_client(auth=None, version=None)


@pytest.mark.parametrize("browser", [{"Origin": "https://evil.example.com"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}], ids=["origin", "sec_fetch_site", "null_origin"])
def test_alternate_syntax_from_a_browser_is_not_authenticated_by_the_authorization_header(bare, browser):
    """Issue 9 finding 10: an alternate-syntax request from a browser (Origin or Sec-Fetch-Site
    header) whose only credentials are an Authorization header, as a browser attaches its cached
    Basic credentials to a cross-site form post, is 401 and stores nothing."""
    st = make_statement()
    resp = bare.post("/statements", params={"method": "POST"},
                     content=urlencode({"X-Experience-API-Version": "1.0.3", "content": json.dumps(st)}).encode(),
                     headers={**FORM, **browser, "Authorization": basic(*ADMIN)})
    assert resp.status_code == 401
    assert "form field" in resp.json()["error"]["message"]
    got = bare.get("/statements", params={"statementId": st["id"]},
                   headers={"Authorization": basic(*ADMIN), "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 404


def test_alternate_syntax_from_a_browser_with_the_authorization_form_field_is_accepted(bare):
    st = make_statement()
    resp = bare.post("/statements", params={"method": "POST"},
                     content=urlencode({"Authorization": basic(*ADMIN), "X-Experience-API-Version": "1.0.3",
                                        "content": json.dumps(st)}).encode(),
                     headers={**FORM, "Origin": "https://lms.example.com", "Sec-Fetch-Site": "cross-site"})
    assert resp.status_code == 200, resp.text


def test_a_cookie_never_authenticates(bare):
    """Issue 9 finding 10: there is no cookie authentication: a request whose credentials are only in
    cookies is 401 (a guard: the LRS never had cookie auth)."""
    cookie = f"Authorization={basic(*ADMIN)}; session={basic(*ADMIN)[6:]}"
    resp = bare.get("/statements", headers={"Cookie": cookie, "X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 401
    alt = bare.post("/statements", params={"method": "GET"}, content=b"X-Experience-API-Version=1.0.3",
                    headers={**FORM, "Cookie": cookie})
    assert alt.status_code == 401


def test_api_responses_say_nosniff(client, bare):
    """Issue 9 finding 10: xAPI responses carry X-Content-Type-Options: nosniff, errors too."""
    for resp in (client.get("/statements"), bare.get("/about"), bare.get("/statements")):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
