"""`retouch mcp` driven by the SDK's own MCP client, over stdio and over streamable HTTP.

One server process per transport serves the whole module; each test works in its
own session (the `session` argument every tool takes), so tests stay independent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
from PIL import Image

from storage import Store
from tests.conftest import photo
from tests.mcp.client import (REPO, HttpServer, McpClient, data_url, error_text, http_connection,
                              images, server_env, stdio_connection, texts)

TOKEN = "test-token-7c1e"
# Small enough that an oversized upload is cheap to make; the photos here are far below it.
MAX_PIXELS = "2000000"

CONTRACT_TOOLS = {"edit_image", "apply_operation", "list_operations", "history", "get_image",
                  "undo", "revert", "branch", "checkout"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("mcp")


@pytest.fixture(scope="module")
def coffee(workdir):
    path = workdir / "coffee.png"
    photo("coffee").save(path)
    return path


@pytest.fixture(scope="module")
def http_server(workdir):
    data_dir = workdir / "http-data"
    server = HttpServer(data_dir, workdir / "http-server.log",
                        RETOUCH_MCP_TOKEN=TOKEN, RETOUCH_MAX_PIXELS=MAX_PIXELS)
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["stdio", "http"])
def client(request, workdir):
    """A connected client per transport (`.data_dir`: its server's data); one server per module."""
    if request.param == "stdio":
        data_dir = workdir / "stdio-data"
        connect = stdio_connection(data_dir, workdir / "stdio-server.log",
                                   RETOUCH_MAX_PIXELS=MAX_PIXELS)
    else:
        server = request.getfixturevalue("http_server")
        data_dir, connect = server.data_dir, http_connection(server.url, TOKEN)
    with McpClient(connect, request.param) as mcp_client:
        mcp_client.data_dir = data_dir
        yield mcp_client


def stored(client, session: str):
    store = Store(client.data_dir)
    return store, store.session(session)


def test_lists_the_tools_with_schemas_from_the_agents_models(client):
    tools = {tool.name: tool for tool in client.list_tools()}
    assert CONTRACT_TOOLS <= set(tools)
    edit = tools["edit_image"]
    assert edit.inputSchema["required"] == ["instruction"]
    assert {"image", "references", "mask", "session"} <= set(edit.inputSchema["properties"])
    assert "status" in edit.outputSchema["properties"]
    # apply_operation's args are the registry's own argument models, one per operation.
    choices = tools["apply_operation"].inputSchema["properties"]["args"]["anyOf"]
    by_title = {choice.get("title"): choice for choice in choices}
    assert "style" in by_title["style_transfer arguments"]["properties"]
    assert by_title["style_transfer arguments"]["additionalProperties"] is False
    # plan_edit publishes the Plan model as its output.
    assert "steps" in tools["plan_edit"].outputSchema["properties"]
    assert tools["history"].annotations.readOnlyHint is True
    assert tools["undo"].annotations.destructiveHint is False

    listed = client.call("list_operations").structuredContent["operations"]
    by_name = {operation["name"]: operation for operation in listed}
    assert "classic" in by_name["style_transfer"]["backends"]
    assert "style" in by_name["style_transfer"]["args_schema"]["properties"]


def test_two_step_edit_history_undo_and_pixels(client, coffee):
    session = f"walk-{client.name}"
    progress: list = []
    result = client.call("edit_image", {"instruction": "make it black and white, then zoom in",
                                        "image": str(coffee), "session": session},
                         progress=progress)
    assert not result.isError, texts(result)
    outcome = result.structuredContent
    assert outcome["status"] == "done"
    made = outcome["versions"]
    assert [version["tool"] for version in made] == ["style_transfer", "change_camera"]
    store, history = stored(client, session)
    root = history.log()[0]
    assert root.tool == "import" and outcome["imported"]["id"] == root.id
    assert made[0]["parent_id"] == root.id and made[1]["parent_id"] == made[0]["id"]
    assert outcome["head"]["id"] == made[1]["id"]

    # The final image comes back as PNG content with exactly the stored pixels.
    [final] = images(result)
    assert np.array_equal(final, np.asarray(history.image(made[1]["id"])))
    assert np.abs(final[..., 0].astype(int) - final[..., 1]).max() <= 2  # still black and white
    # Progress went forward step by step and ended with both steps done.
    values = [value for value, _total, _message in progress]
    assert values == sorted(values) and values[-1] == 2
    assert all(total == 2 for _value, total, _message in progress)

    # history is exactly what `retouch log --json` prints.
    listed = client.call("history", {"session": session})
    cli = subprocess.run([sys.executable, "-m", "agent.cli", "log", "--json", "--session", session,
                          "--data-dir", str(client.data_dir)], capture_output=True, text=True,
                         cwd=REPO, env=server_env(client.data_dir), check=True)
    assert json.loads(texts(listed)[0]) == json.loads(cli.stdout)
    assert [version["id"] for version in json.loads(texts(listed)[0])] == \
        [root.id, made[0]["id"], made[1]["id"]]

    sessions = json.loads(texts(client.call("list_sessions"))[0])
    assert {"name": session, "versions": 3, "current_branch": "main"}.items() <= \
        next(info for info in sessions if info["name"] == session).items()

    undone = client.call("undo", {"session": session})
    assert not undone.isError, texts(undone)
    assert undone.structuredContent["version"]["id"] == made[0]["id"]
    assert history.head().id == made[0]["id"]

    fetched = client.call("get_image", {"session": session})  # the head, after undo
    [pixels] = images(fetched)
    assert np.array_equal(pixels, np.asarray(history.image(made[0]["id"])))
    small = client.call("get_image", {"session": session, "version": root.id, "max_side": 100})
    [thumbnail] = images(small)
    assert max(thumbnail.shape[:2]) == 100 and "downscaled" in texts(small)[0]
    saved = client.data_dir.parent / f"saved-{client.name}.png"
    assert not client.call("save_image", {"session": session, "path": str(saved),
                                          "version": made[1]["id"]}).isError
    assert np.array_equal(np.asarray(Image.open(saved)), np.asarray(history.image(made[1]["id"])))
    store.close()


def test_masks_and_references_reach_the_operations(client, coffee, workdir):
    session = f"attach-{client.name}"
    mask = Image.new("L", (600, 400), 0)
    mask.paste(255, (250, 150, 350, 250))  # a 100x100 square in the middle
    mask_path = workdir / f"mask-{client.name}.png"
    mask.save(mask_path)
    removed = client.call("edit_image", {"instruction": "remove the cup", "image": str(coffee),
                                         "mask": str(mask_path), "session": session})
    assert not removed.isError, texts(removed)
    assert [v["tool"] for v in removed.structuredContent["versions"]] == ["remove_object"]
    [result] = images(removed)
    original = np.asarray(photo("coffee"))
    changed = np.any(result != original, axis=2)
    assert changed[150:250, 250:350].mean() > 0.5          # the masked square was repainted
    assert not changed[:120].any() and not changed[280:].any()  # far outside it: untouched

    reference = workdir / "astronaut.png"
    photo("astronaut").save(reference)
    recoloured = client.call("apply_operation", {
        "tool": "style_transfer", "args": {"style": "the colours of reference 1"},
        "references": [data_url(reference)], "session": session})
    assert not recoloured.isError, texts(recoloured)
    [version] = recoloured.structuredContent["versions"]
    assert version["args"]["reference"] == "reference 1"
    assert len(version["args"]["assets"]["reference_assets"]) == 1


def test_plan_edit_runs_nothing_and_status_explains(client, coffee):
    session = f"plan-{client.name}"
    assert not client.call("edit_image", {"instruction": "make it sepia", "image": str(coffee),
                                          "session": session}).isError
    _store, history = stored(client, session)
    before = history.head().id
    planned = client.call("plan_edit", {"instruction": "make it black and white, then zoom in",
                                        "session": session})
    assert not planned.isError, texts(planned)
    assert [step["tool"] for step in planned.structuredContent["steps"]] == \
        ["style_transfer", "change_camera"]
    assert history.head().id == before and len(history.log()) == 2
    status = client.call("status", {"session": session})
    assert not status.isError and "classic" in texts(status)[0]
    # A request the agent cannot place safely is a question, not an error, and runs nothing.
    question = client.call("edit_image", {"instruction": "remove it", "session": session})
    assert not question.isError, texts(question)
    assert question.structuredContent["status"] == "clarify"
    assert question.structuredContent["versions"] == [] and not images(question)
    assert history.head().id == before and len(history.log()) == 2


def test_concurrent_edits_of_one_session_take_turns(client, coffee):
    session = f"race-{client.name}"
    first = client.call("edit_image", {"instruction": "make it sepia", "image": str(coffee),
                                       "session": session})
    start = first.structuredContent["head"]["id"]
    requests = [{"tool": "change_camera", "args": {"description": "mirror"}, "session": session},
                {"tool": "style_transfer", "args": {"style": "pencil sketch"}, "session": session}]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda args: client.call("apply_operation", args), requests))
    assert not any(result.isError for result in results), [texts(r) for r in results]
    made = sorted(result.structuredContent["versions"][0]["id"] for result in results)
    _store, history = stored(client, session)
    # Both committed, one after the other: a chain, not a conflict.
    assert [v.parent_id for v in history.ancestry(made[1])][-2:] == [start, made[0]]
    assert history.head().id == made[1]


