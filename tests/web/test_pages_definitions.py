"""The certifications and definitions pages over HTTP, on both backends: an admin defines a completion
rule, a certification and a requirement through the forms (no JSON), previews who would change status
and publishes, and the roster follows; a rules error names the form field and keeps the form filled;
supervisors and auditors read but every POST is refused (403), as is a form without its CSRF token;
``<script>`` in titles, ids and reasons is shown as text."""
from __future__ import annotations

import csv
import io
import re
import threading

import pytest

from rules.core import Rules
from rules.derive import STATUSES
from web.jobs import Jobs

from web_kit import ADMIN, HOSTILE, PEOPLE, csrf_of, make_world

import web.pages.certifications as certifications_page

ACTIVITY = "http://example.com/activities/forklift"


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    if request.param == "mongo":
        from lrs_testkit import fresh_mongodb_url

        backend = fresh_mongodb_url()
    else:
        backend = ""
    svc = make_world(tmp_path_factory.mktemp("defs"), backend)
    with svc:
        svc.people(PEOPLE)
        yield svc


@pytest.fixture(autouse=True)
def previews_wait_for_their_job(monkeypatch):
    """The pages here show a preview's result at once (a slow machine may take over the default tenth of a
    second); the job tests below set the wait to 0 to see the progress."""
    monkeypatch.setattr(Jobs, "wait", 30.0)


def post_form(client, path: str, fields: dict | list, token: str | None = None, **kw):
    """A form POST as the browser sends it: the page's CSRF token unless ``token`` is given."""
    items = list(fields.items()) if isinstance(fields, dict) else list(fields)
    if token is None:
        token = csrf_of(client.get("/app/certifications").text)
    return client.post(path, data=pairs([("csrf", token)] + items if token else items), follow_redirects=False, **kw)


def pairs(items: list[tuple[str, str]]):
    """httpx takes repeated fields as a dict of lists."""
    out: dict[str, list[str]] = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def define(client, kind: str, fields: dict | list, reason: str = "new rule") -> str:
    """Save through the form; the preview's address it sends to."""
    items = (list(fields.items()) if isinstance(fields, dict) else list(fields)) + [("reason", reason)]
    resp = post_form(client, f"/app/definitions/{kind}", items)
    assert resp.status_code == 303, resp.text
    return resp.headers["location"]


def publish(client, preview_url: str, reason: str = "in force") -> str:
    resp = post_form(client, preview_url.replace("/preview", "/publish"), {"reason": reason})
    assert resp.status_code == 303, resp.text
    return resp.headers["location"]


def api_definitions(world) -> list[dict]:
    return world.client.get("/rules/definitions", headers=ADMIN).json()["definitions"]


