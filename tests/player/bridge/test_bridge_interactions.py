"""Profile 6.0 "Interactions": each answered interaction is a ``responded`` statement whose object
is an interaction activity (xAPI 1.0.3 Data 2.4.4.1), with the response, success and latency in
its result; every interaction type of SCORM 1.2 and 2004."""
from __future__ import annotations

import pytest

from bridge_kit import SCO_IRI, Sco, at, context, expected, verbs, without_ids

INTERACTION = "http://adlnet.gov/expapi/activities/interaction"


def responded(version: str, entry: dict) -> dict:
    """The one statement of a commit that records interaction 0 with ``entry``'s elements."""
    s = Sco(context(version))
    s.initialize(at(0))
    p = s.commit(at(1), {f"cmi.interactions.0.{k}": v for k, v in entry.items()})
    (st,) = p.statements
    return st


def obj(ident: str, **definition) -> dict:
    return {"id": f"{SCO_IRI}/interactions/{ident}",
            "definition": {"name": {"und": ident}, "type": INTERACTION, **definition}}


# SCORM 1.2 (RTE 3.4.2 cmi.interactions): formats converted to xAPI's delimiters.
CASES_12 = [
    ("true-false", {"correct_responses.0.pattern": "t", "student_response": "f", "result": "wrong"},
     {"correctResponsesPattern": ["true"]}, {"response": "false", "success": False}),
    ("choice", {"correct_responses.0.pattern": "{a,c}", "student_response": "a,b", "result": "wrong"},
     {"correctResponsesPattern": ["a[,]c"], "choices": [{"id": "a"}, {"id": "c"}, {"id": "b"}]},
     {"response": "a[,]b", "success": False}),
    ("fill-in", {"correct_responses.0.pattern": "Forklift", "student_response": "forklift", "result": "correct"},
     {"correctResponsesPattern": ["Forklift"]}, {"response": "forklift", "success": True}),
    ("matching", {"correct_responses.0.pattern": "1.a,2.b", "student_response": "1.b,2.a"},
     {"correctResponsesPattern": ["1[.]a[,]2[.]b"], "source": [{"id": "1"}, {"id": "2"}],
      "target": [{"id": "a"}, {"id": "b"}]}, {"response": "1[.]b[,]2[.]a"}),
    ("performance", {"correct_responses.0.pattern": "check mirrors", "student_response": "check mirrors",
                     "result": "correct"},
     {"correctResponsesPattern": ["check mirrors"]}, {"response": "check mirrors", "success": True}),
    ("sequencing", {"correct_responses.0.pattern": "c,a,b", "student_response": "a,b,c", "result": "wrong"},
     {"correctResponsesPattern": ["c[,]a[,]b"], "choices": [{"id": "c"}, {"id": "a"}, {"id": "b"}]},
     {"response": "a[,]b[,]c", "success": False}),
    ("likert", {"student_response": "4", "result": "neutral"}, {"scale": [{"id": "4"}]}, {"response": "4"}),
    ("numeric", {"correct_responses.0.pattern": "5", "student_response": "5", "result": "correct",
                 "latency": "0000:00:12.50"},
     {"correctResponsesPattern": ["5"]}, {"response": "5", "success": True, "duration": "PT12.5S"}),
]

# SCORM 2004 (RTE 4.2.9): the formats are xAPI's.
CASES_2004 = [
    ("true-false", {"correct_responses.0.pattern": "true", "learner_response": "true", "result": "correct"},
     {"correctResponsesPattern": ["true"]}, {"response": "true", "success": True}),
    ("choice", {"correct_responses.0.pattern": "a[,]c", "correct_responses.1.pattern": "d",
                "learner_response": "b", "result": "incorrect"},
     {"correctResponsesPattern": ["a[,]c", "d"], "choices": [{"id": "a"}, {"id": "c"}, {"id": "d"}, {"id": "b"}]},
     {"response": "b", "success": False}),
    ("fill-in", {"correct_responses.0.pattern": "{case_matters=true}{lang=en}Forklift[,]Truck",
                 "learner_response": "{lang=en}forklift[,]truck", "result": "incorrect"},
     {"correctResponsesPattern": ["{case_matters=true}{lang=en}Forklift[,]Truck"]},
     {"response": "forklift[,]truck", "success": False}),
    ("long-fill-in", {"learner_response": "Keep the load low.", "result": "neutral"}, {},
     {"response": "Keep the load low."}),
    ("matching", {"correct_responses.0.pattern": "tines[.]fork[,]mast[.]lift", "learner_response": "tines[.]fork"},
     {"correctResponsesPattern": ["tines[.]fork[,]mast[.]lift"], "source": [{"id": "tines"}, {"id": "mast"}],
      "target": [{"id": "fork"}, {"id": "lift"}]}, {"response": "tines[.]fork"}),
    ("performance", {"correct_responses.0.pattern": "{order_matters=false}brake[.]on[,]horn[.]1[:]3",
                     "learner_response": "brake[.]on[,]horn[.]2", "result": "correct"},
     {"correctResponsesPattern": ["{order_matters=false}brake[.]on[,]horn[.]1[:]3"],
      "steps": [{"id": "brake"}, {"id": "horn"}]},
     {"response": "brake[.]on[,]horn[.]2", "success": True}),
    ("sequencing", {"correct_responses.0.pattern": "lower[,]reverse[,]stop",
                    "learner_response": "lower[,]stop[,]reverse"},
     {"correctResponsesPattern": ["lower[,]reverse[,]stop"],
      "choices": [{"id": "lower"}, {"id": "reverse"}, {"id": "stop"}]},
     {"response": "lower[,]stop[,]reverse"}),
    ("likert", {"correct_responses.0.pattern": "agree", "learner_response": "disagree"},
     {"correctResponsesPattern": ["agree"], "scale": [{"id": "agree"}, {"id": "disagree"}]},
     {"response": "disagree"}),
    ("numeric", {"correct_responses.0.pattern": "10[:]20", "learner_response": "12.5", "result": "correct",
                 "latency": "PT1M5S"},
     {"correctResponsesPattern": ["10[:]20"]}, {"response": "12.5", "success": True, "duration": "PT1M5S"}),
    ("other", {"correct_responses.0.pattern": "anything", "learner_response": "something", "result": "0.5"},
     {"correctResponsesPattern": ["anything"]}, {"response": "something"}),
]


