"""Rules: completions and certifications derived from the LRS's ordered statement stream.

- ``rules.storage``: the port (people, definitions, facts, engine checkpoint and lease, records,
  the hash-chained history) and its SQLite and mongo adapters.
- ``rules.definitions``: completion rules, certifications and requirements, checked against the
  JSON Schemas in ``schemas/`` (rules-*.json) and for reference cycles.
- ``rules.derive``: status as a pure function of (facts, definitions, person, actions, day).
- ``rules.engine``: reads the statement stream from a checkpoint under a lease, keeps the facts,
  recomputes the records of the people affected and appends their history.
- ``rules.people``: CSV and JSON import of the people directory.
- ``rules.http``: the admin API mounted at ``/rules``.
"""