def test_apply_operation_on_an_older_version_and_branches(client, coffee):
    session = f"apply-{client.name}"
    first = client.call("edit_image", {"instruction": "make it sepia", "image": data_url(coffee),
                                       "session": session})
    assert not first.isError, texts(first)
    root_id = first.structuredContent["versions"][0]["parent_id"]

    branched = client.call("branch", {"name": "mirror", "from_version": root_id,
                                      "session": session})
    assert branched.structuredContent["version"]["id"] == root_id
    applied = client.call("apply_operation", {"tool": "change_camera",
                                              "args": {"description": "mirror"},
                                              "session": session})
    assert not applied.isError, texts(applied)
    [version] = applied.structuredContent["versions"]
    assert version["parent_id"] == root_id and version["branches"] == ["mirror"]
    original = np.asarray(photo("coffee"))
    assert np.array_equal(images(applied)[0], original[:, ::-1])

    back = client.call("checkout", {"branch": "main", "session": session})
    assert back.structuredContent["version"]["id"] == first.structuredContent["head"]["id"]
    # apply on an explicit older version: the result is its child and the new head.
    again = client.call("apply_operation", {"tool": "style_transfer", "args": {"style": "sepia"},
                                            "version": root_id, "session": session})
    assert not again.isError, texts(again)
    assert again.structuredContent["versions"][0]["parent_id"] == root_id
    assert again.structuredContent["head"]["branches"] == ["main"]


