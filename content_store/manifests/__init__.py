"""Manifest parsers, one module per format; each returns the course model and fills the report."""
