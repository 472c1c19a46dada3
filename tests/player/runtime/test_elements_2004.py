"""SCORM 2004 data model on the server (player/runtime/elements.py, responses.py): SCO-writable
elements only, values as the SCORM 2004 4th edition RTE (section 4.2) and scorm-again 3.4.3 accept them."""
from __future__ import annotations

import pytest

from player.runtime.elements import validate_data
from player.runtime.errors import CommitRejected


def ok(data: dict) -> dict:
    return validate_data("2004", data)


def refused(data: dict, path: str) -> CommitRejected:
    with pytest.raises(CommitRejected) as info:
        validate_data("2004", data)
    assert info.value.status == 400
    assert info.value.path == path, info.value.message
    return info.value


def test_values_the_golf_2004_samples_write_are_accepted():
    """shared/launchpage.html of RunTimeAdvancedCalls_SCORM20043rdEdition."""
    snapshot = {
        "cmi.completion_status": "completed", "cmi.location": "14", "cmi.progress_measure": "1",
        "cmi.score.raw": "80", "cmi.score.min": "0", "cmi.score.max": "100", "cmi.score.scaled": "0.8",
        "cmi.session_time": "PT3M7.25S", "cmi.exit": "suspend", "adl.nav.request": "suspendAll",
        "cmi.objectives.0.id": "PRIMARYOBJ",
        "cmi.objectives.1.id": "obj_etiquette", "cmi.objectives.1.progress_measure": "0.33",
        "cmi.objectives.1.completion_status": "incomplete", "cmi.objectives.1.score.scaled": "0.67",
        "cmi.objectives.1.score.raw": "2", "cmi.objectives.1.score.min": "0", "cmi.objectives.1.score.max": "3",
        "cmi.interactions.0.id": "com.scorm.golfsamples.interactions.playing_1",
        "cmi.interactions.0.description": "The rules of golf are maintained by:'?",
        "cmi.interactions.0.objectives.0.id": "obj_playing", "cmi.interactions.0.type": "choice",
        "cmi.interactions.0.learner_response": "1", "cmi.interactions.0.correct_responses.0.pattern": "1",
        "cmi.interactions.0.result": "correct",
        "cmi.interactions.1.id": "com.scorm.golfsamples.interactions.playing_3",
        "cmi.interactions.1.type": "numeric", "cmi.interactions.1.learner_response": "18",
        "cmi.interactions.1.correct_responses.0.pattern": "18", "cmi.interactions.1.result": "correct",
        "cmi.interactions.2.id": "com.scorm.golfsamples.interactions.playing_4",
        "cmi.interactions.2.type": "true-false", "cmi.interactions.2.learner_response": "false",
        "cmi.interactions.2.correct_responses.0.pattern": "true", "cmi.interactions.2.result": "incorrect",
    }
    assert ok(snapshot) == snapshot
    assert ok({"adl.nav.request": "exitAll", "cmi.exit": ""})
    assert ok({"cmi.session_time": "P0S"})        # what the golf sample writes for no time at all


@pytest.mark.parametrize("element, good, bad", [
    ("cmi.score.scaled", ["-1", "1", "0.8", "0"], ["1.01", "-1.5", "2", ".5", "1e-1"]),
    ("cmi.score.raw", ["-500", "1000", "72.25"], ["abc", ""[:0] + "1,5"]),
    ("cmi.progress_measure", ["0", "1", "0.33"], ["1.1", "-0.1"]),
    ("cmi.objectives.0.score.scaled", ["0.67"], ["1.2"]),
    ("cmi.objectives.0.progress_measure", ["0.5"], ["2"]),
    ("cmi.interactions.0.weighting", ["-3", "2.5"], ["heavy"]),
])
def test_decimals_and_their_ranges(element, good, bad):
    """RTE 2004 4.2.20 score.scaled -1..1, raw/min/max real(10,7) unbounded; 4.2.18 progress_measure 0..1."""
    base = {"cmi.objectives.0.id": "o"} if ".objectives." in element else \
        {"cmi.interactions.0.id": "q"} if ".interactions." in element else {}
    for value in good:
        assert ok({**base, element: value})
    for value in bad:
        refused({**base, element: value}, element)


