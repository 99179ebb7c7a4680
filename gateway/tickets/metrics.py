"""Prometheus metrics (default registry) for tickets, queues and Redis."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

TICKETS_CREATED = Counter("linkage_tickets_created", "Tickets created (stored in Redis)", ["agency"])
TICKETS_DELIVERED = Counter("linkage_tickets_delivered", "Tickets read by an agency consumer", ["agency"])
TICKETS_PENDING = Gauge(
    "linkage_tickets_pending", "Queue entries delivered but not acked, or unread", ["agency"]
)
TICKETS_OVERDUE = Gauge("linkage_tickets_overdue", "Open tickets past a deadline (archive)")
TICKETS_SPOOLED = Gauge("linkage_tickets_spooled", "Tickets waiting in the disk spool for Redis")
SPOOL_WRITES = Counter("linkage_spool_writes", "Tickets ever written to the disk spool")
FEEDBACK_APPLIED = Counter("linkage_feedback_applied", "Feedback events applied", ["type"])
FEEDBACK_REJECTED = Counter("linkage_feedback_rejected", "Feedback rejected (impossible transition)")
DEAD_LETTERED = Counter("linkage_dead_lettered", "Entries moved to a dead-letter stream", ["stream"])
REDIS_UP = Gauge("linkage_redis_up", "1 when the last Redis operation succeeded")
