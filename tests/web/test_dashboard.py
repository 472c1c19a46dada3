"""The dashboard over HTTP: its figures, the chart and its table, where each figure links (and that the
list behind the link holds as many people as the figure says), a supervisor's team only, escaping in
the SVG and the tables; and the people search (from the cached directory) against a plain scan."""
from __future__ import annotations

import html as htmllib
import re

import pytest

from web_kit import ADMIN, HOSTILE, client_of, make_world, populate, sign_in


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    svc = make_world(tmp_path_factory.mktemp("dash"))
    with svc:
        populate(svc)
        yield svc


def roster_links(page: str) -> list[tuple[str, str]]:
    """(href, figure) of each link to a roster whose text is a count, or a share with its count."""
    out = []
    for href, text in re.findall(r'<a href="(/app/certifications/[^"]+/roster[^"]*)">([^<]*)</a>', page):
        m = re.fullmatch(r"(\d+)|\d+ % \((\d+)\)", text.strip())
        if m:
            out.append((htmllib.unescape(href), m.group(1) or m.group(2)))
    return out


def rows_of(client, href: str) -> int:
    page = client.get(href)
    assert page.status_code == 200, href
    return len(re.findall(r'<tr><th scope="row"><a href="/app/people/', page.text))


def test_the_dashboard_shows_the_share_met_overall_by_site_and_by_role(browser_as):
    page = browser_as("ada").get("/app/").text
    assert re.search(r'class="big">33 % <span>of <a href="#by-cert">3 requirements</a> met \(1\)', page)
    # by site: p1 (certified) at the hostile depot, p2 North, p3 South; one role for all three
    assert re.search(r'<a href="/app/\?site=North">North</a></th>\s*<td>0 %</td><td>0</td><td>1</td>', page)
    assert re.search(r'<a href="/app/\?role=bus_operator">bus_operator</a></th>\s*<td>33 %</td><td>1</td><td>3</td>',
                     page)
    assert "0 overdue" in page and "1 expiring within 60 days" in page and "0 expiring within 30 days" in page


def test_the_chart_is_an_svg_image_with_a_name_and_its_bars_are_the_tables_figures(browser_as):
    page = browser_as("ada").get("/app/").text
    charts = re.findall(r"<svg[^>]*>.*?</svg>", page, re.S)
    assert len(charts) == 2
    for svg in charts:
        assert 'role="img"' in svg and "aria-labelledby=" in svg and "<title id=" in svg and "<script" not in svg
        ids = re.search(r'aria-labelledby="([^"]+)"', svg).group(1).split()
        assert all(f'id="{i}"' in svg for i in ids)
    role_chart = charts[1]
    assert ">bus_operator</text>" in role_chart and ">33 %</text>" in role_chart
    widths = [float(w) for w in re.findall(r'<rect x="0" y="\d+" width="([0-9.]+)" height="14" fill="#12355b"',
                                          role_chart)]
    assert widths == [pytest.approx(340 / 3, abs=0.1)]


def test_every_figure_links_to_the_roster_that_lists_as_many_people(browser_as):
    ada = browser_as("ada")
    page = ada.get("/app/").text
    links = roster_links(page)
    hrefs = {h for h, _ in links}
    base = "/app/certifications/bus-operator/roster"
    assert f"{base}?status=overdue" in hrefs
    assert f"{base}?status=certified&status=in_renewal_window&status=exempt" in hrefs
    assert {f"{base}?expiring_within_days={n}" for n in (30, 60, 90)} <= hrefs
    assert len(links) == 6    # compliant, people, overdue and the three expiring figures
    for href, figure in links:
        assert rows_of(ada, href) == int(figure), href


def test_a_dashboard_narrowed_to_a_site_carries_the_site_into_every_roster_link(browser_as):
    ada = browser_as("ada")
    page = ada.get("/app/?site=North").text
    assert "Narrowed to site North" in page
    links = roster_links(page)
    assert links and all("site=North" in h for h, _ in links)
    for href, figure in links:
        assert rows_of(ada, href) == int(figure), href
    assert dict((h.split("?")[1], f) for h, f in links)["status=overdue&site=North"] == "0"
    people = re.search(r'roster\?status=assigned[^"]*site=North">(\d+)</a>', page)
    assert people and people.group(1) == "1"        # p2 only


def test_a_supervisor_sees_the_figures_of_their_team_only(browser_as):
    sam = browser_as("sam")
    page = sam.get("/app/").text
    assert "your team: 2 people" in page
    assert re.search(r'of <a href="#by-cert">2 requirements</a> met \(1\)', page)   # p1 and p2, not p3
    assert "?site=South" not in page and "/app/people/p3" not in page
    for href, figure in roster_links(page):
        assert rows_of(sam, href) == int(figure), href