def test_status_and_exit_vocabularies():
    """RTE 2004 4.2.4 completion_status, 4.2.22 success_status, 4.2.8 exit."""
    for value in ("completed", "incomplete", "not attempted", "unknown"):
        assert ok({"cmi.completion_status": value})
    for value in ("passed", "failed", "unknown"):
        assert ok({"cmi.success_status": value})
    for value in ("time-out", "suspend", "logout", "normal", ""):
        assert ok({"cmi.exit": value})
    refused({"cmi.completion_status": "passed"}, "cmi.completion_status")
    refused({"cmi.success_status": "completed"}, "cmi.success_status")
    refused({"cmi.exit": "quit"}, "cmi.exit")


@pytest.mark.parametrize("value", ["PT1M2.5S", "PT0S", "P0S", "PT0.29S", "P1DT2H", "PT1H30M", "P1Y2M3DT4H5M6.78S",
                                   "P", "PT"])
def test_session_time_is_an_iso_8601_duration(value):
    """RTE 2004 4.2.21 timeinterval (second,10,2); a bare P or PT (no time) is taken as scorm-again takes it."""
    assert ok({"cmi.session_time": value})


@pytest.mark.parametrize("value", ["00:01:00", "PT1.234S", "1M", "PT-1S", "P1S2M"])
def test_session_time_in_another_form_is_refused(value):
    err = refused({"cmi.session_time": value}, "cmi.session_time")
    assert "ISO 8601 duration" in err.message


def test_localized_strings_take_a_lang_delimiter_and_their_length():
    """RTE 2004 data type localized_string_type: {lang=xx} then the text (4000 for a comment)."""
    key = "cmi.comments_from_learner.0.comment"
    for value in ("Great course", "{lang=en}Great", "{lang=fr-CA}Très bien", "{lang=de}" + "x" * 4000,
                  "line one\nline two"):
        assert ok({key: value})
    refused({key: "x" * 4001}, key)
    refused({key: "{lang=en_US!}text"}, key)


def test_comments_from_learner_location_and_timestamp():
    """RTE 2004 4.2.2: location characterstring (250), timestamp time (second,10,0)."""
    base = {"cmi.comments_from_learner.0.comment": "c"}
    assert ok({**base, "cmi.comments_from_learner.0.location": "page 3",
               "cmi.comments_from_learner.0.timestamp": "2026-11-30T02:03:04.5Z"})
    for stamp in ("2026", "2026-11-30", "2026-11-30T02:03", "2026-11-30T02:03:04+01:00"):
        assert ok({**base, "cmi.comments_from_learner.0.timestamp": stamp})
    for stamp in ("2026-13-01", "1969-12-31", "30/11/2026", "2026-11-30 02:03:04"):
        refused({**base, "cmi.comments_from_learner.0.timestamp": stamp},
                "cmi.comments_from_learner.0.timestamp")
    refused({**base, "cmi.comments_from_learner.0.location": "x" * 251}, "cmi.comments_from_learner.0.location")
    refused({"cmi.comments_from_learner.1.comment": "c"}, "cmi.comments_from_learner.1")


def test_learner_preferences():
    """RTE 2004 4.2.13: audio_level and delivery_speed 0..*, language a language code, captioning -1..1."""
    assert ok({"cmi.learner_preference.audio_level": "1.5", "cmi.learner_preference.language": "en-US",
               "cmi.learner_preference.delivery_speed": "0.75", "cmi.learner_preference.audio_captioning": "-1"})
    refused({"cmi.learner_preference.audio_level": "-1"}, "cmi.learner_preference.audio_level")
    refused({"cmi.learner_preference.language": "english please"}, "cmi.learner_preference.language")
    refused({"cmi.learner_preference.audio_captioning": "2"}, "cmi.learner_preference.audio_captioning")


