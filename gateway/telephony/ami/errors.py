"""Errors an AMI action can fail with."""

from __future__ import annotations

from typing import Any


class AmiError(Exception):
    """Base class for AMI failures."""


class AmiActionError(AmiError):
    """``Response: Error`` (or a failed login); ``message`` is Asterisk's ``Message:``."""

    def __init__(self, action: str, message: str, response: Any = None):
        super().__init__(f"{action}: {message}")
        self.action = action
        self.message = message
        self.response = response


class AmiDisconnected(AmiError):
    """The manager connection is down (or went down before the reply)."""


class AmiTimeout(AmiError):
    """No reply within the action timeout."""


class AmiProtocolError(AmiError):
    """Bytes Asterisk would never send (oversized message, missing banner); the link is dropped."""