def test_an_admin_defines_a_completion_a_certification_and_a_requirement_with_forms_previews_and_publishes(
        world, browser_as):
    ada = browser_as("ada")
    form = ada.get("/app/definitions/new?kind=certification").text
    for name in ("id", "title", "initial", "renewal", "validity_days", "validity_months", "renewal_window_days",
                 "grace_days", "advanced", "reason"):
        assert f'name="{name}"' in form, name
    assert form.startswith("<!doctype html>") and 'nav aria-label="Main"' in form
    fields = form[form.index('<form method="post" action="/app/definitions/certification"'):]
    assert 'list="completion-ids"' in fields and "&#34;" not in fields[:fields.index("</form>")]

    preview = define(ada, "completion", {"id": "forklift-course", "title": "Forklift course", "activity": ACTIVITY,
                                         "success": "on"}, "the new forklift course")
    assert preview == "/app/definitions/completion/forklift-course/versions/1/preview"
    page = ada.get(preview)
    assert page.status_code == 200 and "Nobody's status would change" in page.text
    assert publish(ada, preview) == "/app/definitions/completion/forklift-course?published=1"

    preview = define(ada, "certification", {"id": "forklift", "title": "Forklift driver", "initial": "forklift-course",
                                            "validity_days": "365", "renewal_window_days": "30", "grace_days": "7"})
    publish(ada, preview)
    preview = define(ada, "requirement", [("id", "yard"), ("roles", "bus_operator"), ("certifications", "forklift"),
                                          ("due_days", "30")], "bus operators drive forklifts too")
    page = ada.get(preview).text
    # p1, p2 and p3 are bus operators: each would be assigned the forklift certification
    assert "3 changes among 4 people" in page
    assert re.search(r"<td>not required</td><td>assigned</td><td>3</td>", page)
    for pid in ("p1", "p2", "p3"):
        assert f'href="/app/people/{pid}"' in page
    assert 'href="/app/people/s1"' not in page
    done = publish(ada, preview, "yard safety")
    notice = ada.get(done).text
    assert "Version 1 is published" in notice and "yard safety" in notice and "web:ada" in notice

    bodies = {(d["kind"], d["id"]): d for d in api_definitions(world)}
    assert bodies[("completion", "forklift-course")]["definition"] == {
        "id": "forklift-course", "title": "Forklift course", "activity": ACTIVITY, "success": True}
    assert bodies[("certification", "forklift")]["definition"] == {
        "id": "forklift", "title": "Forklift driver", "initial": "forklift-course", "validity": {"days": 365},
        "renewal_window_days": 30, "grace_days": 7}
    assert bodies[("requirement", "yard")]["definition"] == {
        "id": "yard", "applies_to": {"roles": ["bus_operator"]}, "certifications": ["forklift"], "due": {"days": 30}}
    assert bodies[("requirement", "yard")]["who"] == "web:ada" and bodies[("requirement", "yard")]["published"]

    world.run()
    roster = ada.get("/app/certifications/forklift/roster").text
    assert roster.count("s-assigned") == 3 and "/app/people/s1" not in roster
    listing = ada.get("/app/certifications").text
    assert 'href="/app/certifications/forklift/roster?status=assigned">assigned: 3</a>' in listing
    world.statement("p2", "forklift")
    listing = ada.get("/app/certifications").text
    assert 'roster?status=certified">certified: 1</a>' in listing and "assigned: 2" in listing

    page = ada.get("/app/definitions/certification/forklift").text
    assert "Initial completion</dt><dd>forklift-course" in page and "365 days" in page
    assert "Renewal window</dt><dd>30 days before expiry" in page
    assert "<details><summary>JSON of version 1</summary>" in page and "&#34;validity&#34;" in page
    assert re.search(r"version 1 saved by web:ada", page) and re.search(r"version 1 published by web:ada", page)


def test_a_new_version_form_is_filled_from_the_newest_and_the_preview_shows_the_change(world, browser_as):
    ada = browser_as("ada")
    world.define("completion", {"id": "night-course", "activity": "http://example.com/activities/night"})
    world.define("certification", {"id": "night", "title": "Night driving", "initial": "night-course",
                                   "validity": {"days": 30}, "expiry": {"basis": "completion"}})
    form = ada.get("/app/definitions/new?kind=certification&id=night").text
    assert 'name="validity_days" type="number" value="30"' in form and 'value="night-course"' in form
    assert "&#34;expiry&#34;" in form          # what the fields do not cover is in the advanced JSON
    world.define("requirement", {"id": "nights", "applies_to": {"site": ["North"]}, "certifications": ["night"]})
    # version 2 requires it of South too: p3 would be assigned it
    preview = define(ada, "requirement", [("id", "nights"), ("sites", "North, South"), ("certifications", "night")])
    assert preview.endswith("/nights/versions/2/preview")
    page = ada.get(preview).text
    assert re.search(r'href="/app/people/p3">p3</a></th><td>night</td>\s*<td>not required → assigned', page)
    defs = ada.get("/app/certifications?kind=requirement").text
    assert 'href="/app/definitions/requirement/nights/versions/2/preview">v2: preview' in defs
    page = ada.get("/app/definitions/requirement/nights").text
    assert "Version 2 (draft)" in page and "Version 1 (in force)" in page