def test_objective_and_interaction_ids():
    """RTE 2004 4.2.17.1 / 4.2.9.1 id: long_identifier_type, not empty, set before the rest (error 408)."""
    assert ok({"cmi.objectives.0.id": "urn:example:objective:1"})
    refused({"cmi.objectives.0.id": "   "}, "cmi.objectives.0.id")
    refused({"cmi.objectives.0.id": ""}, "cmi.objectives.0.id")
    refused({"cmi.objectives.0.id": "x" * 4001}, "cmi.objectives.0.id")
    refused({"cmi.objectives.0.success_status": "passed"}, "cmi.objectives.0.id")
    refused({"cmi.interactions.0.type": "choice"}, "cmi.interactions.0.id")


def q(kind: str, response: str | None = None, *patterns: str) -> dict:
    out = {"cmi.interactions.0.id": "q", "cmi.interactions.0.type": kind}
    if response is not None:
        out["cmi.interactions.0.learner_response"] = response
    for n, p in enumerate(patterns):
        out[f"cmi.interactions.0.correct_responses.{n}.pattern"] = p
    return out


RESPONSE = "cmi.interactions.0.learner_response"


@pytest.mark.parametrize("kind, good, bad", [
    ("true-false", ["true", "false"], ["t", "1", "True", "yes"]),
    ("choice", ["a", "a[,]b[,]c", "choice_1[,]choice_2"], ["a[,]a", "[,]".join(f"c{i}" for i in range(37))]),
    ("fill-in", ["golf", "{lang=en}golf[,]par", "x" * 250], ["x" * 251, "[,]".join("w" * 11)]),
    ("long-fill-in", ["{lang=en}" + "x" * 4000], ["x" * 4001]),
    ("matching", ["a[.]1[,]b[.]2"], ["a", "a[.]1[.]2", "a b[.]1"]),
    ("performance", ["step1[.]answer one[,]step2[.]2"], ["[.]"]),
    ("sequencing", ["a[,]b[,]c"], ["a[,]b c"]),
    ("likert", ["strongly_agree"], ["strongly agree", "a[,]b"]),
    ("numeric", ["18", "-2.5"], ["eighteen", "1[:]2", "1e3"]),
    ("other", ["anything at all", "x" * 4000], ["x" * 4001]),
])
def test_learner_response_format_follows_the_interaction_type(kind, good, bad):
    """RTE 2004 4.2.9.1 Table 4.2.9.1a: the learner_response format of each interaction type."""
    for value in good:
        assert ok(q(kind, value))
    for value in bad:
        refused(q(kind, value), RESPONSE)


@pytest.mark.parametrize("kind, good, bad", [
    ("true-false", ["true"], ["yes"]),
    ("choice", ["a[,]b", "", " "], ["a[,]a", "a[,]"]),
    ("fill-in", ["{case_matters=true}{order_matters=false}Golf[,]par", "{lang=en}golf", "{lang=}golf"],
     ["{case_matters=maybe}golf", "{order_matters=1}golf"]),
    ("matching", ["{order_matters=false}a[.]1[,]b[.]2"], ["a-1"]),
    ("sequencing", ["{order_matters=true}a[,]b"], ["a[,]b c"]),
    ("numeric", ["18", "1[:]5", "[:]5", "1[:]", "", "1:5"], ["5[:]1", "a[:]b", "1[:]2[:]3", "5:1"]),
    ("likert", ["agree"], ["agree strongly"]),
])
def test_correct_response_pattern_format_follows_the_interaction_type(kind, good, bad):
    """RTE 2004 4.2.9.1: correct_responses.n.pattern by type, with its {case_matters}/{order_matters}/{lang}
    delimiters; numeric takes a range min[:]max."""
    key = "cmi.interactions.0.correct_responses.0.pattern"
    for value in good:
        assert ok(q(kind, None, value))
    for value in bad:
        refused(q(kind, None, value), key)


