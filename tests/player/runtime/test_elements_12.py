"""SCORM 1.2 data model on the server (player/runtime/elements.py): SCO-writable elements only,
values as the SCORM 1.2 RTE (section 3.4) and the browser's scorm-again 3.4.3 accept them."""
from __future__ import annotations

import pytest

from player.runtime import elements
from player.runtime.elements import validate_data
from player.runtime.errors import CommitRejected
from lrs.errors import XAPIError


def ok(data: dict) -> dict:
    return validate_data("1.2", data)


def refused(data: dict, path: str) -> CommitRejected:
    with pytest.raises(CommitRejected) as info:
        validate_data("1.2", data)
    assert info.value.status == 400
    assert info.value.path == path, info.value.message
    return info.value


def test_values_the_golf_1_2_samples_write_are_accepted():
    """shared/launchpage.html of RuntimeBasicCalls_SCORM12: status, bookmark, score, time, exit."""
    for status in ("incomplete", "completed", "passed", "failed"):
        assert ok({"cmi.core.lesson_status": status})
    snapshot = {"cmi.core.lesson_status": "passed", "cmi.core.lesson_location": "14",
                "cmi.core.score.raw": "80", "cmi.core.score.min": "0", "cmi.core.score.max": "100",
                "cmi.core.session_time": "0000:03:07", "cmi.core.exit": "suspend",
                "cmi.suspend_data": "", "cmi.comments": ""}
    assert ok(snapshot) == snapshot
    assert ok({"cmi.core.exit": ""}) == {"cmi.core.exit": ""}
    assert ok({"cmi.core.session_time": "0000:00:05.5"})


def test_a_rejection_is_an_xapi_error_with_a_json_body_naming_the_element():
    err = refused({"cmi.core.lesson_status": "done"}, "cmi.core.lesson_status")
    assert isinstance(err, XAPIError)
    body = err.body()["error"]
    assert body["status"] == 400 and body["path"] == "cmi.core.lesson_status"
    assert "'passed'" in body["message"] and "'done'" in body["message"]


def test_not_attempted_the_lms_initial_lesson_status_is_accepted_in_a_snapshot():
    """SCORM 1.2 RTE 3.4.4 cmi.core.lesson_status: the LMS initializes it to 'not attempted'; a full
    snapshot of a SCO that has not set it yet carries that value."""
    assert ok({"cmi.core.lesson_status": "not attempted"})
    assert ok({"cmi.core.lesson_status": "browsed"})


@pytest.mark.parametrize("value", ["Passed", "unknown", "complete", " passed"])
def test_lesson_status_outside_the_1_2_vocabulary_is_refused(value):
    refused({"cmi.core.lesson_status": value}, "cmi.core.lesson_status")


@pytest.mark.parametrize("element", ["cmi.core.score.raw", "cmi.core.score.min", "cmi.core.score.max",
                                     "cmi.objectives.0.score.raw"])
def test_scores_are_decimals_from_0_to_100(element):
    """SCORM 1.2 RTE 3.4.4 cmi.core.score: CMIDecimal or CMIBlank; scorm-again enforces 0..100."""
    base = {"cmi.objectives.0.id": "o1"} if "objectives" in element else {}
    for value in ("0", "100", "80", "72.5", ".5", ""):
        assert ok({**base, element: value})
    for value in ("101", "-1", "abc", "1e2", "80%", "NaN"):
        refused({**base, element: value}, element)


@pytest.mark.parametrize("value", ["0000:00:12", "00:00:00", "9999:59:59.99", "17496:00:00", "0:01:02"])
def test_session_time_is_a_cmitimespan(value):
    """SCORM 1.2 RTE 3.4.4 cmi.core.session_time: CMITimespan HHHH:MM:SS.SS (scorm-again allows any
    number of hour digits)."""
    assert ok({"cmi.core.session_time": value})


@pytest.mark.parametrize("value", ["PT1M", "1:00", "00:00:00.123", "00:0:00", "an hour"])
def test_session_time_in_another_form_is_refused(value):
    err = refused({"cmi.core.session_time": value}, "cmi.core.session_time")
    assert "HHHH:MM:SS.SS" in err.message


def test_exit_takes_the_1_2_vocabulary_only():
    """SCORM 1.2 RTE 3.4.4 cmi.core.exit: time-out, suspend, logout or empty; 'normal' is a SCORM 2004 word."""
    for value in ("time-out", "suspend", "logout", ""):
        assert ok({"cmi.core.exit": value})
    refused({"cmi.core.exit": "normal"}, "cmi.core.exit")


