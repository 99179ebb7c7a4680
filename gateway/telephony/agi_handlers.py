"""The gateway's FastAGI scripts (flat, one small function each, registered by script name).

``overflow_screening``: record the caller's description (RECORD FILE, silence stop, time cap),
then screen it. ``overflow_route [path]``: screen a file the local EAGI script already recorded.
Both leave ``LINKAGE_NEXT``, ``LINKAGE_ROUTE``, ``LINKAGE_PRIORITY``, ``LINKAGE_TRANSCRIPT`` on
the channel for the dialplan to act on.
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path
from typing import Any

from gateway.logs import log
from gateway.telephony.agi.errors import AgiError
from gateway.telephony.agi.server import HandlerRegistry
from gateway.telephony.agi.session import AgiSession
from gateway.telephony.events import CallEvents
from gateway.telephony.overflow import Screening, channel_safe

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
LOG = logging.getLogger("gateway.telephony.overflow")
# RECORD FILE failures res_agi reports as "200 result=-1 (<why>)", and what usually causes them
RECORD_FAILURES = {
    "randomerror": "the prompt or the core sound 'beep' could not be played (sounds installed?)",
    "writefile": "Asterisk cannot write the overflow recordings directory (docs/asterisk.md step 2)",
    "waitfor": "the channel failed while recording",
}


class OverflowHandlers:
    def __init__(self, screening: Screening, events: CallEvents, recordings_dir: Path, *,
                 max_record_s: int = 60, silence_s: int = 3, run_blocking: Any = None,
                 allowed_root: Path | None = None):
        self.screening = screening
        self.events = events
        self.recordings_dir = recordings_dir
        self.max_record_s = max_record_s
        self.silence_s = silence_s
        self.run_blocking = run_blocking  # None: the session's thread pool (tests may run inline)
        self.allowed_root = (allowed_root or recordings_dir).resolve()  # overflow_route reads only here

    def register(self, registry: HandlerRegistry) -> None:
        registry.register("overflow_screening", self.overflow_screening)
        registry.register("overflow_route", self.overflow_route)

    async def overflow_screening(self, s: AgiSession) -> None:
        incident = s.env.get("agi_arg_1") or s.uniqueid
        # file name from UNIQUEID only: never from caller-ID (injection). Asterisk writes the file
        # (RECORD FILE does not create directories): the directory is made at install time.
        base = self.recordings_dir / f"overflow-{_SAFE_NAME.sub('_', s.uniqueid)}"
        await s.answer()
        await s.stream_file("linkage/overflow-describe")
        reply = await s.record_file(str(base), "wav", "#", self.max_record_s * 1000, self.silence_s)
        if reply.failed and reply.data in RECORD_FAILURES and not s.hungup:
            await self._not_recorded(s, incident, reply.data or "")
            return
        await self._route(s, f"{base}.wav", incident, hung_up=reply.data == "hangup" or s.hungup)

    async def _not_recorded(self, s: AgiSession, incident: str, why: str) -> None:
        """Asterisk could not record (a real Asterisk 22 answers ``200 result=-1 (randomerror)`` at
        once when the ``beep`` sound is missing): say so plainly, and the caller goes to 110."""
        log(LOG, logging.ERROR, "overflow recording failed; caller goes to 110", incident_id=incident,
            asterisk=why, hint=RECORD_FAILURES[why])
        self.events.publish("overflowed", incident, s.uniqueid, stage="screened", next="110",
                            route=None, danger=False, reason=f"recording failed ({why})",
                            caller_hung_up=False)
        await s.set_variable("LINKAGE_ROUTE", "review")
        await s.set_variable("LINKAGE_NEXT", "110")

    async def overflow_route(self, s: AgiSession) -> None:
        path = s.env.get("agi_arg_1", "")
        incident = s.env.get("agi_arg_2") or s.uniqueid
        real = Path(path).resolve()
        if not path or not real.is_relative_to(self.allowed_root):
            await s.set_variable("LINKAGE_NEXT", "110")
            await s.set_variable("LINKAGE_ROUTE", "review")
            return
        await self._route(s, str(real), incident, hung_up=s.hungup)

    @staticmethod
    async def _quietly(s: AgiSession, application: str) -> None:
        if s.hungup:
            return
        with contextlib.suppress(AgiError):  # the channel went away; screening goes on regardless
            await s.command("EXEC", application)

    async def _route(self, s: AgiSession, path: str, incident: str, hung_up: bool) -> None:
        caller = s.env.get("agi_callerid", "")
        caller = "" if caller in ("unknown", "<unknown>") else caller
        await self._quietly(s, "StartMusicOnHold")  # never silence while the gateway thinks
        decision, triage, transcript = await self.screening.screen(
            path, incident_id=incident, caller=caller, run_blocking=self.run_blocking or s.blocking)
        await self._quietly(s, "StopMusicOnHold")
        hung_up = hung_up or s.hungup
        callback = None
        if hung_up:
            callback = await self.screening.callback_after_hangup(
                decision, triage, transcript, path=path, incident_id=incident, caller=caller)
        self.events.publish("overflowed", incident, s.uniqueid, stage="screened", next=decision.next,
                            route=triage.get("route"), danger=bool(triage.get("danger")),
                            reason=decision.reason, caller_hung_up=hung_up, callback_ticket=callback)
        if hung_up:
            return
        await s.set_variable("LINKAGE_ROUTE", str(triage.get("route") or "review"))
        await s.set_variable("LINKAGE_PRIORITY", str(decision.priority))
        await s.set_variable("LINKAGE_TRANSCRIPT", channel_safe(transcript))
        if triage.get("agency"):
            await s.set_variable("LINKAGE_AGENCY", str(triage["agency"]))
        await s.set_variable("LINKAGE_NEXT", decision.next)

