"""``lrs launch create`` prints a launch link that works, made by the same code as the API."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import scorm12_zip  # noqa: E402
from launch_helpers import import_package, service, player_config  # noqa: E402

LRS = [sys.executable, "-m", "service.cli"]


def _run(tmp_path, *args):
    env = {**os.environ, "LRS_DATA_DIR": str(tmp_path), "LRS_PUBLIC_URL": "http://lrs.test"}
    return subprocess.run(LRS + list(args), env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])


def test_the_cli_prints_a_launch_link_that_opens_the_course(tmp_path):
    with service(tmp_path) as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
    reg = str(uuid.uuid4())
    out = _run(tmp_path, "launch", "create", "--course", course_id, "--learner", "mailto:cli@example.com",
               "--registration", reg)
    assert out.returncode == 0, out.stderr
    url, info = out.stdout.splitlines()[:2]
    # LRS_PUBLIC_URL's host on the content port: the content origin (launch_helpers.CONTENT)
    assert url.startswith("http://lrs.test:8081/player/launch/") and reg in info
    with service(tmp_path) as client:
        page = client.get(url)
        assert page.status_code == 200
        assert player_config(page.text)["urls"]["files"] == f"/content/files/{course_id}/1/"
        assert client.get(url, follow_redirects=False).status_code == 410


def test_the_cli_refuses_an_unknown_course_with_a_message(tmp_path):
    out = _run(tmp_path, "launch", "create", "--course", "nope", "--learner", "mailto:cli@example.com")
    assert out.returncode == 1 and "no course with id 'nope'" in out.stderr and out.stdout == ""


def test_the_cli_refuses_a_bad_learner(tmp_path):
    out = _run(tmp_path, "launch", "create", "--course", "nope", "--learner", "alice")
    assert out.returncode == 1 and "learner" in out.stderr