@pytest.mark.parametrize("kind, entry, definition, result", CASES_12, ids=[c[0] for c in CASES_12])
def test_responded_1_2_interaction_of_each_type(kind, entry, definition, result):
    st = responded("1.2", {"id": "q1", "type": kind, **entry})
    assert {k: v for k, v in st.items() if k != "id"} == expected(
        "responded", obj("q1", interactionType=kind, **definition), when=at(1), parent=True, result=result)


@pytest.mark.parametrize("kind, entry, definition, result", CASES_2004, ids=[c[0] for c in CASES_2004])
def test_responded_2004_interaction_of_each_type(kind, entry, definition, result):
    st = responded("2004", {"id": "q1", "type": kind, **entry})
    assert {k: v for k, v in st.items() if k != "id"} == expected(
        "responded", obj("q1", interactionType=kind, **definition), when=at(1), parent=True, result=result)


def test_interaction_description_and_identifier_2004():
    st = responded("2004", {"id": "urn:quiz:q/7", "type": "true-false", "description": "{lang=de}Ist das sicher?",
                            "learner_response": "false"})
    assert st["object"]["id"] == f"{SCO_IRI}/interactions/urn%3Aquiz%3Aq%2F7"
    assert st["object"]["definition"]["name"] == {"und": "urn:quiz:q/7"}
    assert st["object"]["definition"]["description"] == {"de": "Ist das sicher?"}


def test_an_interaction_without_a_response_or_result_is_not_responded():
    s = Sco(context("2004"))
    s.initialize(at(0))
    assert verbs(s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
                                  "cmi.interactions.0.correct_responses.0.pattern": "a"})) == []
    assert verbs(s.commit(at(2), {"cmi.interactions.0.learner_response": "a"})) == ["responded"]


def test_each_new_or_changed_interaction_is_responded_once_in_index_order():
    s = Sco(context("1.2"))
    s.initialize(at(0))
    first = s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
                             "cmi.interactions.0.student_response": "a",
                             "cmi.interactions.1.id": "q2", "cmi.interactions.1.type": "choice",
                             "cmi.interactions.1.student_response": "b"})
    assert [st["object"]["id"].rsplit("/", 1)[1] for st in first.statements] == ["q1", "q2"]
    assert verbs(s.commit(at(2), {"cmi.core.lesson_location": "p2"})) == []          # unchanged: nothing
    changed = s.commit(at(3), {"cmi.interactions.1.student_response": "c", "cmi.interactions.1.result": "correct"})
    assert [(st["object"]["id"].rsplit("/", 1)[1], st["result"]) for st in changed.statements] == [
        ("q2", {"response": "c", "success": True})]


def test_a_1_2_interaction_journaled_at_an_index_used_before_is_a_new_response():
    """SCORM 1.2 interactions are write-only: a SCO resumed in a new session may write index 0 again
    for another question."""
    s = Sco(context("1.2"))
    s.initialize(at(0))
    s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.student_response": "a"})
    p = s.commit(at(2), {"cmi.interactions.0.id": "q9", "cmi.interactions.0.student_response": "a"})
    assert [st["object"]["id"].rsplit("/", 1)[1] for st in p.statements] == ["q9"]
    assert "interactionType" not in p.statements[0]["object"]["definition"]   # no type given: none claimed


def test_responded_statements_come_before_the_score_and_status_they_lead_to():
    s = Sco(context("2004"))
    s.initialize(at(0))
    p = s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "true-false",
                         "cmi.interactions.0.learner_response": "true", "cmi.interactions.0.result": "correct",
                         "cmi.score.scaled": "1", "cmi.success_status": "passed"}, success="passed")
    assert verbs(p) == ["responded", "scored", "passed"]
    assert without_ids(p.statements)[2] == expected("passed", when=at(1))
