"""The runtime against the real packages in ../shared/fixtures/packages: their manifests give the
launch values, and the values their scripts write (shared/launchpage.html, shared/assessmenttemplate.html,
*/questions.js of the golf samples) go through parse_commit and apply as a learner's browser sends them."""
from __future__ import annotations

import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from content_store.importer import import_file
from content_store.limits import Limits
from content_store.store import ContentStore
from player.runtime.attempts import ScoContext, apply, launch_values, parse_commit
from player.runtime.status import summary
from player.storage.ports import Attempt, Registration

REG = "0b6f2d0e-3c1a-4f7e-9a51-2d7c8e9f0a1b"
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
LEARNER = {"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "ops-0042"},
           "name": "Sam Rivera"}
QUESTION = re.compile(r'new Question\s*\(\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)",\s*(QUESTION_TYPE_\w+),\s*'
                      r'(null|new Array\((.*?)\)),\s*("[^"]*"|[\w.]+),\s*"([^"]*)"\s*\)', re.S)
TYPES = {"QUESTION_TYPE_CHOICE": "choice", "QUESTION_TYPE_TF": "true-false", "QUESTION_TYPE_NUMERIC": "numeric"}


@pytest.fixture
def packages(shared_dir: Path) -> Path:
    folder = shared_dir / "fixtures" / "packages"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


@pytest.fixture
def course(packages: Path, tmp_path: Path):
    store = ContentStore(tmp_path / "content")

    def load(name: str) -> dict:
        result = import_file(store, packages / f"{name}.zip", Limits())
        return store.version(result.course["id"], result.version["version"])["structure"]
    yield load
    store.close()


def registration(course_id: str = "golf") -> Registration:
    return Registration(REG, LEARNER, "account", course_id, 1, "2026-11-30T02:00:00.000Z", "2026-11-30T02:00:00.000Z")


class Browser:
    """Sends full snapshots of the data model, numbered, as player/static/runtime.js does."""

    def __init__(self, sco: ScoContext, attempt: Attempt):
        self.sco, self.attempt, self.seq = sco, attempt, attempt.applied_seq
        self.cmi: dict[str, str] = {}

    def launch(self) -> dict:
        values = launch_values(self.attempt, self.sco, registration())
        self.cmi = {k: v for k, v in values.items() if k.startswith(("cmi.objectives.",)) or not _lms_set(k)}
        return values

    def send(self, event: str, at: str = "2026-11-30T02:30:00.000Z") -> Attempt:
        self.seq += 1
        commit = parse_commit({"registration": REG, "sco": self.sco.sco_id, "attempt": self.attempt.number,
                               "seq": self.seq, "event": event, "at": at, "data": dict(self.cmi)},
                              self.sco.scorm_version, now=NOW)
        self.attempt = apply(self.attempt, commit, self.sco)
        self.attempt = Attempt(**{**self.attempt.__dict__, "applied_seq": self.seq})
        return self.attempt


def _lms_set(key: str) -> bool:
    return key in {"cmi.core.student_id", "cmi.core.student_name", "cmi.core.lesson_mode", "cmi.core.credit",
                   "cmi.core.entry", "cmi.core.total_time", "cmi.launch_data", "cmi.learner_id",
                   "cmi.learner_name", "cmi.mode", "cmi.credit", "cmi.entry", "cmi.total_time",
                   "cmi.scaled_passing_score", "cmi.completion_threshold", "cmi.max_time_allowed",
                   "cmi.time_limit_action"} or key.startswith("cmi.student_data.")


def questions(packages: Path, zip_name: str) -> list[dict]:
    found = []
    with zipfile.ZipFile(packages / f"{zip_name}.zip") as z:
        for name in sorted(n for n in z.namelist() if n.endswith("/questions.js")):
            script = z.read(name).decode("utf-8", "replace")
            for qid, text, kind, _, answers, correct, objective in QUESTION.findall(script):
                options = re.findall(r'"([^"]*)"', answers)
                correct = correct.strip('"')
                found.append({"id": qid, "text": text, "type": TYPES[kind], "objective": objective,
                              "correct": str(options.index(correct)) if options else correct})
    return found