def test_the_preview_is_paginated_with_counts_of_every_change(world, browser_as, monkeypatch):
    ada = browser_as("ada")
    world.define("completion", {"id": "radio-course", "activity": "http://example.com/activities/radio"})
    world.define("certification", {"id": "radio", "initial": "radio-course"})
    world.define("requirement", {"id": "radios", "applies_to": {"roles": ["bus_operator"]},
                                 "certifications": ["radio"]}, publish=False)
    monkeypatch.setattr(certifications_page, "PAGE", 2)
    base = "/app/definitions/requirement/radios/versions/1/preview"
    first = ada.get(base).text
    assert "People 1 to 2 of 3" in first and 'href="?page=2"' in first
    assert re.search(r"<td>not required</td><td>assigned</td><td>3</td>", first)
    second = ada.get(base + "?page=2").text
    assert "People 3 to 3 of 3" in second and 'href="?page=1"' in second and "?page=3" not in second
    assert ada.get(base + "?page=x").status_code == 400


def test_a_rules_error_names_the_field_and_keeps_the_form_filled(world, browser_as):
    ada = browser_as("ada")
    fields = {"id": "bad-validity", "title": "Kept title", "initial": "forklift-course", "validity_days": "-5",
              "reason": "kept reason"}
    resp = post_form(ada, "/app/definitions/certification", fields)
    assert resp.status_code == 400
    assert "The field “Validity (days)” is not right" in resp.text and 'href="#f-validity_days"' in resp.text
    assert 'id="f-validity_days" name="validity_days" type="number" value="-5"' in resp.text
    assert 'aria-invalid="true"' in resp.text
    assert 'value="Kept title"' in resp.text and ">kept reason</textarea>" in resp.text

    resp = post_form(ada, "/app/definitions/certification", {**fields, "validity_days": "10", "reason": " "})
    assert resp.status_code == 400 and "The field “Reason” is not right" in resp.text
    resp = post_form(ada, "/app/definitions/completion", {"id": "x", "title": "no activity", "reason": "r"})
    assert resp.status_code == 400 and "The field “Activity IRI" in resp.text
    resp = post_form(ada, "/app/definitions/requirement", {"id": "r1", "certifications": "forklift", "reason": "r"})
    assert resp.status_code == 400 and "The field “Roles it applies to" in resp.text
    resp = post_form(ada, "/app/definitions/completion", {"id": "y", "activity": ACTIVITY, "advanced": "{nope",
                                                          "reason": "r"})
    assert resp.status_code == 400 and "The field “Advanced (JSON)” is not right" in resp.text
    assert ">{nope</textarea>" in resp.text
    resp = post_form(ada, "/app/definitions/certification", {**fields, "validity_days": "10",
                                                             "advanced": '{"expiry": {"basis": "sometimes"}}'})
    assert resp.status_code == 400 and "Advanced (JSON), at expiry.basis" in resp.text
    assert not any(d["id"] in ("bad-validity", "x", "y", "r1") for d in api_definitions(world))
    assert post_form(ada, "/app/definitions/nonsense", {"id": "z", "reason": "r"}).status_code == 404


def test_a_version_that_names_nothing_cannot_be_published_and_publishing_needs_a_reason(world, browser_as):
    ada = browser_as("ada")
    preview = define(ada, "certification", {"id": "orphan", "initial": "no-such-course"})
    page = ada.get(preview)
    assert page.status_code == 200 and "It cannot be published now" in page.text and "no-such-course" in page.text
    assert "Publish version" not in page.text
    resp = post_form(ada, preview.replace("/preview", "/publish"), {"reason": "try"})
    assert resp.status_code == 409 and "cannot be published" in resp.text
    preview = define(ada, "completion", {"id": "first-aid", "activity": "http://example.com/activities/first-aid"})
    resp = post_form(ada, preview.replace("/preview", "/publish"), {"reason": "  "})
    assert resp.status_code == 400 and "publishing needs a reason" in resp.text and "(field: Reason)" in resp.text
    assert not any(d["id"] == "first-aid" and d["published"] for d in api_definitions(world))
    assert ada.get("/app/definitions/completion/first-aid/versions/9/preview").status_code == 404
    assert ada.get("/app/definitions/completion/no-such/versions/1/preview").status_code == 404
    assert ada.get("/app/definitions/completion/no-such").status_code == 404


