"""Launch tokens and sessions at the Launcher (player/launch.py), with a clock the tests move."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import scorm12_zip, write  # noqa: E402

from content_store.importer import import_file  # noqa: E402
from content_store.limits import Limits  # noqa: E402
from content_store.store import ContentStore  # noqa: E402
from player.launch import Launcher, TokenRejected  # noqa: E402
from player.storage import open_player_store  # noqa: E402

ALICE = {"mbox": "mailto:alice@example.com"}


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _key(name: str) -> bytes:
    """A 32-byte key per name, as the store's secrets are."""
    return hashlib.sha256(name.encode()).digest()


@pytest.fixture
def setup(tmp_path, backend):
    content = ContentStore(tmp_path / "content")
    course_id = import_file(content, write(tmp_path, "p.zip", scorm12_zip()), Limits()).course["id"]
    players = open_player_store(tmp_path, backend)
    clock = Clock()
    launcher = Launcher(players, content, _key, token_seconds=300, session_seconds=3600, clock=clock)
    yield launcher, course_id, clock
    players.close()
    content.close()


def test_a_token_opens_once_across_stores_on_the_same_data(setup, tmp_path, backend):
    """Two processes: two store instances on the same file or database; the second open is 'used'."""
    launcher, course_id, clock = setup
    other_store = open_player_store(tmp_path, backend)
    try:
        other = Launcher(other_store, launcher.content, _key, clock=clock)
        made = launcher.create(ALICE, course_id, "http://x")
        assert other.open(made.token)["jti"]
        with pytest.raises(TokenRejected) as exc:
            launcher.open(made.token)
        assert exc.value.reason == "used"
    finally:
        other_store.close()


def test_a_token_works_until_its_exp_and_is_expired_from_then_on(setup):
    launcher, course_id, clock = setup
    late = launcher.create(ALICE, course_id, "http://x")
    clock.now += 300
    with pytest.raises(TokenRejected) as exc:
        launcher.open(late.token)
    assert exc.value.reason == "expired"
    fresh = launcher.create(ALICE, course_id, "http://x")
    clock.now += 299
    assert launcher.open(fresh.token)["reg"] == fresh.registration.id


def test_the_token_carries_the_claims_and_the_launch_audience(setup):
    launcher, course_id, clock = setup
    made = launcher.create(ALICE, course_id, "http://x/", return_url="https://lms.example.com/done")
    assert made.url == "http://x/player/launch/" + made.token
    claims = jwt.decode(made.token, _key("launch"), algorithms=["HS256"], audience="lrs-launch",
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["reg"] == made.registration.id and claims["course"] == course_id and claims["ver"] == 1
    assert claims["sub"] == made.registration.learner_key and claims["ret"] == "https://lms.example.com/done"
    assert claims["exp"] - claims["iat"] == 300 and len(claims["jti"]) >= 16


def test_a_token_for_another_audience_is_invalid_and_not_consumed(setup):
    launcher, course_id, clock = setup
    made = launcher.create(ALICE, course_id, "http://x")
    claims = jwt.decode(made.token, options={"verify_signature": False})
    session_like = jwt.encode({**claims, "aud": "lrs-player-session"}, _key("launch"), algorithm="HS256")
    with pytest.raises(TokenRejected) as exc:
        launcher.open(session_like)
    assert exc.value.reason == "invalid"
    assert launcher.player.consume_token(claims["jti"], claims["exp"])   # it had not been consumed


def test_a_launch_token_is_not_a_session_and_a_session_expires(setup):
    launcher, course_id, clock = setup
    made = launcher.create(ALICE, course_id, "http://x")
    assert launcher.session(made.token) is None
    session = launcher.session_token(launcher.open(made.token))
    assert launcher.session(session)["reg"] == made.registration.id
    clock.now += 3600
    assert launcher.session(session) is None
