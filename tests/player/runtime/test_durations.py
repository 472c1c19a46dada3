"""Time spans of both SCORM versions, counted in centiseconds (player/runtime/durations.py)."""
from __future__ import annotations

import pytest

from player.runtime.durations import (iso_duration, parse_duration, parse_duration_2004,
                                      parse_timespan_12, timespan_12)


@pytest.mark.parametrize("text, cs", [
    ("0000:00:00", 0), ("0000:01:02.5", 6250), ("0001:00:00.05", 360005), ("12:34:56.78", 4529678),
    ("17496:00:00", 17496 * 360000),          # scorm-again writes more than four hour digits
])
def test_scorm12_cmitimespan_is_read_to_the_hundredth(text, cs):
    """SCORM 1.2 RTE CMITimespan: HHHH:MM:SS.SS, the fraction optional."""
    assert parse_timespan_12(text) == cs


@pytest.mark.parametrize("text", ["", "1:2:3", "00:00", "PT1S", "0000:00:00.123", "aa:bb:cc"])
def test_scorm12_text_that_is_not_a_cmitimespan_reads_as_none(text):
    assert parse_timespan_12(text) is None


@pytest.mark.parametrize("text, cs", [
    ("PT1M2.5S", 6250), ("PT0S", 0), ("P0S", 0), ("PT0.29S", 29), ("PT1H", 360000),
    ("P1DT1H", 25 * 360000), ("P1W", 7 * 86400 * 100), ("PT1,5M", 9000),
])
def test_scorm2004_timeinterval_is_read_to_the_hundredth(text, cs):
    """RTE 2004 data type timeinterval (second,10,2); a day is 24 h, a week 7 days (as scorm-again)."""
    assert parse_duration_2004(text) == cs


@pytest.mark.parametrize("cs, text", [(0, "PT0S"), (6250, "PT1M2.5S"), (372345, "PT1H2M3.45S"),
                                      (360000, "PT1H"), (5, "PT0.05S"), (90 * 360000, "PT90H")])
def test_totals_are_written_as_iso_durations_to_the_hundredth(cs, text):
    """The xAPI Profile for SCORM keeps total_time as an ISO 8601 duration with 0.01 s precision."""
    assert iso_duration(cs) == text
    assert parse_duration(text) == cs


def test_scorm12_totals_are_written_as_hhhh_mm_ss_ss():
    assert timespan_12(6250) == "0000:01:02.50"
    assert timespan_12(0) == "0000:00:00.00"
    assert parse_duration("0000:01:02.50") == 6250


def test_garbage_or_nothing_counts_as_no_time():
    assert parse_duration(None) == 0
    assert parse_duration("") == 0
    assert parse_duration("soon") == 0