@pytest.mark.parametrize("username", ["sam", "aud"])
def test_supervisors_and_auditors_read_the_pages_but_every_post_is_refused(world, browser_as, username):
    world.define("completion", {"id": "ro-course", "activity": "http://example.com/activities/ro"}, publish=False)
    c = browser_as(username)
    for path in ("/app/certifications", "/app/certifications.csv", "/app/definitions/completion/ro-course",
                 "/app/definitions/completion/ro-course/versions/1/preview"):
        assert c.get(path).status_code == 200, path
    assert "Publish version" not in c.get("/app/definitions/completion/ro-course/versions/1/preview").text
    assert c.get("/app/definitions/new?kind=completion").status_code == 403
    token = csrf_of(c.get("/app/certifications").text)
    before = api_definitions(world)
    for path, fields in [("/app/definitions/completion", {"id": "sneaky", "activity": ACTIVITY, "reason": "x"}),
                         ("/app/definitions/completion/ro-course/versions/1/publish", {"reason": "x"})]:
        resp = post_form(c, path, fields, token=token)
        assert resp.status_code == 403, path
    assert api_definitions(world) == before


def test_a_definition_form_without_its_csrf_token_or_with_another_sessions_is_refused(world, browser_as):
    ada, other = browser_as("ada"), browser_as("ada")
    before = api_definitions(world)
    fields = {"id": "csrf-course", "activity": ACTIVITY, "reason": "x"}
    assert post_form(ada, "/app/definitions/completion", fields, token="").status_code == 403
    foreign = csrf_of(other.get("/app/certifications").text)
    resp = post_form(ada, "/app/definitions/completion", fields, token=foreign)
    assert resp.status_code == 403 and "security token" in resp.text
    assert api_definitions(world) == before


def test_script_in_titles_ids_and_reasons_is_shown_as_text(world, browser_as):
    ada = browser_as("ada")
    preview = define(ada, "completion", {"id": "hostile-course", "title": f"Course {HOSTILE}", "activity": ACTIVITY},
                     reason=f"because {HOSTILE}")
    for path in (preview, "/app/definitions/completion/hostile-course", "/app/certifications",
                 "/app/definitions/new?kind=completion&id=hostile-course"):
        html = ada.get(path).text
        assert "<script>" not in html and "&lt;script&gt;" in html, path
    resp = post_form(ada, "/app/definitions/completion", {"id": HOSTILE, "title": HOSTILE, "activity": ACTIVITY,
                                                          "reason": HOSTILE})
    assert resp.status_code == 400 and "The field “Id” is not right" in resp.text
    assert "<script>" not in resp.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in resp.text
    assert "<script>" not in ada.get("/app/definitions/completion/" + HOSTILE).text


