"""Composition root: configuration, the ASGI app factory and the `lrs` command line."""
