"""SCORM runtime values read as xAPI values: durations of both versions, timestamps, numbers and
localized strings; what cannot be read is left out rather than making a statement invalid."""
from __future__ import annotations

import pytest

from player.bridge import values


@pytest.mark.parametrize("text, expected", [
    ("0001:02:03.40", "PT1H2M3.4S"),      # SCORM 1.2 CMITimespan
    ("00:00:00", "PT0S"),
    ("9999:59:59.99", "PT9999H59M59.99S"),
    ("PT1H2M3.45S", "PT1H2M3.45S"),       # SCORM 2004 ISO 8601
    ("P1DT2H", "PT26H"),
    ("PT90M", "PT1H30M"),
    ("PT0.004S", "PT0S"),                  # 0.01 s precision
    ("P0Y0M0DT0H0M12.5S", "PT12.5S"),
])
def test_durations_of_both_versions_become_iso_8601_hours_minutes_seconds(text, expected):
    assert values.iso_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1:00", "00:60", "abc", None, "PT-1S", "P1H"])
def test_unreadable_durations_are_none(text):
    assert values.iso_duration(text) is None


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30T01:02:03", "2026-11-30T01:02:03Z"),
    ("2026-11-30T01:02:03.12+02:00", "2026-11-29T23:02:03.12Z"),
    ("2026-11-30T01:02:03Z", "2026-11-30T01:02:03Z"),
])
def test_scorm_2004_times_to_the_second_become_utc_timestamps(text, expected):
    assert values.timestamp(text) == expected


@pytest.mark.parametrize("text", ["2026", "2026-11-30", "2026-11-30T01:02", "2026-02-30T01:02:03", None])
def test_less_precise_or_impossible_times_are_none(text):
    assert values.timestamp(text) is None


@pytest.mark.parametrize("text, expected", [("80", 80), ("0.75", 0.75), ("-1", -1), ("80.0", 80), ("", None),
                                            ("1e400", None), ("nan", None), ("x", None), (None, None)])
def test_scorm_reals_become_json_numbers(text, expected):
    assert values.number(text) == expected and type(values.number(text)) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("{lang=de}Gabelstapler", {"de": "Gabelstapler"}),
    ("Forklift", {"und": "Forklift"}),
    ("{lang=x}Forklift", {"und": "Forklift"}),                 # not a language tag xAPI takes
    ("{lang=not a tag}Forklift", {"und": "{lang=not a tag}Forklift"}),
    ("{lang=en}", None),
    ("", None),
])
def test_localized_strings_become_language_maps(text, expected):
    assert values.localized(text) == expected
