"""Content store: package import, course versions, file serving."""
