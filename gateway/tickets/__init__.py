"""Tickets: the versioned schema, deadlines, the state machine and the Redis Streams service."""

from gateway.tickets.model import SCHEMA_VERSION, Ticket
from gateway.tickets.service import BadEvent, FeedbackEvent, TicketError, TicketService, UnknownAgency
from gateway.tickets.states import InvalidTransition

__all__ = [
    "SCHEMA_VERSION",
    "BadEvent",
    "FeedbackEvent",
    "InvalidTransition",
    "Ticket",
    "TicketError",
    "TicketService",
    "UnknownAgency",
]