def test_bad_requests_get_clear_tool_errors_and_the_server_keeps_serving(client, coffee, workdir):
    session = f"bad-{client.name}"
    assert not client.call("edit_image", {"instruction": "make it sepia", "image": str(coffee),
                                          "session": session}).isError
    _store, history = stored(client, session)
    before = [version.id for version in history.log()]

    unknown = client.call("apply_operation", {"tool": "frobnicate", "session": session})
    assert "unknown operation 'frobnicate'" in error_text(unknown)
    bad_args = client.call("apply_operation", {"tool": "style_transfer", "session": session,
                                               "args": {"style": "sepia", "colour": "red"}})
    assert "bad arguments for style_transfer" in error_text(bad_args)
    missing = client.call("edit_image", {"instruction": "make it sepia", "session": session,
                                         "image": str(workdir / "no-such.png")})
    assert "does not exist" in error_text(missing)
    not_image = workdir / "notes.png"
    not_image.write_text("this is not a picture")
    unreadable = client.call("edit_image", {"instruction": "make it sepia", "session": session,
                                            "image": str(not_image)})
    assert "not an image retouch can read" in error_text(unreadable)
    garbled = client.call("edit_image", {"instruction": "make it sepia", "session": session,
                                         "image": "data:image/png;base64,@@@"})
    assert "not valid base64" in error_text(garbled)
    huge = workdir / "huge.png"
    photo("coffee").resize((1600, 1600)).save(huge)
    oversized = client.call("edit_image", {"instruction": "make it sepia", "session": session,
                                           "image": data_url(huge)})
    assert "over the limit" in error_text(oversized)
    absent = client.call("get_image", {"version": 9999, "session": session})
    assert "version 9999 is not in session" in error_text(absent)
    wrong_revert = client.call("revert", {"version": "yesterday", "session": session})
    assert "not a version id" in error_text(wrong_revert)
    relative = client.call("save_image", {"path": "out.png", "session": session})
    assert "needs an absolute path" in error_text(relative)
    missing_argument = client.call("edit_image", {"session": session})
    assert "bad arguments for edit_image: instruction: Field required" in \
        error_text(missing_argument)

    # An operation that fails on an older version leaves the head where it was.
    head = history.head().id
    failed = client.call("apply_operation", {"tool": "remove_object", "args": {"target": "cup"},
                                             "version": before[0], "session": session})
    assert "mask" in error_text(failed)
    assert failed.structuredContent["status"] == "failed" and history.head().id == head

    assert [version.id for version in history.log()] == before  # nothing was recorded
    fine = client.call("get_image", {"session": session})
    assert not fine.isError and images(fine)


# ----- HTTP only ---------------------------------------------------------------------------


def test_http_rejects_a_missing_or_wrong_token(http_server):
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = httpx.post(http_server.url, json=request, headers={**headers, **auth}, timeout=30)
        assert answer.status_code == 401
        assert "bearer token" in answer.json()["message"]
    with pytest.raises(ConnectionError):
        with McpClient(http_connection(http_server.url, "wrong"), "http"):
            pass


def test_http_off_loopback_needs_a_token(run_cli):
    refused = run_cli("mcp", "--http", "--host", "0.0.0.0", "--port", "0", check=False,
                      env={"RETOUCH_MCP_TOKEN": ""}, timeout=60)
    assert refused.returncode == 1
    assert "set RETOUCH_MCP_TOKEN" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
