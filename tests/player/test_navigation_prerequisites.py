"""SCORM 1.2 prerequisites (CAM 1.2 2.3.2.5.1, aicc_script) decide which SCOs a learner may open."""
from __future__ import annotations

import pytest

from player.navigation import available, scos

DONE = {"a": "completed", "b": "passed", "c": "incomplete", "d": "failed"}


@pytest.mark.parametrize("expression, expected", [
    ("", True),
    ("a", True), ("b", True), ("c", False), ("d", False), ("never_opened", False),
    ("a & b", True), ("a & c", False), ("c | a", True), ("c | d", False),
    ("~c", True), ("~a", False),
    ("(a & c) | b", True), ("(a & c) | d", False),
    ("c = incomplete", True), ("c = i", True), ("d <> failed", False), ("d = f", True),
    ("never_opened = not attempted", True), ("never_opened = n", True),
    ("2*{a, b, c}", True), ("3*{a, b, c}", False),
    ("a AND b", True), ("(a AND b) OR c", True), ("NOT a", False),
])
def test_prerequisite_expression_is_evaluated_against_sco_statuses(expression, expected):
    assert available(expression, DONE) is expected


@pytest.mark.parametrize("expression", ["a &", "(a", "a b", "2*{a,", "x = sleeping"])
def test_an_unreadable_expression_does_not_lock_the_sco(expression):
    assert available(expression, DONE) is True


def test_the_fixture_prerequisites_chain_unlocks_in_order():
    structure = {
        "launchables": [{"id": f"module{i}", "title": f"M{i}", "launch": f"module{i}.html"} for i in (1, 2, 3, 4)],
        "scorm": {"organizations": [{"items": [
            {"identifier": "module1", "prerequisites": {"type": "aicc_script", "expression": ""}},
            {"identifier": "module2", "prerequisites": {"type": "aicc_script", "expression": "module1"}},
            {"identifier": "module3", "prerequisites": {"type": "aicc_script", "expression": "module1 AND module2"}},
            {"identifier": "module4", "prerequisites": {"type": "aicc_script",
                                                        "expression": "(module1 AND module2) OR module3"}},
        ]}]},
    }
    items = scos(structure)
    assert [s.id for s in items] == ["module1", "module2", "module3", "module4"]

    def open_now(statuses):
        return [s.id for s in items if available(s.prerequisites, statuses)]

    assert open_now({}) == ["module1"]
    assert open_now({"module1": "completed"}) == ["module1", "module2"]
    assert open_now({"module1": "passed", "module2": "completed"}) == ["module1", "module2", "module3", "module4"]
