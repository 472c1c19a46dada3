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


def launch_page(course_title: str, version: int, frame_url: str, items: list[str]) -> HTMLResponse:
    """The course title, its version and the SCO in a frame; for several items, a plain list of them."""
    listing = ""
    if len(items) > 1:
        listing = "<ol>" + "".join(f"<li>{escape(t)}</li>" for t in items) + "</ol>"
    body = (f"<h1>{escape(course_title)}</h1><p class=\"meta\">Version {int(version)}</p>"
            f'<iframe class="sco" src="{escape(frame_url)}" title="{escape(course_title)}"></iframe>{listing}')
    return page(course_title, body)