def test_the_list_exports_every_definition_as_csv_with_counts_and_safe_cells(world, browser_as):
    ada = browser_as("ada")
    world.define("completion", {"id": "csv-course", "title": "=HYPERLINK(\"x\")",
                                "activity": "http://example.com/activities/csv"})
    resp = ada.get("/app/certifications.csv")
    assert resp.headers["content-type"].startswith("text/csv") and resp.headers["x-chain-head"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert list(rows[0])[:7] == ["kind", "id", "title", "published_version", "published_at", "newest_version",
                                 "draft_version"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["csv-course"]["title"].startswith("'=") and by_id["csv-course"]["published_version"] == "1"
    kinds = [r["kind"] for r in rows]
    assert kinds == sorted(kinds, key=("certification", "completion", "requirement").index)
    only = list(csv.DictReader(io.StringIO(ada.get("/app/certifications.csv?kind=completion").text)))
    assert only and {r["kind"] for r in only} == {"completion"}
    assert ada.get("/app/certifications?kind=nonsense").status_code == 400
    assert ada.get("/app/definitions", follow_redirects=False).headers["location"] == "/app/certifications"


def test_the_roster_filters_are_labelled_form_controls_of_one_get_form(world, browser_as):
    world.define("completion", {"id": "roster-course", "activity": "http://example.com/activities/roster"})
    world.define("certification", {"id": "roster-cert", "initial": "roster-course"})
    world.define("requirement", {"id": "roster-req", "applies_to": {"roles": ["bus_operator"]},
                                 "certifications": ["roster-cert"]})
    ada = browser_as("ada")
    html = ada.get("/app/certifications/roster-cert/roster").text
    form = re.search(r'<form method="get" action="/app/certifications/roster-cert/roster"[^>]*>(.*?)</form>', html,
                     re.S).group(1)
    for name, control in (("status", "select"), ("site", "input"), ("role", "input"),
                          ("expiring_within_days", "input")):
        m = re.search(rf'<{control} id="([^"]+)" name="{name}"', form)
        assert m and f'<label for="{m.group(1)}">' in form, name
    assert '<button type="submit">Filter</button>' in form
    filtered = ada.get("/app/certifications/roster-cert/roster?status=assigned&site=North&role=bus_operator").text
    assert "/app/people/p2" in filtered and "/app/people/p3" not in filtered


def test_the_rules_api_lists_the_publications_of_a_definition(world):
    world.define("completion", {"id": "api-course", "activity": "http://example.com/activities/api"}, reason="v1")
    resp = world.client.get("/rules/definitions/completion/api-course/publications", headers=ADMIN)
    assert resp.status_code == 200
    (p,) = resp.json()["publications"]
    assert (p["kind"], p["id"], p["version"], p["why"], p["who"]) == ("completion", "api-course", 1, "in force", "admin")
    assert world.client.get("/rules/definitions/completion/api-course/publications").status_code == 401


def test_a_supervisor_sees_the_counts_and_the_preview_over_their_team_only(world, browser_as):
    if not any(d["id"] == "team-req" for d in api_definitions(world)):
        world.define("completion", {"id": "team-course", "activity": "http://example.com/activities/team"})
        world.define("certification", {"id": "team-cert", "initial": "team-course"})
        world.define("requirement", {"id": "team-req", "applies_to": {"roles": ["bus_operator"]},
                                     "certifications": ["team-cert"]})
        world.define("requirement", {"id": "team-req", "applies_to": {"roles": ["bus_operator", "supervisor"]},
                                     "certifications": ["team-cert"]}, publish=False)
    link = 'href="/app/certifications/team-cert/roster?status=assigned">assigned: {}</a>'
    assert link.format(3) in browser_as("aud").get("/app/certifications").text
    sam = browser_as("sam")
    assert link.format(2) in sam.get("/app/certifications").text          # p1 and p2, not p3
    page = sam.get("/app/definitions/requirement/team-req/versions/2/preview").text
    assert "0 changes among 2 people (your team)" in page                 # s1 would change, but is not in it
    page = browser_as("ada").get("/app/definitions/requirement/team-req/versions/2/preview").text
    assert "1 change among 4 people" in page and 'href="/app/people/s1"' in page


def gated_preview(monkeypatch, fail: bool = False):
    """Rules.preview held until ``gate`` is set (after telling its progress: 0 people done); ``calls``
    counts the computations; with ``fail`` the first one raises."""
    gate, calls, original = threading.Event(), [], Rules.preview

    def preview(self, kind, def_id, version, limit=1000, progress=None):
        calls.append(def_id)
        if progress is not None:
            progress(0)
        assert gate.wait(10)
        if fail and len(calls) == 1:
            raise RuntimeError("the store went away /secret/path")
        return original(self, kind, def_id, version, limit, progress)
    monkeypatch.setattr(Rules, "preview", preview)
    return gate, calls


def test_a_long_preview_shows_its_progress_joins_one_job_and_then_shows_the_result(world, browser_as, monkeypatch):
    world.define("completion", {"id": "slow-course", "activity": "http://example.com/activities/slow"})
    world.define("certification", {"id": "slow", "initial": "slow-course"})
    world.define("requirement", {"id": "slows", "applies_to": {"roles": ["bus_operator"]},
                                 "certifications": ["slow"]}, publish=False)
    expected = world.client.post("/rules/definitions/requirement/slows/versions/1/preview", headers=ADMIN).json()
    assert len(expected["changes"]) == 3
    gate, calls = gated_preview(monkeypatch)
    monkeypatch.setattr(Jobs, "wait", 0.0)
    ada, aud = browser_as("ada"), browser_as("aud")
    url = "/app/definitions/requirement/slows/versions/1/preview"
    first = ada.get(url)
    assert first.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in first.text
    progress = re.search(r"Computing who would change status: (\d+)(?: of (\d+))? people so far", first.text)
    assert progress and progress.group(1) == "0"
    second = aud.get(url).text                 # another user, the same version: joins the running job
    assert "Computing who would change status" in second and calls == ["slows"]
    gate.set()
    monkeypatch.setattr(Jobs, "wait", 30.0)
    done = ada.get(url).text
    assert 'http-equiv="refresh"' not in done and calls == ["slows"]
    assert f"3 changes among {expected['people']} people" in done
    for c in expected["changes"]:
        assert f'href="/app/people/{c["person_id"]}">{c["person_id"]}</a></th><td>slow</td>' in done
    assert "Publish version 1" in done


def test_a_preview_whose_computation_fails_is_an_error_page_and_opening_it_again_computes_it_again(
        world, browser_as, monkeypatch):
    world.define("completion", {"id": "fail-course", "activity": "http://example.com/activities/fail"})
    world.define("certification", {"id": "fail", "initial": "fail-course"}, publish=False)
    gate, calls = gated_preview(monkeypatch, fail=True)
    gate.set()
    ada = browser_as("ada")
    url = "/app/definitions/certification/fail/versions/1/preview"
    failed = ada.get(url)
    assert failed.status_code == 500
    assert "Computing who would change status failed (RuntimeError)" in failed.text
    assert "/secret/path" not in failed.text and "Traceback" not in failed.text
    again = ada.get(url)
    assert again.status_code == 200 and "among" in again.text and len(calls) == 2


def test_the_list_counts_are_what_the_rosters_list_for_everyone_and_for_a_team(world, browser_as):
    world.define("completion", {"id": "count-course", "activity": "http://example.com/activities/count"})
    world.define("certification", {"id": "count-cert", "initial": "count-course", "validity": {"days": 30}})
    world.define("requirement", {"id": "counts", "applies_to": {"roles": ["bus_operator", "supervisor"]},
                                 "certifications": ["count-cert"], "due": {"days": 1}})
    world.run()
    team = {"p1", "p2"}     # s1's team (web_kit.PEOPLE)
    for username, people in (("aud", None), ("sam", team)):
        rows = list(csv.DictReader(io.StringIO(browser_as(username).get("/app/certifications.csv").text)))
        certs = [r for r in rows if r["kind"] == "certification" and r["published_version"]]
        assert any(r["id"] == "count-cert" for r in certs)
        for r in certs:
            expected: dict[str, int] = {}
            for rec in world.roster(r["id"])["people"]:
                if people is None or rec["person_id"] in people:
                    expected[rec["status"]] = expected.get(rec["status"], 0) + 1
            got = {s: int(r[s]) for s in STATUSES if r.get(s)}
            assert got == expected, (username, r["id"])
        if people is not None:
            mine = next(r for r in certs if r["id"] == "count-cert")
            assert {s: int(mine[s]) for s in STATUSES if mine.get(s)} == {"assigned": 2}   # p1, p2; not p3, s1
