"""The shared SCORM 2004 fixture with sequencing, played through the engine (the player's browser
tests play it end to end; these pin the activity order the manifest intends)."""
from __future__ import annotations

from pathlib import Path

import pytest
from seq_kit import completed, failed, passed, run

from content_store.limits import Limits
from content_store.package import read_package
from content_store.zipsafe import SafeZip
from player.sequencing import check, settings_for

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "packages"
REMEDIATION = FIXTURES / "SequencingSimpleRemediation_SCORM20043rdEdition.zip"
CONTENT = ["playing_item", "etuqiette_item", "handicapping_item", "havingfun_item"]
TESTS = ["test_1", "test_2", "test_3", "test_4"]
ROOT = "golf_sample_default_org"


@pytest.fixture(scope="module")
def remediation() -> dict:
    if not REMEDIATION.exists():
        pytest.skip(f"{REMEDIATION} is not here (../shared/fixtures beside the repository)")
    with SafeZip(REMEDIATION, Limits()) as z:
        package = read_package(z, Limits())
    assert package.report.ok
    return package.model


def test_remediation_fixture_has_nothing_the_engine_cannot_honour(remediation):
    assert check(remediation) == []


def test_remediation_passed_first_time_delivers_content_then_tests_and_passes_the_course(remediation):
    report = run(settings_for(remediation), [completed()] * 4 + [passed()] * 4, state=[ROOT])
    assert report["delivered"] == CONTENT + TESTS
    assert report["session_ended"] == ["exit_all"]  # the wrapper's satisfied -> exitAll rule
    assert report["state"][ROOT]["success"] == "passed"


def test_remediation_failed_test_sends_the_learner_back_to_that_content_only(remediation):
    first_round = [completed()] * 4 + [failed(), passed(), passed(), passed()]
    report = run(settings_for(remediation), first_round + [completed(), passed()], state=[ROOT])
    # the wrapper's "not satisfied -> retry" rule; satisfied content and tests are skipped
    assert report["delivered"] == CONTENT + TESTS + ["playing_item", "test_1"]
    assert report["state"][ROOT]["success"] == "passed"
