"""Linkage Gateway (联动网关): 110 ↔ 12345 ↔ agencies, beside an Asterisk PBX.

Data flows one way: call (``gateway.telephony``) → transcript (``speech``,
``gateway.transcripts``) → triage (``gateway.triage``) → ticket (``gateway.tickets``) →
agency (``gateway.agency``) → feedback (``gateway.feedback``) → archive (``gateway.archive``).
"""

__version__ = "0.1.0"
