"""Content types for the files of web content, independent of the host's mime.types."""
from __future__ import annotations

import mimetypes
import posixpath

TYPES = {
    ".html": "text/html", ".htm": "text/html", ".xhtml": "application/xhtml+xml",
    ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
    ".json": "application/json", ".xml": "application/xml", ".xsd": "application/xml",
    ".txt": "text/plain", ".vtt": "text/vtt", ".srt": "text/plain",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".webp": "image/webp", ".ico": "image/x-icon", ".bmp": "image/bmp",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".wav": "audio/wav", ".ogg": "audio/ogg",
    ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject", ".pdf": "application/pdf", ".swf": "application/x-shockwave-flash",
    ".wasm": "application/wasm", ".zip": "application/zip",
}
# Text types that get ``charset=utf-8``; HTML does not, so a page's own <meta charset> wins
# (legacy SCORM content is often windows-1252).
UTF8 = {"text/javascript", "text/css", "application/json", "text/vtt", "text/plain"}


def content_type(path: str) -> str:
    ext = posixpath.splitext(path)[1].lower()
    kind = TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind in UTF8 else kind
