"""The player's server-rendered pages: plain HTML, escaped, phone-first, no external resources."""
from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

STYLE = """
body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#111;background:#fff}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.25rem;margin:.25rem 0}
.meta{color:#555;font-size:.9rem;margin:0 0 .5rem}
.sco{display:block;width:100%;height:80vh;border:1px solid #ccc}
ol{padding-left:1.25rem}
"""


def page(title: str, body_html: str, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    """A whole page around ``body_html`` (already escaped by the caller); ``title`` is escaped here."""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body_html}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers={**HEADERS, **(headers or {})})


REFUSALS = {
    "expired": (410, "This link has expired",
                "Launch links work for a few minutes only. Ask for a new link and open it right away."),
    "used": (410, "This link has already been used",
             "Each launch link opens the course once. Ask for a new link to continue the course."),
    "invalid": (400, "This link is not valid",
                "The link is damaged or was not made by this service. Check that it was copied whole, "
                "or ask for a new link."),
}


def refused(reason: str) -> HTMLResponse:
    status, title, advice = REFUSALS[reason]
    return page(title, f"<h1>{escape(title)}</h1><p>{escape(advice)}</p>", status)


def no_session() -> HTMLResponse:
    title = "No course session"
    return page(title, f"<h1>{title}</h1><p>This page shows a course opened from a launch link, and no "
                       "course session is open in this browser (or it has ended). Open the launch link you "
                       "were given, or ask for a new one.</p>", 401)


def other_course() -> HTMLResponse:
    title = "Not part of this course"
    return page(title, f"<h1>{title}</h1><p>This file belongs to another course (or another version of it) "
                       "than the one open in this browser. Open that course's launch link to see it.</p>", 403)


PLAYER_STYLE = """
body{margin:0;font:16px/1.4 system-ui,sans-serif;color:#111;background:#fff;min-height:100vh;display:flex;flex-direction:column}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .75rem;padding:.4rem .75rem;border-bottom:1px solid #ccc}
header h1{font-size:1rem;margin:0;flex:1 1 12rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#save-state{font-size:.85rem;color:#555}
#save-state[data-state=offline],#save-state[data-state=retrying],#save-state[data-state=session],#save-state[data-state=error]{color:#a40000}
nav.controls{display:flex;gap:.5rem}
button{font:inherit;min-height:44px;min-width:44px;padding:.25rem .75rem;border:1px solid #777;border-radius:.4rem;background:#f4f4f4;color:#111}
button:disabled{opacity:.45}
#notice{margin:0;padding:.5rem .75rem;background:#fff3cd;border-bottom:1px solid #e0c36a}
.stage{flex:1 0 auto;display:flex}
#sco{flex:1;width:100%;border:0;min-height:60vh}
details.toc{border-top:1px solid #ccc;padding:0 .75rem}
details.toc summary{padding:.75rem 0;cursor:pointer}
details.toc ol{margin:.25rem 0;padding-left:1.25rem}
details.toc li{margin:.25rem 0;display:flex;gap:.5rem;align-items:center}
details.toc li button{flex:1;text-align:left}
details.toc button[aria-current=step]{font-weight:bold;border-width:2px}
.sco-status{font-size:.8rem;color:#555;min-width:6rem}
#ended{display:none;padding:1rem}
body.ended .stage,body.ended details.toc,body.ended nav.controls{display:none}
body.ended #ended{display:block}
"""

PLAYER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
              "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
              "frame-ancestors 'self'")


def player_page(config: dict, course_title: str, version: int, scripts: list[str]) -> HTMLResponse:
    """The launch page: the course title, save state, exit and (for several SCOs) previous/next and a
    table of contents; the SCO in a frame. ``config`` is read by runtime.js, which hosts the SCORM API."""
    import orjson

    multi = len(config.get("scos") or []) > 1
    data = orjson.dumps(config).decode().replace("<", "\\u003c")
    moves = ('<button type="button" id="prev" aria-label="Previous">&#8249;</button>'
             '<button type="button" id="next" aria-label="Next">&#8250;</button>') if multi else ""
    toc = ('<details class="toc"><summary>Contents</summary><ol id="contents"></ol></details>' if multi else "")
    body = (f'<header><h1 title="{escape(course_title)}">{escape(course_title)}</h1>'
            f'<span id="save-state" role="status" aria-live="polite" data-state="opening">Opening…</span>'
            f'<nav class="controls" aria-label="Course">{moves}'
            f'<button type="button" id="suspend">Save and exit</button></nav></header>'
            f'<p id="notice" role="alert" hidden></p>'
            f'<div class="stage"><iframe id="sco" title="{escape(course_title)} (version {int(version)})"></iframe></div>'
            f'{toc}<section id="ended"><h2>Course closed</h2><p id="ended-message"></p></section>'
            f'<script type="application/json" id="player-config">{data}</script>'
            + "".join(f'<script src="{escape(src)}"></script>' for src in scripts))
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(course_title)}</title><style>{PLAYER_STYLE}</style></head>"
            f"<body>{body}</body></html>")
    return HTMLResponse(html, headers={**HEADERS, "Content-Security-Policy": PLAYER_CSP})
