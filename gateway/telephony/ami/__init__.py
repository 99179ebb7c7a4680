"""Asterisk Manager Interface client on Twisted: framing, correlation, reconnect, actions."""

from gateway.telephony.ami.client import AmiClient
from gateway.telephony.ami.errors import (
    AmiActionError,
    AmiDisconnected,
    AmiError,
    AmiProtocolError,
    AmiTimeout,
)
from gateway.telephony.ami.message import AmiMessage, parse_message, serialize_action
from gateway.telephony.ami.protocol import AmiProtocol

__all__ = [
    "AmiActionError", "AmiClient", "AmiDisconnected", "AmiError", "AmiMessage", "AmiProtocol",
    "AmiProtocolError", "AmiTimeout", "parse_message", "serialize_action",
]
