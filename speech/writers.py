"""Transcript writers: JSON (words, times, speaker, confidence) and WebVTT for players."""

from __future__ import annotations

import json
import os
from pathlib import Path

from speech.transcript import Transcript


def to_json(transcript: Transcript) -> str:
    """The transcript as one UTF-8 JSON document (see :meth:`Transcript.to_dict`)."""
    return json.dumps(transcript.to_dict(), ensure_ascii=False, indent=1)


def _ts(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(transcript: Transcript, max_gap: float = 1.0, max_length: float = 7.0) -> str:
    """WebVTT: one cue per segment, the speaker as a ``<v speaker>`` voice span."""
    lines = ["WEBVTT", ""]
    for i, seg in enumerate(transcript.segments(max_gap, max_length), 1):
        # Segments follow the words' start order, so cue start times never decrease (WebVTT requires
        # it); cues of two speakers talking at once may overlap, which players show together.
        start, end = seg.start, max(seg.end, seg.start + 0.001)
        voice = f"<v {_escape(seg.speaker)}>" if seg.speaker else ""
        lines += [str(i), f"{_ts(start)} --> {_ts(end)}", voice + _escape(seg.text), ""]
    return "\n".join(lines)


def write_transcript(transcript: Transcript, stem: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.vtt``; return both paths."""
    base = Path(stem)
    base.parent.mkdir(parents=True, exist_ok=True)
    json_path, vtt_path = base.with_name(base.name + ".json"), base.with_name(base.name + ".vtt")
    json_path.write_text(to_json(transcript) + "\n", encoding="utf-8")
    vtt_path.write_text(to_webvtt(transcript), encoding="utf-8")
    return json_path, vtt_path
