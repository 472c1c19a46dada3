"""The CSV tables of rules/tables.py: the roster export's fast writer makes what the general one makes."""
from __future__ import annotations

import io

from rules import tables


def test_write_roster_is_write_of_the_roster_columns_formula_cells_quoted_too():
    rows = [("p1", "certified", "2026-01-01", "2026-01-01", "2027-01-01", None, "north", ("driver",), 2, ("s1", "s2")),
            ("=cmd", "overdue", None, None, None, "2026-02-01", None, (), None, ()),
            ("p3", "expired", "2025-01-01", "2025-01-01", "2026-01-01", None, "+site", ("-role", "x"), 1, ("s3",)),
            ("p4", "assigned", None, None, None, None, "@here", ("\tpad",), 1, ()),
            ("p5", "assigned", None, None, None, None, "", ("",), 1, ())]
    fast, general = io.StringIO(), io.StringIO()
    tables.write_roster(fast, rows)
    tables.write(general, tables.ROSTER, [dict(zip(tables.ROSTER, r)) for r in rows])
    assert fast.getvalue() == general.getvalue()
    assert "'=cmd" in fast.getvalue() and "'+site" in fast.getvalue() and "'-role;x" in fast.getvalue()
