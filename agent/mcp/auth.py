"""The HTTP server's door: a bearer token checked on every request, and what counts as loopback."""

from __future__ import annotations

import hmac
import ipaddress
import json

from agent.errors import AgentError

TOKEN_ENV = "RETOUCH_MCP_TOKEN"


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve anywhere


def check_binding(host: str, token: str | None) -> None:
    """Off loopback the server is reachable by others: refuse to start without a token."""
    if not is_loopback(host) and not token:
        raise AgentError(f"serving on {host} makes retouch reachable from other machines; "
                         f"set {TOKEN_ENV} to a secret first (clients send it as "
                         f"'Authorization: Bearer <token>')")


class BearerTokenGate:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "unauthorized",
                           "message": f"missing or wrong bearer token (see {TOKEN_ENV})"}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="retouch"'),
        ]})
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                # Constant-time comparison: the time taken says nothing about the token.
                return hmac.compare_digest(value, self.expected)
        return False