def test_runtime_basic_calls_1_2_played_to_the_end_and_passed(course):
    """RuntimeBasicCalls_SCORM12: incomplete at start, a bookmark per page, completed on the last page,
    RecordTest(score) writes raw/min/max and passed (>= 70), session time without a fraction."""
    structure = course("RuntimeBasicCalls_SCORM12")
    sco = ScoContext.from_structure(structure, "item_1")
    assert sco.scorm_version == "1.2" and sco.mastery_score() is None
    b = Browser(sco, Attempt(REG, "item_1", 1, "t", "t"))
    values = b.launch()
    assert values["cmi.core.student_id"] == "ops-0042" and values["cmi.core.student_name"] == "Sam Rivera"
    assert values["cmi.core.entry"] == "ab-initio"
    b.cmi["cmi.core.lesson_status"] = "incomplete"
    b.cmi["cmi.core.lesson_location"] = "0"
    assert b.send("initialize").completion_status == "incomplete"
    for page in range(1, 7):
        b.cmi["cmi.core.lesson_location"] = str(page)
    b.cmi["cmi.core.session_time"] = "0000:04:10"
    b.cmi["cmi.core.exit"] = "suspend"
    suspended = b.send("terminate")
    assert suspended.ended is False and suspended.total_time == "PT4M10S"

    again = Browser(sco, suspended)
    values = again.launch()
    assert values["cmi.core.entry"] == "resume" and values["cmi.core.lesson_location"] == "6"
    assert values["cmi.core.total_time"] == "0000:04:10.00"
    again.send("initialize", at="2026-11-30T02:40:00.000Z")
    again.cmi.update({"cmi.core.lesson_location": "14", "cmi.core.lesson_status": "completed"})
    again.cmi.update({"cmi.core.score.raw": "75", "cmi.core.score.min": "0", "cmi.core.score.max": "100",
                      "cmi.core.lesson_status": "passed", "cmi.core.session_time": "0000:02:05",
                      "cmi.core.exit": ""})
    done = again.send("terminate", at="2026-11-30T02:42:05.000Z")
    assert done.ended is True
    assert (done.completion_status, done.success_status, done.score_scaled) == ("completed", "passed", 0.75)
    assert done.total_time == "PT6M15S"
    status = summary([done], structure)
    assert status["completion_status"] == "completed" and status["success_status"] == "passed"


def test_run_time_advanced_calls_2004_objectives_interactions_and_the_manifest_passing_score(course, packages):
    """RunTimeAdvancedCalls_SCORM20043rdEdition: the SCO finds its objectives by the manifest's ids
    (cmi.objectives initialized by the LMS), records each question as an interaction, reports
    score.scaled = score / 100, and leaves success to the primary objective's minNormalizedMeasure 0.8."""
    structure = course("RunTimeAdvancedCalls_SCORM20043rdEdition")
    sco = ScoContext.from_structure(structure, "item_1", learner=LEARNER)
    b = Browser(sco, Attempt(REG, "item_1", 1, "t", "t"))
    values = b.launch()
    assert values["cmi.scaled_passing_score"] == "0.8"
    ids = [values[f"cmi.objectives.{n}.id"] for n in range(5)]
    assert ids == ["PRIMARYOBJ", "obj_etiquette", "obj_handicapping", "obj_havingfun", "obj_playing"]
    b.cmi["cmi.completion_status"] = "incomplete"
    b.send("initialize")
    index = {objective: n for n, objective in enumerate(ids)}
    b.cmi.update({"cmi.location": "3", "cmi.progress_measure": "0.27",
                  f"cmi.objectives.{index['obj_playing']}.progress_measure": "0.8",
                  f"cmi.objectives.{index['obj_playing']}.completion_status": "incomplete"})
    b.send("commit")
    asked = questions(packages, "RunTimeAdvancedCalls_SCORM20043rdEdition")
    assert len(asked) == 15
    wrong = {asked[0]["id"], asked[5]["id"], asked[9]["id"], asked[12]["id"]}      # 11 of 15 right: 73
    for n, q in enumerate(asked):
        response = q["correct"] if q["id"] not in wrong else ("3" if q["type"] == "choice" else
                                                                "false" if q["correct"] == "true" else
                                                                "true" if q["type"] == "true-false" else "99")
        base = f"cmi.interactions.{n}"
        b.cmi.update({f"{base}.id": q["id"], f"{base}.description": q["text"],
                      f"{base}.objectives.0.id": q["objective"], f"{base}.type": q["type"],
                      f"{base}.learner_response": response, f"{base}.correct_responses.0.pattern": q["correct"],
                      f"{base}.result": "correct" if q["id"] not in wrong else "incorrect"})
    score = round(11 * 100 / 15)
    b.cmi.update({"cmi.score.raw": str(score), "cmi.score.min": "0", "cmi.score.max": "100",
                  "cmi.score.scaled": str(score / 100), "cmi.location": "14", "cmi.completion_status": "completed",
                  "cmi.progress_measure": "1", "cmi.session_time": "PT6M3.5S", "cmi.exit": "",
                  "adl.nav.request": "exitAll"})
    for objective in ("obj_playing", "obj_etiquette", "obj_handicapping", "obj_havingfun"):
        n = index[objective]
        b.cmi.update({f"cmi.objectives.{n}.score.scaled": "0.75", f"cmi.objectives.{n}.score.raw": "3",
                      f"cmi.objectives.{n}.score.min": "0", f"cmi.objectives.{n}.score.max": "4"})
    done = b.send("terminate")
    assert done.ended is True and done.completion_status == "completed"
    assert done.success_status == "failed" and done.score_scaled == 0.73          # 0.73 < 0.8
    assert done.data["cmi"]["cmi.success_status"] == "failed"
    assert done.total_time == "PT6M3.5S"
    assert done.data["cmi"]["cmi.interactions.14.id"] == asked[14]["id"]


