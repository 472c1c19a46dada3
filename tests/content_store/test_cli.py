"""``lrs packages ...`` through content_store.cli, on a parser built here."""
from __future__ import annotations

import argparse
import json
from types import SimpleNamespace

import pytest

from content_store import cli
from cs_helpers import scorm12_zip, write


@pytest.fixture
def run(tmp_path, capsys):
    settings = SimpleNamespace(data_dir=tmp_path / "var", package_max_files=50)

    def run(*argv):
        parser = argparse.ArgumentParser(prog="lrs")
        cli.add_commands(parser.add_subparsers(), lambda: settings)
        args = parser.parse_args(list(argv))
        code = args.func(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_import_prints_the_report_and_the_course(run, tmp_path):
    code, out, _ = run("packages", "import", str(write(tmp_path, "c.zip", scorm12_zip())))
    assert code == 0
    assert out.startswith("accepted: 0 error(s), 0 warning(s)")
    assert "imported: course" in out and "version 1" in out


def test_rejected_import_exits_non_zero_with_the_rules(run, tmp_path):
    code, out, err = run("packages", "import", str(write(tmp_path, "bad.zip", scorm12_zip(schemaversion="9"))))
    assert code == 1
    assert out.startswith("rejected: 1 error(s)") and "[scorm.schemaversion.unknown]" in out
    assert "imsmanifest.xml" in out and err.startswith("lrs: the package was rejected")


def test_import_respects_limits_from_settings(run, tmp_path):
    files = {f"f/{n}.txt": "x" for n in range(60)}
    code, out, _ = run("packages", "import", str(write(tmp_path, "many.zip", scorm12_zip(files=files))))
    assert code == 1 and "[zip.too_many_files]" in out


def test_import_json_output(run, tmp_path):
    code, out, _ = run("packages", "import", "--json", str(write(tmp_path, "c.zip", scorm12_zip())))
    assert code == 0 and json.loads(out)["version"]["structure"]["format"] == "scorm12"


def test_import_of_a_missing_file_exits_2(run, tmp_path):
    assert run("packages", "import", str(tmp_path / "none.zip"))[0] == 2


def test_list_show_retire(run, tmp_path):
    run("packages", "import", str(write(tmp_path, "c.zip", scorm12_zip())))
    code, out, _ = run("packages", "list")
    assert code == 0
    course_id = out.split()[0]
    assert "v1" in out and "scorm12" in out
    code, out, _ = run("packages", "show", course_id)
    shown = json.loads(out)
    assert shown["id"] == course_id and shown["version"]["structure"]["launchables"][0]["launch"] == "index.html"
    code, out, _ = run("packages", "retire", course_id)
    assert code == 0 and out.startswith(f"retired {course_id}")
    assert run("packages", "list")[1] == ""
    assert course_id in run("packages", "list", "--all")[1]


def test_show_and_retire_unknown_course_exit_1(run):
    assert run("packages", "show", "nope")[0] == 1
    assert run("packages", "retire", "nope")[0] == 1
