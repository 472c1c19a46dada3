"""The SCORM run-time data on the server: what a SCO may write (elements.py), what a commit does to
an attempt and what a launch loads (attempts.py), and a registration's status (status.py).

Pure Python: no HTTP, no storage. The HTTP handler parses a commit with ``attempts.parse_commit``,
then hands ``lambda a: attempts.apply(a, commit, sco)`` to the player store's ``apply_commit``.
"""
