"""A real MCP client (the SDK's ClientSession) that synchronous tests can share.

The session lives on an event loop in a background thread for as long as the test
module needs it, so one server process serves every test of a module; tests call
`client.call("tool", {...})` and get the SDK's CallToolResult back.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import subprocess
import sys
import threading
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Callable

import httpx
import numpy as np
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, ImageContent, TextContent
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "RETOUCH_MCP_TOKEN"}
    # The repository first, then whatever path the caller had.
    path = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, "RETOUCH_DATA_DIR": str(data_dir), "PYTHONPATH": path, **extra}


class McpClient:
    """Connect with `connect()` (an async context manager yielding the transport's streams)."""

    def __init__(self, connect: Callable[[], AbstractAsyncContextManager], name: str):
        self.connect = connect
        self.name = name
        self.loop = asyncio.new_event_loop()
        self.session: ClientSession | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._closing = asyncio.Event()
        try:
            async with self.connect() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self.session = session
                self._ready.set()
                await self._closing.wait()
        except BaseException as exc:  # reported to the test that opened the client
            self._error = exc
        finally:
            self._ready.set()

    def __enter__(self) -> "McpClient":
        self._thread.start()
        self._ready.wait(120)
        if self.session is None:
            raise ConnectionError(f"MCP client could not connect: {self._error!r}")
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.loop.call_soon_threadsafe(self._closing.set)
        except RuntimeError:  # the connection ended by itself and its loop is closed
            pass
        self._thread.join(30)

    def _run(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def list_tools(self):
        return self._run(self.session.list_tools(), 60).tools

    def call(self, tool: str, arguments: dict | None = None, progress: list | None = None,
             timeout: float = 300) -> CallToolResult:
        async def record(value, total, message):
            progress.append((value, total, message))

        return self._run(self.session.call_tool(
            tool, arguments or {}, progress_callback=record if progress is not None else None),
            timeout)


def stdio_connection(data_dir: Path, log: Path, **env: str):
    params = StdioServerParameters(command=sys.executable, cwd=str(REPO),
                                   args=["-m", "agent.cli", "mcp", "--data-dir", str(data_dir)],
                                   env=server_env(data_dir, **env))

    def connect():
        return stdio_client(params, errlog=log.open("a"))

    return connect


def http_connection(url: str, token: str | None):
    def connect():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return streamable_http_client(url, http_client=httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(60, read=300)))

    return connect


class HttpServer:
    """`retouch mcp --http --port 0` in a child process; `url` once it says it is listening."""

    def __init__(self, data_dir: Path, log: Path, *extra_args: str, **env: str):
        self.data_dir = data_dir
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "mcp", "--http", "--port", "0",
             "--data-dir", str(data_dir), *extra_args],
            cwd=REPO, env=server_env(data_dir, **env), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log.open("w"))
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if "listening on " in line:
                    return line.split("listening on ", 1)[1].split()[0]
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the MCP HTTP server did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


# ----- reading results ----------------------------------------------------------------------


def texts(result: CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, TextContent)]


def error_text(result: CallToolResult) -> str:
    assert result.isError, f"expected a tool error, got {texts(result)}"
    return " ".join(texts(result))


def images(result: CallToolResult) -> list[np.ndarray]:
    decoded = []
    for block in result.content:
        if isinstance(block, ImageContent):
            assert block.mimeType == "image/png"
            decoded.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(block.data)))))
    return decoded


def data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
