"""Which session the chat continues, and names for new sessions."""

from __future__ import annotations

from datetime import datetime

import pytest

from chat_ui.sessions import last_session, new_session_name, remember_session
from tests.conftest import photo


def test_continues_the_remembered_session(data_dir, store):
    store.session("older").import_image(photo("coffee"))
    store.session("newer").import_image(photo("astronaut"))
    assert last_session(data_dir, store.sessions()) == "newer"   # nothing remembered: newest
    remember_session(data_dir, "older")
    assert last_session(data_dir, store.sessions()) == "older"
    remember_session(data_dir, "fresh")                            # a new session, no images yet
    assert last_session(data_dir, store.sessions()) == "fresh"


def test_no_sessions_means_default(data_dir):
    assert last_session(data_dir, []) == "default"


def test_a_broken_state_file_is_ignored(data_dir):
    (data_dir / "chat_ui.json").write_text("{not json")
    assert last_session(data_dir, []) == "default"
    remember_session(data_dir, "x")
    assert last_session(data_dir, []) == "x"


def test_new_session_names():
    now = datetime(2026, 11, 27, 21, 5)
    assert new_session_name(set(), now=now) == "chat-2026-11-27-2105"
    assert new_session_name({"chat-2026-11-27-2105"}, now=now) == "chat-2026-11-27-2105-2"
    assert new_session_name(set(), "beach") == "beach"
    with pytest.raises(ValueError, match="already exists"):
        new_session_name({"beach"}, "beach")
    with pytest.raises(ValueError, match="not a usable"):
        new_session_name(set(), "two words")
