"""cmi5 in the LRS: the registrations and AU sessions a cmi5 launch makes (store.py), the rules the
LRS enforces on the statements of a session (rules.py), and the LMS's own statements, session tokens
and moveOn (lms.py)."""
