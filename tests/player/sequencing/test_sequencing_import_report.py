"""Sequencing the engine cannot honour is reported at import, as a warning naming the element."""
from __future__ import annotations

import io
import zipfile

from seq_kit import item, manifest, seq

from content_store.importer import import_file
from content_store.limits import Limits
from content_store.store import ContentStore
from service.cli import main
from service.imports import IMPORT_CHECKS

UNHONOURED = seq("""<imsss:rollupRules><imsss:rollupRule><imsss:rollupConditions>
  <imsss:rollupCondition condition="outsideAvailableTimeRange"/></imsss:rollupConditions>
  <imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>""")


def package(tmp_path, org_seq: str = UNHONOURED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("imsmanifest.xml", manifest(item("a") + item("b"), org_seq))
        z.writestr("index.html", "<html>sco</html>")
    path = tmp_path / "course.zip"
    path.write_bytes(buf.getvalue())
    return path


def test_import_report_warns_of_a_rollup_condition_the_engine_cannot_evaluate(tmp_path):
    store = ContentStore(tmp_path / "content")
    try:
        result = import_file(store, package(tmp_path), Limits(), checks=IMPORT_CHECKS)
    finally:
        store.close()
    warnings = [w for w in result.report.to_dict()["warnings"] if w["rule"].startswith("sequencing.")]
    assert [w["rule"] for w in warnings] == ["sequencing.rollup_condition_unsupported"]
    assert warnings[0]["file"] == "imsmanifest.xml"
    assert "organization 'org'" in warnings[0]["element"] and "rollupRule" in warnings[0]["element"]
    assert "outsideAvailableTimeRange" in warnings[0]["message"]
    assert result.report.ok  # a warning, the package is accepted


def test_lrs_packages_import_prints_the_sequencing_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path / "data"))
    path = package(tmp_path)
    try:
        code = main(["packages", "import", str(path)])
    except SystemExit as exc:
        code = exc.code
    out, _ = capsys.readouterr()
    assert code == 0
    assert "sequencing.rollup_condition_unsupported" in out
