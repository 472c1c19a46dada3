"""The pages, one module per area; each has ``routes(site) -> list[Route]`` (web/site.py's ``Site``)."""
