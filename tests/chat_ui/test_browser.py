"""The chat in a real browser: `retouch ui` in a child process, driven by Playwright and
Debian's Chromium. Scenarios run in order on one data dir, as a person would use it:
a two-step request with a scribbled mask, undo, restart the server and continue, then
the history, an error, options, branch and compare buttons, "go back two steps" and
sessions. Each test opens a fresh page; screenshots land in test-artifacts/chat_ui/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import ImageDraw

from storage import Store
from tests.conftest import REPO, photo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts" / "chat_ui"
START_TIMEOUT_S = 120   # a cold start on 2 busy CPUs imports torch, diffusers, chainlit
STEP_TIMEOUT_MS = 120_000

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="Debian's chromium is missing: scripts/install_test_browser.sh")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ChatServer:
    """`retouch ui` as a child process on a free port and a given data dir."""

    def __init__(self, data_dir: Path, log_path: Path):
        self.data_dir = data_dir
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        env.pop("RETOUCH_DATA_DIR", None)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "ui", "--port", str(self.port),
             "--data-dir", str(self.data_dir)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"retouch ui exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"retouch ui did not answer within {START_TIMEOUT_S}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chat-data")


@pytest.fixture(scope="module")
def server(data_dir, tmp_path_factory):
    chat = ChatServer(data_dir, tmp_path_factory.mktemp("chat-log") / "server.log")
    chat.start()
    yield chat
    chat.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A real photo and a scribbled copy of it: the flag painted over in red."""
    folder = tmp_path_factory.mktemp("uploads")
    original = photo("astronaut")
    original.save(folder / "astronaut.png")
    scribble = original.copy()
    ImageDraw.Draw(scribble).rectangle((8, 12, 96, 150), fill=(255, 0, 0))
    scribble.save(folder / "scribble.png")
    return {"photo": folder / "astronaut.png", "scribble": folder / "scribble.png"}


def open_chat(browser, server: ChatServer):
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    # Offline by design: anything not served by the app (web fonts, CDNs) is refused at once.
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith((server.url, "data:", "blob:")) else route.abort())
    page.goto(server.url)
    page.get_by_text("Attach a photo and say what to change").first.wait_for(timeout=STEP_TIMEOUT_MS)
    return page


# How far the chat's scrolling panel is taller than the window.
HIDDEN_HEIGHT_JS = """() => Math.max(0, ...[...document.querySelectorAll('*')].map(el => {
    const style = getComputedStyle(el).overflowY;
    return (style === 'auto' || style === 'scroll') ? el.scrollHeight - el.clientHeight : 0;
}))"""

SCROLL_TO_TOP_JS = """() => document.querySelectorAll('*').forEach(el => {
    if (el.scrollTop > 0) el.scrollTop = 0;
})"""


