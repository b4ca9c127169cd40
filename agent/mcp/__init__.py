"""The MCP server: other agents' door to the same sessions and history (`retouch mcp`).

server.py     the tools (edit_image, apply_operation, history, get_image, undo, ...)
sessions.py   façade sessions per name, run off the event loop, one writer per session
outcome.py    façade events -> the result an edit returns
images.py     image arguments (path, file URL, data URL) in, capped PNG content out
auth.py       the bearer token on HTTP, and what counts as loopback
transports.py stdio and streamable HTTP

Import from the modules themselves: `retouch mcp` checks its options before loading the rest.
"""
