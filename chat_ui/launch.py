"""Start the Chainlit server for the chat: `python -m chat_ui --port 8000 --data-dir DIR`.

`retouch ui` hands over to this module. Chainlit's settings live in this package
(`chainlit.toml`, `chainlit.md`), but Chainlit also writes into its app
root (uploads under `.files/`, which it deletes when it stops, and translation
files), so each server runs in a fresh temporary root with copies of those two
files: two servers never delete each other's uploads, and neither the user's
working directory nor the repository gets Chainlit's files.
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import json
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# Read by chat_ui.app: the session to open first (else the one used last).
SESSION_ENV = "RETOUCH_UI_SESSION"
# The temporary app root this server made, removed when it stops.
APP_ROOT_ENV = "RETOUCH_UI_APP_ROOT"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="retouch ui", description="Open the retouch chat.")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--data-dir")
    parser.add_argument("--session")
    return parser.parse_args(argv)


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line before Chainlit starts, instead of a server traceback."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be opened ({exc.strerror})"
            raise SystemExit(f"retouch: error: port {port} on {host} {reason}; "
                             f"pick another with --port N") from None


# Chainlit's English texts that do not fit retouch (the planner may be no language model).
TEXT_OVERRIDES = {
    ("chat", "input", "placeholder"):
        "Say what to change, or attach a photo with the paperclip…",
    ("chat", "commands", "button"): "Commands",
    ("navigation", "header", "readme"): "Help",
    ("chat", "watermark"):
        "retouch runs on this machine. Every edit is a version: undo, revert or branch at any time.",
}


def make_app_root() -> Path:
    """A private Chainlit app root holding copies of our config, welcome page and texts."""
    root = Path(tempfile.mkdtemp(prefix="retouch-chat-"))
    (root / ".chainlit" / "translations").mkdir(parents=True)
    shutil.copy(APP_DIR / "chainlit.toml", root / ".chainlit" / "config.toml")
    shutil.copy(APP_DIR / "chainlit.md", root / "chainlit.md")
    write_english_texts(root / ".chainlit" / "translations" / "en-US.json")
    return root


def write_english_texts(target: Path) -> None:
    """Chainlit's en-US texts with ours where they differ (Chainlit copies the other languages)."""
    spec = importlib.util.find_spec("chainlit")  # finds the package without importing it
    source = Path(spec.submodule_search_locations[0]) / "translations" / "en-US.json"
    texts = json.loads(source.read_text(encoding="utf-8"))
    for path, text in TEXT_OVERRIDES.items():
        node = texts
        for key in path[:-1]:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and path[-1] in node:  # only keys this Chainlit version has
            node[path[-1]] = text
    target.write_text(json.dumps(texts, indent=2, ensure_ascii=False), encoding="utf-8")


def remove_app_root() -> None:
    """Delete this server's temporary app root (Chainlit's shutdown ends with os._exit,
    so the app calls this from its shutdown hook too)."""
    root = os.environ.get(APP_ROOT_ENV)
    if root and Path(root).name.startswith("retouch-chat-"):
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0 < args.port < 65536:
        raise SystemExit(f"retouch: error: --port must be 1-65535, not {args.port}")
    check_port_free(args.host, args.port)
    app_root = make_app_root()
    os.environ["CHAINLIT_APP_ROOT"] = str(app_root)
    os.environ[APP_ROOT_ENV] = str(app_root)
    os.environ["CHAINLIT_HOST"] = args.host
    os.environ["CHAINLIT_PORT"] = str(args.port)
    if args.data_dir:
        os.environ["RETOUCH_DATA_DIR"] = str(Path(args.data_dir).expanduser().resolve())
    if args.session:
        os.environ[SESSION_ENV] = args.session
    # Chainlit's app module is loaded by path; our packages must be importable from it.
    repo_root = str(APP_DIR.parent)
    if repo_root not in sys.path:
        sys.path.insert(0, repo_root)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [repo_root, os.environ.get("PYTHONPATH")]))

    from chainlit.cli import run_chainlit  # after the environment above: it reads it on import

    shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    print(f"retouch chat: http://{shown_host}:{args.port}  (Ctrl+C to stop)", flush=True)
    try:
        run_chainlit(str(APP_DIR / "app.py"))
    except KeyboardInterrupt:
        pass
    finally:
        remove_app_root()
    return 0


if __name__ == "__main__":
    sys.exit(main())
