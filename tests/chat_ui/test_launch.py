"""Starting the chat: a busy port is one clear line; each server gets its own app root."""

from __future__ import annotations

import json
import socket

from chat_ui.launch import APP_ROOT_ENV, make_app_root, remove_app_root


def test_busy_port_is_a_one_line_error(run_cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("ui", "--port", str(port), check=False, timeout=60)
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_ui_command_is_listed_with_its_options(run_cli):
    result = run_cli("ui", "--help")
    for option in ("--host", "--port", "--session", "--data-dir"):
        assert option in result.stdout


def test_each_server_gets_its_own_app_root(monkeypatch):
    first, second = make_app_root(), make_app_root()
    try:
        assert first != second
        assert (first / ".chainlit" / "config.toml").read_text().startswith("# Chainlit settings")
        texts = json.loads((first / ".chainlit" / "translations" / "en-US.json").read_text())
        assert texts["chat"]["watermark"].startswith("retouch runs on this machine")
        monkeypatch.setenv(APP_ROOT_ENV, str(first))
        remove_app_root()
        assert not first.exists() and second.exists()
    finally:
        for root in (first, second):
            if root.exists():
                monkeypatch.setenv(APP_ROOT_ENV, str(root))
                remove_app_root()