def shot(page, name: str) -> None:
    """The whole conversation in one picture: the window grows to fit, then shrinks back."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    hidden = page.evaluate(HIDDEN_HEIGHT_JS)
    page.set_viewport_size({"width": size["width"], "height": min(size["height"] + hidden, 8000)})
    page.evaluate(SCROLL_TO_TOP_JS)
    page.wait_for_timeout(400)  # let lazy images load and paint
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size(size)


def send(page, text: str, attachments: list[Path] = ()) -> None:
    if attachments:
        page.locator("input[type=file]").first.set_input_files([str(path) for path in attachments])
        # The composer shows a preview per file once it is uploaded.
        for path in attachments:
            page.locator(f"img[alt='{path.name}']").first.wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator("#chat-input").fill(text)
    page.locator("#chat-submit").click()


def history(data_dir: Path, session: str = "default"):
    store = Store(data_dir)
    try:
        session_history = store.session(session)
        return session_history.log(), session_history.head()
    finally:
        store.close()


def expect_image(locator, attempts: int = 5) -> None:
    """The image is in the page, scrolled to (images load lazily) and really decoded.

    The chat re-renders a message as its images arrive, so a node may be replaced
    between two actions; the check then starts again on the new node.
    """
    playwright_api.expect(locator).to_be_attached(timeout=STEP_TIMEOUT_MS)
    for attempt in range(attempts):
        try:
            locator.scroll_into_view_if_needed(timeout=10_000)
            locator.evaluate("img => img.decode()", timeout=10_000)
            if locator.evaluate("img => img.naturalWidth", timeout=10_000) > 0:
                break
        except playwright_api.Error:
            if attempt == attempts - 1:
                raise
        locator.page.wait_for_timeout(200)
    playwright_api.expect(locator).to_be_visible()


def assistant_messages(page):
    return page.locator("[data-step-type='assistant_message']")


# ----- the scenarios ----------------------------------------------------------------------

def test_two_step_request_shows_each_step_and_the_final_image(server, browser, files, data_dir):
    page = open_chat(browser, server)
    expect = playwright_api.expect
    expect(page.get_by_text("classic", exact=False).first).to_be_visible()
    shot(page, "01-welcome")

    send(page, "remove the flag, then make it black and white", [files["photo"], files["scribble"]])
    page.get_by_text("scribble.png: scribble").wait_for(timeout=STEP_TIMEOUT_MS)
    # Two committed steps, each with its own result image, then the final message.
    steps = page.get_by_text("✓ version", exact=False)
    expect(steps).to_have_count(2, timeout=STEP_TIMEOUT_MS)
    final = assistant_messages(page).filter(has=page.locator("button", has_text="Undo")).last
    expect_image(final.locator("img[alt='v3']"))
    expect(page.locator("img[alt='v2']")).to_have_count(1)
    expect_image(final.locator("img[alt='v1 vs v3']"))
    expect(page.get_by_text("Region from scribble.png", exact=False).first).to_be_visible()
    shot(page, "02-two-steps")

    versions, head = history(data_dir)
    assert [v.tool for v in versions] == ["import", "remove_object", "style_transfer"]
    assert head.id == 3
    page.close()


def test_undo_button_makes_the_previous_image_head(server, browser, data_dir):
    page = open_chat(browser, server)
    expect = playwright_api.expect
    # The reopened chat shows the current image with its buttons; undo from there.
    page.get_by_text("Current image: version 3").wait_for(timeout=STEP_TIMEOUT_MS)
    assistant_messages(page).filter(has_text="Current image: version 3").get_by_role(
        "button", name="Undo").click()
    undone = assistant_messages(page).filter(has_text="Undone")
    expect(undone).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    expect(undone.get_by_text("back at version 2")).to_be_visible()
    expect_image(undone.locator("img[alt='v2']"))
    shot(page, "03-undo")

    versions, head = history(data_dir)
    assert head.id == 2 and len(versions) == 3   # undo moves the head; version 3 stays
    page.close()


def test_restart_continues_the_session(server, browser, data_dir):
    server.stop()
    server.start()
    page = open_chat(browser, server)
    expect = playwright_api.expect
    welcome = assistant_messages(page).filter(has_text="Continuing session")
    expect(welcome).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    expect(welcome.get_by_text("3 version(s)")).to_be_visible()
    expect(welcome.get_by_text("at version 2")).to_be_visible()
    # The conversation is back: the earlier request and the agent's reply.
    expect(page.locator("[data-step-type='user_message']").filter(
        has_text="remove the flag, then make it black and white")).to_have_count(1)
    expect(assistant_messages(page).filter(has_text="Done, step by step")).to_have_count(1)
    expect_image(welcome.locator("img[alt='version tree']"))
    expect_image(page.locator("img[alt='v2']").first)
    shot(page, "04-after-restart")

    # The next request continues from the head the undo left.
    send(page, "make it black and white")
    expect(page.get_by_text("✓ version 4")).to_be_visible(timeout=STEP_TIMEOUT_MS)
    versions, head = history(data_dir)
    assert head.id == 4 and head.parent_id == 2
    page.close()


def test_history_command_draws_the_tree(server, browser):
    page = open_chat(browser, server)
    send(page, "/history")
    message = assistant_messages(page).filter(has_text="History of session")
    expect_image(message.locator("img[alt='version tree']"))
    playwright_api.expect(message.get_by_text("main (HEAD)")).to_be_visible()
    message.scroll_into_view_if_needed()
    shot(page, "05-history")
    page.close()


def test_what_the_backend_cannot_do_is_a_readable_message(server, browser, data_dir):
    page = open_chat(browser, server)
    send(page, "add a red balloon in the sky")
    failed_step = page.get_by_text("✗ add_object", exact=False)
    playwright_api.expect(failed_step).to_be_visible(timeout=STEP_TIMEOUT_MS)
    reply = assistant_messages(page).filter(has_text="failed").filter(has_text="diffusion")
    playwright_api.expect(reply).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    assert "Traceback" not in page.content()
    shot(page, "06-cannot")
    assert history(data_dir)[1].id == 4   # nothing was committed
    page.close()


def test_options_side_by_side_and_use_one(server, browser, data_dir):
    page = open_chat(browser, server)
    expect = playwright_api.expect
    send(page, "make it sepia, give me three options")
    options = assistant_messages(page).filter(has_text="pick one to continue from")
    expect(options).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    for number, version in enumerate((5, 6, 7), 1):
        expect_image(options.locator(f"img[alt='option {number} (v{version})']"))
    shot(page, "07-options")
    options.get_by_role("button", name="Use option 2").click()
    used = assistant_messages(page).filter(has_text="Using option 2")
    expect(used).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    expect_image(used.locator("img[alt='v6']"))
    assert history(data_dir)[1].id == 6
    page.close()


def test_branch_and_compare_buttons(server, browser, data_dir):
    page = open_chat(browser, server)
    expect = playwright_api.expect
    current = assistant_messages(page).filter(has_text="Current image: version 6")
    expect(current).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    current.get_by_role("button", name="Compare with previous").click()
    compared = assistant_messages(page).filter(has_text="Version 4 → version 6")
    expect_image(compared.locator("img[alt='v4 vs v6']"))
    current.get_by_role("button", name="Branch from here").click()
    branched = assistant_messages(page).filter(has_text="New branch")
    expect(branched).to_have_count(1, timeout=STEP_TIMEOUT_MS)
    shot(page, "08-compare-branch")
    store = Store(data_dir)
    try:
        session_history = store.session("default")
        assert session_history.current_branch != "main"
        assert session_history.branches()[session_history.current_branch] == 6
    finally:
        store.close()
    page.close()


def test_going_back_in_words_goes_through_the_agent(server, browser, data_dir):
    page = open_chat(browser, server)
    send(page, "go back two steps")
    # On the new branch at version 6 (made from 4, made from 2): two steps back is version 2.
    result = assistant_messages(page).filter(has=page.locator("button", has_text="Undo")).last
    playwright_api.expect(result.locator("img[alt='v2']")).to_be_attached(timeout=STEP_TIMEOUT_MS)
    assert history(data_dir)[1].id == 2
    page.close()


def test_new_session_and_switch_back(server, browser, data_dir):
    page = open_chat(browser, server)
    send(page, "/new beach")
    page.get_by_text("started a new session").wait_for(timeout=STEP_TIMEOUT_MS)
    send(page, "/sessions")
    table = assistant_messages(page).filter(has=page.locator("table")).last
    playwright_api.expect(table.locator("td", has_text="beach")).to_be_visible(timeout=STEP_TIMEOUT_MS)
    playwright_api.expect(table.locator("td", has_text="default")).to_be_visible()
    shot(page, "09-sessions")
    table.get_by_role("button", name="Open default").click()
    # Opened once when the page loaded, and again now: its tree and image come back.
    playwright_api.expect(assistant_messages(page).filter(has_text="Continuing session default")
                          ).to_have_count(2, timeout=STEP_TIMEOUT_MS)
    page.close()
