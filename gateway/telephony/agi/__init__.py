"""FastAGI on Twisted: reply parsing, environment block, sessions and a script-name router."""

from gateway.telephony.agi.errors import (
    AgiDeadChannel,
    AgiError,
    AgiHangup,
    AgiInvalidCommand,
    AgiProtocolError,
    AgiTimeout,
    AgiUsageError,
)
from gateway.telephony.agi.reply import AgiReply, ReplyParser
from gateway.telephony.agi.server import FastAGIFactory, HandlerRegistry
from gateway.telephony.agi.session import AgiSession

__all__ = [
    "AgiDeadChannel", "AgiError", "AgiHangup", "AgiInvalidCommand", "AgiProtocolError", "AgiReply",
    "AgiSession", "AgiTimeout", "AgiUsageError", "FastAGIFactory", "HandlerRegistry", "ReplyParser",
]