def test_character_strings_have_their_lengths():
    """lesson_location CMIString255; comments CMIString4096; suspend_data 64000 (scorm-again's limit,
    above the 1.2 SPM of 4096, so content that overflows 4096 keeps working)."""
    assert ok({"cmi.core.lesson_location": "x" * 255})
    refused({"cmi.core.lesson_location": "x" * 256}, "cmi.core.lesson_location")
    assert ok({"cmi.comments": "x" * 4096})
    refused({"cmi.comments": "x" * 4097}, "cmi.comments")
    assert ok({"cmi.suspend_data": "x" * 64000})
    err = refused({"cmi.suspend_data": "x" * 64001}, "cmi.suspend_data")
    assert "64000" in err.message


@pytest.mark.parametrize("element", [
    "cmi.core.student_id", "cmi.core.student_name", "cmi.core.credit", "cmi.core.entry",
    "cmi.core.total_time", "cmi.core.lesson_mode", "cmi.launch_data", "cmi.comments_from_lms",
    "cmi.student_data.mastery_score", "cmi.student_data.max_time_allowed",
    "cmi.student_data.time_limit_action", "cmi.interactions._count", "cmi.objectives._count",
    "cmi.core._children", "cmi._version", "cmi.interactions.0.objectives._count",
])
def test_read_only_elements_are_refused(element):
    """SCORM 1.2 RTE 3.4.4: these are set by the LMS; LMSSetValue answers error 403."""
    err = refused({element: "x"}, element)
    assert "read-only" in err.message


@pytest.mark.parametrize("element", ["cmi.core.lesson_statuss", "cmi.foo", "core.lesson_status", "",
                                     "cmi.interactions.0", "cmi.objectives.0.score.scaled"])
def test_unknown_elements_are_refused(element):
    err = refused({element: "x"}, element)
    assert "not a SCORM 1.2 data model element" in err.message


def test_a_2004_element_in_a_1_2_commit_is_refused_with_a_hint():
    err = refused({"cmi.completion_status": "completed"}, "cmi.completion_status")
    assert "SCORM 2004 element" in err.message


@pytest.mark.parametrize("value", [80, 0.5, True, None, ["a"], {"a": 1}])
def test_values_must_be_strings(value):
    err = refused({"cmi.core.score.raw": value}, "cmi.core.score.raw")
    assert "string" in err.message


def test_data_must_be_an_object():
    for data in ([], "cmi.core.exit=suspend", None):
        with pytest.raises(CommitRejected) as info:
            validate_data("1.2", data)
        assert info.value.path == "data"


def interaction(n: int, **fields) -> dict:
    out = {f"cmi.interactions.{n}.id": f"q{n}"}
    out.update({f"cmi.interactions.{n}.{k.replace('__', '.')}": v for k, v in fields.items()})
    return out


def test_an_interaction_with_all_its_elements_is_accepted():
    """SCORM 1.2 RTE 3.4.4 cmi.interactions: the write-only elements of an interaction."""
    data = {**interaction(0, time="14:05:09", type="choice", weighting="1", student_response="a,b",
                          result="correct", latency="0000:00:07.25"),
            "cmi.interactions.0.objectives.0.id": "obj_1",
            "cmi.interactions.0.correct_responses.0.pattern": "a,b",
            "cmi.interactions.0.correct_responses.1.pattern": "{a,b}"}
    assert ok(data) == data


def test_interaction_result_incorrect_is_stored_as_the_1_2_word_wrong():
    """SCORM 1.2 RTE 3.4.4 cmi.interactions.n.result: correct, wrong, unanticipated, neutral or a
    number; scorm-again normalizes the 2004 word 'incorrect' to 'wrong'."""
    assert ok(interaction(0, result="incorrect"))["cmi.interactions.0.result"] == "wrong"
    for value in ("wrong", "unanticipated", "neutral", "50", "0.5"):
        assert ok(interaction(0, result=value))["cmi.interactions.0.result"] == value
    refused(interaction(0, result="right"), "cmi.interactions.0.result")


def test_interaction_type_takes_the_1_2_vocabulary():
    for kind in ("true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert",
                 "numeric"):
        assert ok(interaction(0, type=kind))
    refused(interaction(0, type="long-fill-in"), "cmi.interactions.0.type")   # 2004 only
    refused(interaction(0, type="other"), "cmi.interactions.0.type")


