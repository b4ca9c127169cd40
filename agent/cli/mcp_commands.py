"""`retouch mcp`: serve the Model Context Protocol so other agents can edit images by tool calls."""

from __future__ import annotations

import argparse

from agent.cli.common import session_name, settings_from

DEFAULT_PORT = 8765  # 8000 is the chat UI's


def register(subparsers, common: argparse.ArgumentParser) -> None:
    help_text = "serve MCP tools for other agents (stdio by default, --http for streamable HTTP)"
    parser = subparsers.add_parser("mcp", parents=[common], help=help_text, description=(
        f"{help_text}. Over HTTP the server listens on loopback unless --host says otherwise; "
        "any other address needs RETOUCH_MCP_TOKEN, which clients then send as "
        "'Authorization: Bearer <token>' (when set, it is checked on loopback too)."))
    parser.add_argument("--http", action="store_true",
                        help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.set_defaults(func=cmd_mcp)


def cmd_mcp(args) -> int:
    from agent.mcp.auth import check_binding

    settings = settings_from(args)
    token = settings.mcp_token.get_secret_value() if settings.mcp_token else None
    session = session_name(args)
    if args.http:
        check_binding(args.host, token)  # before anything heavy loads
    from agent.mcp.server import build_server
    from agent.mcp.transports import serve_http, serve_stdio

    server = build_server(settings, default_session=session, host=args.host)
    if not args.http:
        serve_stdio(server)
        return 0
    note = f" (session '{session}', data in {settings.data_dir}" + \
           (", bearer token required)" if token else ")")
    serve_http(server, args.host, args.port, token, announce=note)
    return 0
