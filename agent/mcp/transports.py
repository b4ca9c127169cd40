"""Serving the MCP server: over stdio (the default) or streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from io import TextIOWrapper

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.stdio import stdio_server

from agent.errors import AgentError
from agent.mcp.auth import BearerTokenGate, check_binding


def serve_stdio(server: FastMCP) -> None:
    """Speak MCP on stdin/stdout until the client closes stdin.

    stdout carries the protocol, so anything else that writes there (a library's
    print, a C extension's warning) would corrupt it: the protocol gets a private
    copy of the stdout descriptor and descriptor 1 is pointed at stderr.
    """
    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    protocol_out = anyio.wrap_file(TextIOWrapper(os.fdopen(protocol_fd, "wb"), encoding="utf-8"))

    async def run() -> None:
        async with stdio_server(stdout=protocol_out) as (read_stream, write_stream):
            low_level = server._mcp_server  # FastMCP.run_stdio_async does the same, on fd 1
            await low_level.run(read_stream, write_stream,
                                low_level.create_initialization_options())

    anyio.run(run)


def serve_http(server: FastMCP, host: str, port: int, token: str | None,
               announce: str = "") -> None:
    """Serve streamable HTTP at http://HOST:PORT/mcp; with a token, every request must carry it."""
    import uvicorn

    check_binding(host, token)
    app = server.streamable_http_app()
    if token:
        app = BearerTokenGate(app, token)
    listener = _bind(host, port)
    bound_port = listener.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}{server.settings.streamable_http_path}"
    # Open event streams would hold a graceful shutdown forever; give them a few seconds.
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                                   timeout_graceful_shutdown=5))

    async def run() -> None:
        serving = asyncio.ensure_future(uvicorn_server.serve(sockets=[listener]))
        while not uvicorn_server.started and not serving.done():
            await asyncio.sleep(0.02)
        if uvicorn_server.started:
            # Tests and scripts wait for this line (with --port 0 it names the port chosen).
            print(f"retouch mcp: listening on {url}{announce}", file=sys.stderr, flush=True)
        await serving

    asyncio.run(run())


def _bind(host: str, port: int) -> socket.socket:
    """Bind before serving, so port 0 picks a free port we can name, and errors are clear."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError as exc:
        raise AgentError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listener
