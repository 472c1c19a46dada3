"""The embedded rules store made before the record counts: opening it adds them, counted from its records."""
from __future__ import annotations

import sqlite3

from rules.storage import Record, open_rules_store


def _record(pid, cert="bus", status="certified", site="north", roles=("driver",)):
    return Record(pid, cert, status, None, None, "2027-01-01", None, None, 1, {}, site, roles, (), "")


def test_a_store_made_without_the_record_counts_gets_them_counted_from_its_records(tmp_path):
    store = open_rules_store(tmp_path)
    store.put_records([_record("p1"), _record("p2", status="expired"), _record("p3", site=None),
                       _record("p1", cert="forklift")])
    store.close()
    db = sqlite3.connect(tmp_path / "rules.sqlite3")
    for name in ("records_counted_in", "records_counted_out", "records_counted_again"):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE record_counts")
    db.execute("INSERT INTO records SELECT 'p9', certification, status, expires, next_change, site, roles, body "
               "FROM records WHERE person_id = 'p1' AND certification = 'bus'")    # written by the older code
    db.commit()
    db.close()
    store = open_rules_store(tmp_path)
    try:
        assert sorted(store.count_records(), key=repr) == sorted([
            ("bus", "certified", "north", ("driver",), 2, ()), ("bus", "expired", "north", ("driver",), 1, ()),
            ("bus", "certified", None, ("driver",), 1, ()), ("forklift", "certified", "north", ("driver",), 1, ())],
            key=repr)
        store.put_records([_record("p9", status="overdue")])
        assert ("bus", "certified", "north", ("driver",), 1, ()) in store.count_records()
    finally:
        store.close()
