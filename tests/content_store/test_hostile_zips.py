"""Acceptance 2: hostile zips, built here, are refused with a clear 4xx and leave nothing
behind: no temporary file, no blob, no course record."""
from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile

import pytest

from content_store.limits import Limits
from cs_helpers import assert_nothing_left, make_client, manifest_12, scorm12_zip, upload, zip_bytes


def with_entry(info: zipfile.ZipInfo, data: bytes = b"x", base: bytes | None = None) -> bytes:
    """A valid SCORM package plus one crafted entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", manifest_12())
        z.writestr("index.html", "<html></html>")
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def refused(client, store, data: bytes, status: int, rule: str) -> dict:
    response = upload(client, data)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    assert [e["rule"] for e in error["report"]["errors"]] == [rule]
    assert_nothing_left(store)
    return error


@pytest.mark.parametrize("name", ["../evil.html", "content/../../evil.html", "..\\evil.html",
                                  "a/b/../../../evil.html"])
def test_zip_slip_entry_is_refused(client, store, name):
    error = refused(client, store, with_entry(zipfile.ZipInfo(name)), 400, "zip.unsafe_path")
    assert name in error["message"]
    assert not (store.root.parent / "evil.html").exists()


@pytest.mark.parametrize("name", ["/etc/evil.html", "C:/evil.html", "c:\\windows\\evil.html", "\\evil.html"])
def test_absolute_path_entry_is_refused(client, store, name):
    refused(client, store, with_entry(zipfile.ZipInfo(name)), 400, "zip.absolute_path")


def test_symlink_entry_is_refused(client, store):
    info = zipfile.ZipInfo("shared/passwd.html")
    info.create_system = 3  # unix
    info.external_attr = (0o120777 << 16)
    refused(client, store, with_entry(info, b"/etc/passwd"), 400, "zip.symlink")


def test_encrypted_entry_is_refused(client, store):
    data = bytearray(with_entry(zipfile.ZipInfo("secret.html"), b"not really encrypted"))
    at = data.rfind(b"PK\x01\x02")  # central directory record of secret.html
    data[at + 8] |= 0x1  # general purpose flag: encrypted
    refused(client, store, bytes(data), 400, "zip.encrypted")


def test_zip_bomb_over_the_compression_ratio_is_refused(client, store):
    bomb = with_entry(zipfile.ZipInfo("zeros.bin"), bytes(20 * 1024 * 1024))
    assert len(bomb) < 100_000  # 20 MiB of zeros deflate to about 20 KiB
    error = refused(client, store, bomb, 413, "zip.ratio")
    assert "zeros.bin" in error["message"]


def test_small_highly_compressible_files_are_not_taken_for_bombs(client, store):
    data = with_entry(zipfile.ZipInfo("blank.css"), bytes(500 * 1024))
    assert upload(client, data).status_code == 201


def test_total_uncompressed_size_limit_holds(store):
    client = make_client(store, Limits(max_uncompressed_bytes=1_000_000))
    files = {f"media/{n}.bin": os.urandom(400_000) for n in range(3)}
    refused(client, store, scorm12_zip(files=files), 413, "zip.too_large")


def test_ten_thousand_files_are_refused_by_the_default_limit(client, store):
    assert Limits().max_files < 10_000
    files = {f"f/{n}.txt": "x" for n in range(10_000)}
    refused(client, store, scorm12_zip(files=files), 413, "zip.too_many_files")


def test_file_count_limit_accepts_exactly_the_limit(store):
    files = {f"f/{n}.txt": "x" for n in range(8)}  # + imsmanifest.xml + index.html = 10
    assert upload(make_client(store, Limits(max_files=10)), scorm12_zip(files=files)).status_code == 201
    files["f/one-more.txt"] = "x"
    response = upload(make_client(store, Limits(max_files=10)), scorm12_zip("other", files=files))
    assert response.status_code == 413


def test_truncated_zip_is_refused(client, store):
    whole = scorm12_zip(files={"media/a.bin": os.urandom(50_000)})
    error = refused(client, store, whole[: len(whole) * 2 // 3], 400, "zip.not_a_zip")
    assert "truncated" in error["message"]


def test_upload_that_is_not_a_zip_is_refused(client, store):
    refused(client, store, b"%PDF-1.4 this is not a zip" + os.urandom(1000), 400, "zip.not_a_zip")


def test_corrupt_entry_found_during_extraction_leaves_nothing(client, store):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("imsmanifest.xml", manifest_12())
        z.writestr("index.html", "<html></html>")
        for n in range(5):
            z.writestr(f"media/{n}.bin", os.urandom(10_000))
    data = bytearray(buf.getvalue())
    last = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("media/4.bin")
    data[last.header_offset + 30 + len("media/4.bin") + 100] ^= 0xFF  # flip a byte of its data
    error = refused(client, store, bytes(data), 400, "zip.corrupt")
    assert "media/4.bin" in error["message"]


def test_entries_sharing_compressed_data_are_refused(client, store):
    data = bytearray(zip_bytes({"imsmanifest.xml": manifest_12(), "index.html": "<html></html>",
                                "copy.html": "<html></html>"}))
    # point the central directory record of copy.html at index.html's data
    index_offset = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("index.html").header_offset
    at = data.rfind(b"PK\x01\x02")  # the last central directory record: copy.html
    data[at + 42: at + 46] = struct.pack("<I", index_offset)
    refused(client, store, bytes(data), 400, "zip.overlapping_entries")


def test_duplicate_entry_names_are_refused(client, store):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("imsmanifest.xml", manifest_12())
            z.writestr("index.html", "<html>one</html>")
            z.writestr("index.html", "<html>two</html>")
    refused(client, store, buf.getvalue(), 400, "zip.duplicate_entry")


def test_oversize_upload_with_content_length_is_refused_before_reading(store):
    client = make_client(store, Limits(max_upload_bytes=100_000))
    data = scorm12_zip(files={"media/a.bin": os.urandom(300_000)})
    refused(client, store, data, 413, "upload.too_large")


def test_oversize_chunked_upload_is_cut_off(store):
    client = make_client(store, Limits(max_upload_bytes=100_000))
    sent = []

    def body():
        for _ in range(50):
            sent.append(1)
            yield os.urandom(10_000)

    response = client.post("/packages", content=body(), headers={"content-type": "application/zip"})
    assert response.status_code == 413
    assert response.json()["error"]["report"]["errors"][0]["rule"] == "upload.too_large"
    assert_nothing_left(store)


def test_zip_without_any_descriptor_is_refused(client, store):
    error = refused(client, store, zip_bytes({"index.html": "<html></html>"}), 400, "package.no_manifest")
    assert "imsmanifest.xml" in error["message"]


def test_descriptor_in_a_subfolder_next_to_other_folders_is_refused_with_a_hint(client, store):
    data = zip_bytes({"course/imsmanifest.xml": manifest_12(), "course/index.html": "x", "other/x.txt": "y"})
    error = refused(client, store, data, 400, "package.no_manifest")
    assert "course/imsmanifest.xml" in error["message"]
