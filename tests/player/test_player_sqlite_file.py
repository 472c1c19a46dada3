"""The embedded player store's file: where it is, how it is opened, and its layout version."""
from __future__ import annotations

import sqlite3

import pytest

from player.storage import open_player_store
from player.storage.sqlite import LAYOUT


def test_the_player_store_is_its_own_wal_file_in_the_data_dir_with_its_layout_version(tmp_path):
    store = open_player_store(tmp_path)
    try:
        store.consume_token("jti", 2_000_000_000)
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "player.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LAYOUT
        assert conn.execute("SELECT id FROM tokens").fetchall() == [("jti",)]
    finally:
        conn.close()
    assert not (tmp_path / "lrs.sqlite3").exists()


def test_a_store_of_an_unknown_layout_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "player.sqlite3")
    conn.execute(f"PRAGMA user_version = {LAYOUT + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match=f"layout {LAYOUT + 1}"):
        open_player_store(tmp_path)


def test_reopening_a_store_keeps_its_data(tmp_path):
    store = open_player_store(tmp_path)
    reg = store.registration_for({"mbox": "mailto:a@example.com"}, "course", 1)
    store.close()
    store = open_player_store(tmp_path)
    try:
        assert store.get_registration(reg.id) == reg
    finally:
        store.close()