def test_prerequisites_test_manifest_values_reach_the_launch(course):
    """PrerequisitesTest_SCORM12: masteryscore, maxtimeallowed, timelimitaction and datafromlms of
    each module become cmi.student_data.* and cmi.launch_data."""
    structure = course("PrerequisitesTest_SCORM12")
    reg = registration()
    m1 = launch_values(None, ScoContext.from_structure(structure, "module1"), reg)
    assert m1["cmi.student_data.mastery_score"] == "80"
    assert m1["cmi.student_data.max_time_allowed"] == "02:30:00"
    m2 = launch_values(None, ScoContext.from_structure(structure, "module2"), reg)
    assert m2["cmi.launch_data"] == "custom_data_for_module2" and "cmi.student_data.mastery_score" not in m2
    m3 = launch_values(None, ScoContext.from_structure(structure, "module3"), reg)
    assert m3["cmi.student_data.time_limit_action"] == "exit,message"
    m4 = ScoContext.from_structure(structure, "module4")
    attempt = Attempt(REG, "module4", 1, "t", "t")
    b = Browser(m4, attempt)
    b.launch()
    b.send("initialize")
    b.cmi.update({"cmi.core.score.raw": "85", "cmi.core.lesson_status": "passed", "cmi.core.exit": ""})
    done = b.send("terminate")
    assert done.success_status == "failed"                       # 85 < masteryscore 90
    assert done.data["cmi"]["cmi.core.lesson_status"] == "failed"


def test_a_module_that_never_sets_a_status_is_completed_at_finish(course):
    """PrerequisitesTest_SCORM12 modules call no API beyond the runtime's own Initialize/Finish."""
    sco = ScoContext.from_structure(course("PrerequisitesTest_SCORM12"), "module2")
    b = Browser(sco, Attempt(REG, "module2", 1, "t", "t"))
    b.launch()
    b.cmi["cmi.core.lesson_status"] = "not attempted"
    b.send("initialize")
    assert b.send("terminate").completion_status == "completed"


def test_simple_remediation_2004_scos_resolve_in_a_multi_sco_course(course):
    """SequencingSimpleRemediation_SCORM20043rdEdition: 8 SCOs; each resolves to a context, and the
    course is completed only when all are."""
    structure = course("SequencingSimpleRemediation_SCORM20043rdEdition")
    ids = [l["id"] for l in structure["launchables"]]
    contexts = [ScoContext.from_structure(structure, i) for i in ids]
    assert all(c.scorm_version == "2004" for c in contexts)
    attempts = []
    for c in contexts[:-1]:
        b = Browser(c, Attempt(REG, c.sco_id, 1, "t", "t"))
        b.launch()
        b.cmi.update({"cmi.completion_status": "completed", "cmi.success_status": "passed", "cmi.exit": ""})
        b.send("initialize")
        attempts.append(b.send("terminate"))
    assert summary(attempts, structure)["completion_status"] == "incomplete"
    last = contexts[-1]
    b = Browser(last, Attempt(REG, last.sco_id, 1, "t", "t"))
    b.launch()
    b.cmi.update({"cmi.completion_status": "completed", "cmi.exit": ""})
    b.send("initialize")
    attempts.append(b.send("terminate"))
    status = summary(attempts, structure)
    assert status["completion_status"] == "completed" and status["success_status"] == "passed"
    assert status["attempts"] == 8


def test_an_item_that_is_not_a_sco_has_no_runtime_context(course):
    from player.runtime.errors import CommitRejected
    structure = course("RuntimeBasicCalls_SCORM12")
    with pytest.raises(CommitRejected) as info:
        ScoContext.from_structure(structure, "no_such_item")
    assert info.value.status == 404 and info.value.path == "sco"
    with pytest.raises(CommitRejected):
        ScoContext.from_structure(structure, "golf_sample_default_org")
