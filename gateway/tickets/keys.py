"""Redis key names. Every key of one agency carries the hash tag ``{agency}``, so what one
operation touches (ticket doc, its queue, its event log, dead letters) shares a Cluster slot."""

from __future__ import annotations

UNROUTED = "_unrouted"  # tickets with no queue (route not_accepted): stored and archived only

QUEUE_GROUP = "agency"  # agency consumers read tickets:<agency>
FEEDBACK_GROUP = "gateway"  # gateway workers apply feedback:<agency>
ARCHIVE_GROUP = "archive"  # archivers copy events:<agency> into SQL


class Keys:
    def __init__(self, prefix: str = "linkage"):
        self.prefix = prefix

    def queue(self, agency: str) -> str:
        return f"{self.prefix}:tickets:{{{agency}}}"

    def feedback(self, agency: str) -> str:
        return f"{self.prefix}:feedback:{{{agency}}}"

    def events(self, agency: str) -> str:
        return f"{self.prefix}:events:{{{agency}}}"

    def dead(self, agency: str) -> str:
        return f"{self.prefix}:dead:{{{agency}}}"

    def doc(self, agency: str, ticket_id: str) -> str:
        return f"{self.prefix}:ticket:{{{agency}}}:{ticket_id}"

    def where(self, ticket_id: str) -> str:
        """Which agency's slot holds the ticket now (its own slot: a single-key operation)."""
        return f"{self.prefix}:where:{{{ticket_id}}}"
