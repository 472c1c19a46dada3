"""Whatever a browser or a forged request sends, the runtime answers a value or a CommitRejected,
never another exception (COMMON: never a 500)."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from player.runtime.attempts import ScoContext, apply, parse_commit
from player.runtime.elements import ELEMENTS_12, ELEMENTS_2004, validate_data
from player.runtime.errors import CommitRejected
from player.storage.ports import Attempt

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
NAMES = sorted(set(ELEMENTS_12) | set(ELEMENTS_2004))
keys = st.one_of(
    st.sampled_from(NAMES).flatmap(lambda name: st.lists(st.sampled_from(["0", "1", "2", "01", "x", "-1"]),
                                                         min_size=name.count(".n"), max_size=name.count(".n"))
                                   .map(lambda idx, name=name: _fill(name, idx))),
    st.text(max_size=40),
)
values = st.one_of(st.text(max_size=30), st.sampled_from(["", "0", "1.5", "-1", "true", "a[,]b", "a[.]b",
                                                          "PT1S", "00:00:01", "{lang=en}x", "1[:]2", "suspend",
                                                          "completed", "passed", "choice", "numeric"]),
                   st.integers(), st.none(), st.booleans())
VERSIONS = st.sampled_from(["1.2", "2004"])


def _fill(name: str, idx: list[str]) -> str:
    parts, it = name.split("."), iter(idx)
    return ".".join(next(it) if p == "n" else p for p in parts)


@settings(max_examples=100, deadline=None)
@given(VERSIONS, st.dictionaries(keys, values, max_size=12))
def test_validate_data_answers_a_dict_or_a_commit_rejected(version, data):
    try:
        out = validate_data(version, data)
    except CommitRejected as exc:
        assert exc.status == 400 and exc.message
        return
    assert set(out) == set(data)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                     st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=6)


@settings(max_examples=100, deadline=None)
@given(VERSIONS, st.fixed_dictionaries({}, optional={
    "registration": st.one_of(st.uuids().map(str), json_values), "sco": json_values,
    "attempt": st.one_of(st.integers(-2, 3), json_values), "seq": st.one_of(st.integers(-2, 3), json_values),
    "event": st.one_of(st.sampled_from(["initialize", "commit", "terminate"]), json_values),
    "at": st.one_of(st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()), json_values),
    "data": st.one_of(st.dictionaries(keys, values, max_size=5), json_values)}))
def test_parse_commit_then_apply_answers_an_attempt_or_a_commit_rejected(version, body):
    try:
        commit = parse_commit(body, version, now=NOW)
    except CommitRejected as exc:
        assert 400 <= exc.status < 500
        return
    after = apply(Attempt(commit.registration, commit.sco, 1, "t", "t"), commit,
                  ScoContext(version, {"identifier": commit.sco, "mastery_score": 50.0}))
    assert after.total_time.startswith("PT")


@settings(max_examples=60, deadline=None)
@given(VERSIONS, st.lists(st.tuples(st.sampled_from(["initialize", "commit", "terminate"]),
                                    st.dictionaries(keys, values, max_size=6)), min_size=1, max_size=5))
def test_a_run_of_valid_envelopes_answers_attempts_or_commit_rejected(version, steps):
    sco = ScoContext(version, {"identifier": "item_1", "mastery_score": 50.0, "completion_threshold":
                               {"min_progress_measure": 0.5}, "objectives": [
                                   {"id": "p", "primary": True, "satisfied_by_measure": True}]})
    attempt = Attempt("7d0f3c5e-8a53-4a5e-9d0e-1a2b3c4d5e6f", "item_1", 1, "t", "t")
    for seq, (event, data) in enumerate(steps, 1):
        body = {"registration": attempt.registration_id, "sco": "item_1", "attempt": 1, "seq": seq,
                "event": event, "at": "2026-11-30T02:00:00Z", "data": data}
        try:
            attempt = apply(attempt, parse_commit(body, version, now=NOW), sco)
        except CommitRejected as exc:
            assert exc.status in (400, 410)
            if exc.status == 410:
                assert attempt.ended
            continue
        assert attempt.completion_status is not None and attempt.total_time.startswith("PT")
