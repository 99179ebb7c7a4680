"""Put a resource behind the console's login (and its CSRF check for state changes)."""

from __future__ import annotations

from typing import Any

from twisted.web import resource


class LoginRequired(resource.Resource):
    """Renders ``inner`` only for a logged-in session whose role is in ``roles``."""

    isLeaf = True

    def __init__(self, inner: resource.Resource, app: Any, roles: set[str]):
        super().__init__()
        self.inner = inner
        self.app = app
        self.roles = roles

    def render(self, request: Any) -> Any:
        session, error = self.app.api_session(request)
        if error is not None:
            return error
        role = getattr(getattr(session, "user", None), "role", None)
        if role not in self.roles:
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"application/json; charset=utf-8")
            return b'{"error": "forbidden for this role"}'
        return self.inner.render(request)
