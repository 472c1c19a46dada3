"""Web pages for admins, supervisors, auditors and learners (server-rendered, mounted at /app)."""
