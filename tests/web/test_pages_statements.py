"""The statements browser at /app/statements over HTTP: the LRS's own query and its checks (a 400 page naming
the field), statements shown readably and escaped, their JSON one click away, voided ones shown as such,
paging with the LRS's ``more`` cursor, the CSV of a filter, and what each role may see. Every test runs on
both backends (sqlite, and mongo where FerretDB is configured)."""
from __future__ import annotations

import csv
import io
import json
import re
import sys
import uuid
from pathlib import Path

import pytest

from web_kit import HOSTILE, client_of, make_world, populate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402
from scenario_kit import XAPI  # noqa: E402

from web.pages import statements as statements_module  # noqa: E402

ESCAPED = "&lt;script&gt;"
ACTIVITY = "http://example.com/activities/hostile"


def post(world, st: dict) -> str:
    st = {"id": str(uuid.uuid4()), **st}
    resp = world.client.post("/xapi/statements", json=st, headers=XAPI)
    assert resp.status_code == 200, resp.text
    return st["id"]


def agent(who: str, name: str | None = None) -> dict:
    out = {"objectType": "Agent", "mbox": f"mailto:{who}@example.com"}
    return {**out, "name": name} if name else out


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    url = fresh_mongodb_url() if request.param == "mongo" else ""
    svc = make_world(tmp_path_factory.mktemp("web-statements"), url)
    with svc:
        populate(svc)
        ids = {}
        ids["hostile"] = post(svc, {
            "actor": agent("p1", f"Pat {HOSTILE}"),
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": f"finished {HOSTILE}"}},
            "object": {"objectType": "Activity", "id": ACTIVITY,
                       "definition": {"name": {"en-US": f"Module {HOSTILE}"},
                                      "description": {"en-US": f"About {HOSTILE}"}}},
            "result": {"score": {"scaled": 0.85}, "success": True, "completion": True, "duration": "PT4M30S",
                       "response": f"=cmd {HOSTILE}"}})
        ids["p2"] = [post(svc, {"actor": agent("p2"), "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
                                "object": {"objectType": "Activity", "id": f"http://example.com/activities/m{i}"}})
                     for i in range(5)]
        ids["p3"] = post(svc, {"actor": agent("p3"), "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
                               "object": {"objectType": "Activity", "id": "http://example.com/activities/p3"}})
        ids["voided"] = post(svc, {"actor": agent("p2"), "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"},
                                   "object": {"objectType": "Activity", "id": "http://example.com/activities/v"}})
        ids["voiding"] = post(svc, {"actor": agent("p2"), "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                                    "object": {"objectType": "StatementRef", "id": ids["voided"]}})
        svc.ids = ids
        yield svc


def ids_on(html: str) -> list[str]:
    return re.findall(r'href="/app/statements/([0-9a-f-]{36})">Open statement', html)


def test_statements_are_shown_readably_and_everything_from_them_is_escaped(world, browser_as):
    html = browser_as("ada").get("/app/statements", params={"activity": ACTIVITY}).text
    assert ids_on(html) == [world.ids["hostile"]]
    assert "<script>" not in html
    for text in (f"Pat {ESCAPED}", f"finished {ESCAPED}", f"Module {ESCAPED}"):
        assert text in html, text
    assert "score 85.0 %, passed, completed, took PT4M30S" in html
    assert "<details><summary>JSON of statement" in html and "&#34;About " in html


def test_a_statement_opens_with_its_json_pretty_printed_and_a_voided_one_says_so(world, browser_as):
    ada = browser_as("ada")
    page = ada.get(f"/app/statements/{world.ids['hostile']}")
    assert page.status_code == 200 and "<script>" not in page.text and f"Pat {ESCAPED}" in page.text
    pre = re.search(r'<pre class="json"[^>]*>(.*?)</pre>', page.text, re.S).group(1)
    assert '\n  &#34;actor&#34;: {' in pre
    voided = ada.get(f"/app/statements/{world.ids['voided']}")
    assert voided.status_code == 200 and "This statement is voided" in voided.text
    assert "voided" not in ada.get(f"/app/statements/{world.ids['p3']}").text.split("<main")[1].split("JSON")[0]
    voiding = ada.get(f"/app/statements/{world.ids['voiding']}").text
    assert f'href="/app/statements/{world.ids["voided"]}"' in voiding
    assert ada.get(f"/app/statements/{uuid.uuid4()}").status_code == 404
    bad = ada.get("/app/statements/not-a-uuid")
    assert bad.status_code == 400 and "What to do" in bad.text


def test_pages_follow_the_lrs_more_cursor_without_repeating_a_statement(world, browser_as, monkeypatch):
    monkeypatch.setattr(statements_module, "PAGE", 2)
    ada = browser_as("ada")
    seen, url, pages = [], "/app/statements?agent=p2%40example.com", 0
    while url:
        html = ada.get(url).text
        seen += ids_on(html)
        assert ("First page" in html) == (pages > 0)
        m = re.search(r'<a href="(\?[^"]*cursor=[^"]*)">Next page', html)
        url = "/app/statements" + m.group(1).replace("&amp;", "&") if m else None
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 6           # 5 attempted and the voiding statement
    assert set(world.ids["p2"]) <= set(seen) and world.ids["voided"] not in seen
    assert ada.get("/app/statements?cursor=forged").status_code == 400


@pytest.mark.parametrize("params, field", [
    ({"verb": "not an iri"}, "verb"), ({"activity": "nope"}, "activity"), ({"registration": "123"}, "registration"),
    ({"since": "yesterday"}, "since"), ({"until": "2026-13-45"}, "until"), ({"agent": "{\"name\": 1}"}, "agent"),
    ({"ascending": "maybe"}, "ascending"), ({"related_agents": "sure"}, "related_agents"),
    ({"person": "nobody"}, "person"), ({"person": "p1", "agent": "p1@example.com"}, "person"),
    ({"person": "p1", "identity": "5"}, "identity"), ({"person": "p1", "identity": "x"}, "identity"),
])
def test_a_bad_filter_value_is_a_400_page_naming_the_field(world, browser_as, params, field):
    resp = browser_as("ada").get("/app/statements", params=params)
    assert resp.status_code == 400 and f"field: {field}" in resp.text and "What to do" in resp.text
    assert "Traceback" not in resp.text


def test_filters_by_person_verb_and_order_as_the_lrs_does(world, browser_as):
    ada = browser_as("ada")
    by_person = ids_on(ada.get("/app/statements", params={"person": "p3", "identity": "0"}).text)
    assert by_person == [world.ids["p3"]]
    by_verb = ids_on(ada.get("/app/statements", params={"agent": "p2@example.com",
                                                        "verb": "http://adlnet.gov/expapi/verbs/attempted"}).text)
    assert by_verb == list(reversed(world.ids["p2"]))
    oldest = ids_on(ada.get("/app/statements", params={"agent": "mailto:p2@example.com", "ascending": "true",
                                                       "verb": "http://adlnet.gov/expapi/verbs/attempted"}).text)
    assert oldest == world.ids["p2"]
    as_json = json.dumps({"mbox": "mailto:p3@example.com"})
    assert ids_on(ada.get("/app/statements", params={"agent": as_json}).text) == [world.ids["p3"]]


def test_the_csv_has_every_statement_of_the_filter_with_formula_cells_quoted(world, browser_as, monkeypatch):
    monkeypatch.setattr(statements_module, "PAGE", 2)
    ada = browser_as("ada")
    html = ada.get("/app/statements", params={"agent": "p2@example.com"}).text
    assert 'href="/app/statements.csv?agent=p2%40example.com"' in html
    resp = ada.get("/app/statements.csv", params={"agent": "p2@example.com"})
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 6 and {r["id"] for r in rows} >= set(world.ids["p2"])
    hostile = list(csv.DictReader(io.StringIO(ada.get("/app/statements.csv", params={"activity": ACTIVITY}).text)))
    assert hostile[0]["score_scaled"] == "0.85" and hostile[0]["success"] == "True"
    assert hostile[0]["response"] == f"'=cmd {HOSTILE}"          # a spreadsheet shows it, never runs it
    assert ada.get("/app/statements.csv", params={"verb": "bad"}).status_code == 400


def test_admins_and_auditors_see_every_statement(world, browser_as):
    for who in ("ada", "aud"):
        html = browser_as(who).get("/app/statements").text
        assert world.ids["p3"] in html and world.ids["hostile"] in html, who


def test_a_supervisor_sees_only_their_peoples_statements_and_must_pick_one(world, browser_as):
    sam = browser_as("sam")
    resp = sam.get("/app/statements")
    assert resp.status_code == 403 and "pick a person" in resp.text.lower()
    assert sam.get("/app/statements", params={"person": "p3"}).status_code == 403
    assert sam.get("/app/statements", params={"agent": "p3@example.com"}).status_code == 403
    assert sam.get("/app/statements", params={"agent": "nobody-known@example.com"}).status_code == 403
    assert sam.get("/app/statements.csv", params={"agent": "p3@example.com"}).status_code == 403
    assert sam.get("/app/statements.csv").status_code == 403
    assert sam.get("/app/statements", params={"person": "p1", "related_agents": "true"}).status_code == 403
    own = sam.get("/app/statements", params={"person": "p1"})
    assert own.status_code == 200 and world.ids["hostile"] in own.text and world.ids["p3"] not in own.text
    assert sam.get(f"/app/statements/{world.ids['hostile']}").status_code == 200
    assert sam.get(f"/app/statements/{world.ids['p3']}").status_code == 403


def test_the_pages_need_a_session_and_the_session_cookie_is_refused_by_xapi(world, browser_as):
    assert client_of(world).get("/app/statements").status_code == 401
    assert client_of(world).get(f"/app/statements/{world.ids['p3']}").status_code == 401
    sid = browser_as("aud").cookies.get("lrs_web")
    resp = client_of(world).get("/xapi/statements", headers={"Cookie": f"lrs_web={sid}",
                                                             "X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 401
