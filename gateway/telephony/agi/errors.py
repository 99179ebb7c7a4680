"""Errors a FastAGI command can fail with (each names the Asterisk reply it came from)."""

from __future__ import annotations


class AgiError(Exception):
    """Base class: ``code`` is the AGI status code (0 when none applies)."""

    code = 0

    def __init__(self, message: str, command: str = ""):
        super().__init__(f"{message} (command {command!r})" if command else message)
        self.command = command


class AgiInvalidCommand(AgiError):
    """``510 Invalid or unknown command``."""

    code = 510


class AgiDeadChannel(AgiError):
    """``511 Command Not Permitted on a dead channel or intercept routine``."""

    code = 511


class AgiUsageError(AgiError):
    """``520`` (single line or the multi-line ``520-`` … ``520 End`` block); ``usage`` holds the text."""

    code = 520

    def __init__(self, message: str, command: str = "", usage: str = ""):
        super().__init__(message, command)
        self.usage = usage


class AgiProtocolError(AgiError):
    """A line Asterisk would never send; the session is closed."""


class AgiHangup(AgiError):
    """The connection closed (or the channel hung up) before the command got its reply."""


class AgiTimeout(AgiError):
    """No reply within the per-command timeout; the session is closed."""