def test_interaction_time_is_a_cmitime_and_weighting_is_in_range():
    refused(interaction(0, time="25:00:00"), "cmi.interactions.0.time")
    refused(interaction(0, time="2026-11-30T10:00:00"), "cmi.interactions.0.time")
    assert ok(interaction(0, weighting="-100"))
    refused(interaction(0, weighting="101"), "cmi.interactions.0.weighting")
    refused(interaction(0, latency="PT7S"), "cmi.interactions.0.latency")


def test_1_2_responses_are_free_text_as_scorm_again_keeps_them():
    """scorm-again does not check the 1.2 per-type response formats; content writes words there."""
    assert ok(interaction(0, type="true-false", student_response="Yes, of course"))


def test_identifiers_are_printable_ascii_up_to_255():
    assert ok(interaction(0) | {"cmi.interactions.0.id": "Question 1.a"})
    refused({"cmi.interactions.0.id": "x" * 256}, "cmi.interactions.0.id")
    refused({"cmi.interactions.0.id": "é"}, "cmi.interactions.0.id")
    refused({"cmi.interactions.0.id": ""}, "cmi.interactions.0.id")


def test_an_entry_may_come_without_its_id_as_scorm_again_takes_it_in_1_2():
    """SCORM 1.2 sets no order for an entry's fields, and scorm-again takes cmi.interactions.0.result
    before cmi.interactions.0.id: a snapshot the browser accepted must not be refused."""
    assert ok({"cmi.interactions.0.result": "correct"}) == {"cmi.interactions.0.result": "correct"}
    assert ok({"cmi.objectives.0.status": "passed"}) == {"cmi.objectives.0.status": "passed"}


def test_an_empty_identifier_is_refused():
    refused({**interaction(0), "cmi.interactions.0.objectives.0.id": "o",
             "cmi.interactions.0.objectives.1.id": ""}, "cmi.interactions.0.objectives.1.id")


def test_collection_indexes_run_from_0_without_gaps():
    """SCORM 1.2 RTE 3.4.4 (collections): a new entry is written at index _count."""
    err = refused({**interaction(0), **interaction(2)}, "cmi.interactions.2")
    assert "cmi.interactions.1 is missing" in err.message
    refused(interaction(1), "cmi.interactions.1")
    refused({**interaction(0), "cmi.interactions.0.correct_responses.1.pattern": "a"},
            "cmi.interactions.0.correct_responses.1")


@pytest.mark.parametrize("key", ["cmi.interactions.01.id", "cmi.interactions.-1.id",
                                 "cmi.interactions.1e1.id", "cmi.interactions.٣.id"])
def test_an_index_must_be_a_plain_decimal(key):
    refused({key: "q"}, key)


def test_objectives_status_vocabulary_and_preferences_ranges():
    """SCORM 1.2 RTE 3.4.4 cmi.objectives.n.status and cmi.student_preference ranges."""
    assert ok({"cmi.objectives.0.id": "o", "cmi.objectives.0.status": "not attempted"})
    refused({"cmi.objectives.0.id": "o", "cmi.objectives.0.status": "unknown"}, "cmi.objectives.0.status")
    for element, good, bad in [("audio", ("-1", "0", "100"), ("101", "-2", "5.5")),
                               ("speed", ("-100", "0", "100"), ("101", "fast")),
                               ("text", ("-1", "0", "1"), ("2",))]:
        key = f"cmi.student_preference.{element}"
        for value in good:
            assert ok({key: value})
        for value in bad:
            refused({key: value}, key)
    assert ok({"cmi.student_preference.language": "en"})


def test_collections_are_capped():
    data = {}
    for n in range(elements.MAX_INTERACTIONS + 1):
        data.update(interaction(n))
    err = refused(data, f"cmi.interactions.{elements.MAX_INTERACTIONS}")
    assert str(elements.MAX_INTERACTIONS) in err.message
    del data[f"cmi.interactions.{elements.MAX_INTERACTIONS}.id"]
    assert ok(data)


def test_a_commit_is_capped_in_elements_and_characters():
    many = {f"cmi.objectives.{n}.id": "o" for n in range(elements.MAX_ELEMENTS + 1)}
    with pytest.raises(CommitRejected) as info:
        validate_data("1.2", many)
    assert info.value.path == "data" and str(elements.MAX_ELEMENTS) in info.value.message
    huge = {f"cmi.interactions.{n}.student_response": "x" * 60000 for n in range(17)}
    with pytest.raises(CommitRejected) as info:
        validate_data("1.2", huge)
    assert info.value.path == "data"


def test_an_unknown_version_is_a_programming_error():
    with pytest.raises(ValueError):
        validate_data("1.3", {})
