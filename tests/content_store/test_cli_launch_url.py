"""The URL ``lrs packages import`` prints (issue 9 finding 13, the content store's part): one that answers."""
from __future__ import annotations

import argparse
import re
from types import SimpleNamespace

from content_store import cli
from content_store.store import ContentStore
from cs_helpers import make_client, scorm12_zip, write


def _import(tmp_path, capsys, **settings):
    settings = SimpleNamespace(data_dir=tmp_path / "var", **settings)
    parser = argparse.ArgumentParser(prog="lrs")
    cli.add_commands(parser.add_subparsers(), lambda: settings)
    args = parser.parse_args(["packages", "import", str(write(tmp_path, "c.zip", scorm12_zip()))])
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_import_prints_a_launch_url_that_the_file_route_serves(tmp_path, capsys):
    """Issue 9 finding 13: the CLI printed `files at: /content/files/<id>/1/`, a 404; it prints the
    URL of the version's launch file, which answers 200."""
    out = _import(tmp_path, capsys)
    (line,) = [x for x in out.splitlines() if x.startswith("launch: ")]
    url = line.removeprefix("launch: ").split(" ")[0]
    assert url.startswith("/content/files/") and url.endswith("/1/index.html")
    store = ContentStore(tmp_path / "var" / "content")
    try:
        response = make_client(store).get(url.removeprefix("/content"))
        assert response.status_code == 200 and response.text == "<html>lesson</html>"
    finally:
        store.close()


def test_import_prints_the_public_url_when_configured(tmp_path, capsys):
    """Issue 9 finding 13: with LRS_PUBLIC_URL (or host and port) the printed launch URL is absolute."""
    out = _import(tmp_path, capsys, public_url="https://lrs.example.com/", host="127.0.0.1", port=8080)
    assert "launch: https://lrs.example.com/content/files/" in out


def test_import_prints_the_launch_file_on_the_content_origin_and_how_learners_open_it(tmp_path, capsys):
    """The service serves course files on its content origin (Settings.content_url), to a session
    that a launch link opens: the printed URL is there, and the next line says how to make a link."""
    out = _import(tmp_path, capsys, public_url="https://lrs.example.com/", host="127.0.0.1", port=8080,
                  content_url="https://learn.example.com")
    assert "launch: https://learn.example.com/content/files/" in out
    assert re.search(r"^  learners open it through a launch link: lrs launch create --course \S+ --learner", out, re.M)