def test_recent_activity_says_who_what_and_when_newest_first(browser_as):
    page = browser_as("ada").get("/app/").text
    recent = page[page.index('id="recent"'):]
    rows = re.findall(r'<tr><td>([^<]*)</td>\s*<td><a href="/app/people/(\w+)">\w+</a></td>\s*<td>([^<]*)</td>', recent)
    assert rows and rows[0][1] == "p1" and "certified from 2026-03-01" in rows[0][2]
    assert rows[0][0].startswith("2026-03-01 ")
    assert {r[1] for r in rows} == {"p1", "p2", "p3"}


def test_hostile_site_and_certification_titles_are_escaped_in_the_chart_and_the_tables(browser_as):
    page = browser_as("ada").get("/app/").text
    assert "<script>" not in page
    escaped = htmllib.escape(HOSTILE, quote=False).replace("'", "&#39;")
    chart = re.findall(r"<svg[^>]*>.*?</svg>", page, re.S)[0]
    assert f">Depot {escaped}</text>" in chart
    assert f">Depot {escaped}</a></th>" in page                 # the site table
    assert f"Bus operator {escaped}</a></th>" in page            # the certification table
    assert "site=Depot+%3Cscript%3E" in page                    # and in the link, encoded


# -- the people search -----------------------------------------------------------------------


def scan(client, q="", site="", role="", pages=10) -> list[str]:
    """Every person the search lists, following its next-page links."""
    out, url = [], "/app/people?" + "&".join(f"{k}={v}" for k, v in (("q", q), ("site", site), ("role", role)) if v)
    for _ in range(pages):
        page = client.get(url).text
        out += re.findall(r'<tr><th scope="row"><a href="/app/people/([^"]+)">', page)
        nxt = re.search(r'<a href="([^"]+)">Next page</a>', page)
        if not nxt:
            return out
        url = "/app/people" + htmllib.unescape(nxt.group(1))
    raise AssertionError("too many pages")


def plain_scan(world, q="", site="", role="", team=None) -> list[str]:
    """What the search lists, from every person read through the rules API (the search before its cache)."""
    people = world.client.get("/rules/people", params={"limit": 1000}, headers=ADMIN).json()["people"]
    out = []
    for p in sorted(people, key=lambda p: p["person_id"]):
        a = p["attributes"]
        if team is not None and p["person_id"] not in team:
            continue
        if site and a.get("site") != site or role and role not in (a.get("roles") or []):
            continue
        text = " ".join([p["person_id"], *(str(v) for g in p["agents"] for v in g.values())]).lower()
        if q and q.lower() not in text:
            continue
        out.append(p["person_id"])
    return out


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    svc = make_world(tmp_path_factory.mktemp("crowd"))
    with svc:
        populate(svc)
        rows = "".join(f"c{i:03d},c{i}@example.com,{'driver' if i % 2 else 'mechanic'},{'East' if i % 3 else 'West'},"
                       f"{'s1' if i % 4 == 0 else ''}\n" for i in range(130))
        svc.people("person_id,email,roles,site,supervisor\n" + rows)
        yield svc


def test_the_people_search_lists_what_a_plain_scan_of_every_person_gives(crowd):
    ada = client_of(crowd)
    assert sign_in(ada, "ada").status_code == 303
    for q, site, role in [("", "", ""), ("c1", "", ""), ("EXAMPLE.com", "East", ""), ("", "", "driver"),
                          ("c12", "West", "mechanic"), ("mailto:c7", "", ""), ("agent", "", ""), ("nobody", "", ""),
                          ("", "Depot <script>alert('x')</script>", "")]:
        got = scan(ada, q.replace(" ", "+").replace("<", "%3C").replace(">", "%3E").replace("'", "%27"), site and
                   site.replace(" ", "+").replace("<", "%3C").replace(">", "%3E").replace("'", "%27"), role)
        assert got == plain_scan(crowd, q, site, role), (q, site, role)
    sam = client_of(crowd)
    assert sign_in(sam, "sam").status_code == 303
    team = {"p1", "p2"} | {f"c{i:03d}" for i in range(0, 130, 4)}
    assert scan(sam) == plain_scan(crowd, team=team) and len(scan(sam)) > 30
    assert scan(sam, "c01") == plain_scan(crowd, "c01", team=team)


def test_the_people_search_sees_a_change_of_the_directory_at_once(crowd):
    ada = client_of(crowd)
    assert sign_in(ada, "ada").status_code == 303
    assert scan(ada, "newcomer") == []
    crowd.people("person_id,email,roles,site\nz-newcomer,newcomer@example.com,driver,East\n")
    assert scan(ada, "newcomer") == ["z-newcomer"]
    crowd.people("person_id,email,roles,site\nz-newcomer,newcomer@example.com,driver,West\n")
    assert scan(ada, "newcomer", "East") == [] and scan(ada, "newcomer", "West") == ["z-newcomer"]


def test_every_page_answer_says_its_server_time(browser_as):
    ada = browser_as("ada")
    for path in ("/app/", "/app/people", "/app/certifications/bus-operator/roster.csv", "/app/no-such-page"):
        resp = ada.get(path)
        assert re.fullmatch(r"app;dur=\d+\.\d", resp.headers["server-timing"]), path