def test_a_response_needs_the_interaction_type_first():
    """RTE 2004 4.2.9.1: learner_response and correct_responses depend on type (error 408)."""
    err = refused({"cmi.interactions.0.id": "q", RESPONSE: "a"}, RESPONSE)
    assert "type" in err.message
    refused({"cmi.interactions.0.id": "q", "cmi.interactions.0.correct_responses.0.pattern": "a"},
            "cmi.interactions.0.correct_responses.0.pattern")
    assert ok({"cmi.interactions.0.id": "q", RESPONSE: ""})     # not set: nothing to check


def test_single_pattern_types_take_one_correct_response_and_choice_patterns_differ():
    refused(q("true-false", None, "true", "false"), "cmi.interactions.0.correct_responses.1.pattern")
    refused(q("numeric", None, "1", "2"), "cmi.interactions.0.correct_responses.1.pattern")
    refused(q("choice", None, "a", "a"), "cmi.interactions.0.correct_responses.1.pattern")
    assert ok(q("choice", None, "a", "b"))
    assert ok(q("fill-in", None, "golf", "golf"))


def test_interaction_result_timestamp_and_latency():
    """RTE 2004 4.2.9.1: result vocabulary or a decimal (not the 1.2 word 'wrong'); timestamp time;
    latency timeinterval."""
    for value in ("correct", "incorrect", "unanticipated", "neutral", "-12.5", "100"):
        assert ok({"cmi.interactions.0.id": "q", "cmi.interactions.0.result": value})
    refused({"cmi.interactions.0.id": "q", "cmi.interactions.0.result": "wrong"}, "cmi.interactions.0.result")
    assert ok({"cmi.interactions.0.id": "q", "cmi.interactions.0.timestamp": "2026-11-30T02:03:04Z",
               "cmi.interactions.0.latency": "PT7.25S"})
    refused({"cmi.interactions.0.id": "q", "cmi.interactions.0.latency": "00:00:07"}, "cmi.interactions.0.latency")


@pytest.mark.parametrize("value", ["continue", "previous", "exit", "exitAll", "abandon", "abandonAll",
                                   "suspendAll", "_none_", "{target=item_2}choice", "{target=test_1}jump"])
def test_navigation_requests_are_accepted(value):
    """SCORM 2004 SN / RTE 4.4.1 adl.nav.request is SCO-writable."""
    assert ok({"adl.nav.request": value})


def test_an_unknown_navigation_request_is_refused():
    refused({"adl.nav.request": "next"}, "adl.nav.request")
    refused({"adl.nav.request": "{target=}choice"}, "adl.nav.request")


@pytest.mark.parametrize("element", [
    "cmi.learner_id", "cmi.learner_name", "cmi.credit", "cmi.entry", "cmi.mode", "cmi.total_time",
    "cmi.launch_data", "cmi.completion_threshold", "cmi.scaled_passing_score", "cmi.max_time_allowed",
    "cmi.time_limit_action", "cmi._version", "cmi.interactions._count", "cmi.objectives._count",
    "cmi.comments_from_lms.0.comment", "cmi.score._children", "adl.nav.request_valid.continue",
])
def test_read_only_elements_are_refused(element):
    """RTE 2004 4.2: SetValue on these answers error 404 (read-only)."""
    err = refused({element: "x"}, element)
    assert "read-only" in err.message


def test_unknown_and_1_2_elements_and_adl_data_are_refused():
    err = refused({"cmi.core.lesson_status": "completed"}, "cmi.core.lesson_status")
    assert "SCORM 1.2 element" in err.message
    err = refused({"adl.data.0.store": "x"}, "adl.data.0.store")
    assert "adl.data" in err.message
    refused({"cmi.interactions.0.student_response": "a"}, "cmi.interactions.0.student_response")
