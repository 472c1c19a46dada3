"""The xAPI HTTP API: ``create_app`` returns the ASGI app mounted at /xapi."""
from .app import create_app  # noqa: F401
