"""The ticket state machine: created → delivered → accepted → arrived → handled → closed.

A return (退单) sends the ticket back to ``created`` at another agency (re-routed, never dropped).
Extensions and ratings do not change the status. Anything else is an :class:`InvalidTransition`.
"""

from __future__ import annotations

OPEN = ("created", "delivered", "accepted", "arrived")

#: event type → (statuses it may follow, status after; None keeps the status)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "delivered": (("created",), "delivered"),
    "accepted": (("created", "delivered"), "accepted"),
    "arrived": (("accepted",), "arrived"),
    "handled": (("accepted", "arrived"), "handled"),
    "returned": (("created", "delivered", "accepted"), "returned"),
    "rerouted": (("returned",), "created"),
    "extension_requested": (("delivered", "accepted", "arrived"), None),
    "extension_granted": (("delivered", "accepted", "arrived"), None),
    "closed": (("handled",), "closed"),
    "rated": (("handled", "closed"), None),
}
FEEDBACK_TYPES = tuple(t for t in TRANSITIONS if t != "rerouted")


class InvalidTransition(ValueError):
    """An event that cannot happen in the ticket's current status."""

    def __init__(self, ticket_id: str, status: str, event_type: str, reason: str | None = None):
        self.ticket_id, self.status, self.event_type = ticket_id, status, event_type
        if reason is None:
            allowed = TRANSITIONS.get(event_type)
            reason = (
                f"allowed only from {', '.join(allowed[0])}"
                if allowed
                else f"unknown event type; known: {', '.join(TRANSITIONS)}"
            )
        self.reason = reason
        super().__init__(f"ticket {ticket_id}: cannot apply '{event_type}' in status '{status}': {reason}")


class EarlyEvent(InvalidTransition):
    """An update that may become valid once its predecessor arrives (out-of-order delivery)."""


ORDER = ("created", "delivered", "accepted", "arrived", "handled", "closed")


def is_early(status: str, event_type: str) -> bool:
    """True when every status ``event_type`` may follow comes after ``status`` in the life cycle."""
    rule = TRANSITIONS.get(event_type)
    if rule is None or status not in ORDER or status in rule[0]:
        return False
    now = ORDER.index(status)
    return all(s in ORDER and ORDER.index(s) > now for s in rule[0])


def next_status(ticket_id: str, status: str, event_type: str) -> str:
    """The status after ``event_type``, or raise :class:`InvalidTransition`."""
    rule = TRANSITIONS.get(event_type)
    if rule is None or status not in rule[0]:
        raise InvalidTransition(ticket_id, status, event_type)
    return rule[1] or status
