"""Transcript data: words with times, confidence and speaker; JSON round trip; cue segments."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Word:
    """One recognised word; ``start``/``end`` in seconds from the start of the recording."""

    text: str
    start: float
    end: float
    conf: float = 1.0
    speaker: str | None = None

    @classmethod
    def from_vosk(cls, item: dict[str, Any], speaker: str | None = None, offset: float = 0.0) -> Word:
        return cls(str(item["word"]), round(float(item["start"]) + offset, 3),
                   round(float(item["end"]) + offset, 3), round(float(item.get("conf", 1.0)), 4), speaker)


@dataclass(frozen=True)
class Segment:
    """Consecutive words of one speaker without a long pause: one subtitle cue."""

    speaker: str | None
    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True)
class Transcript:
    """Words in time order; ``duration`` is the length of the audio they come from."""

    words: tuple[Word, ...] = ()
    duration: float = 0.0
    speakers: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def text_of(self, speaker: str) -> str:
        """Only the words of ``speaker`` (e.g. the caller's words for triage)."""
        return " ".join(w.text for w in self.words if w.speaker == speaker)

    def with_speaker(self, speaker: str, offset: float = 0.0) -> Transcript:
        words = tuple(replace(w, speaker=speaker, start=round(w.start + offset, 3),
                              end=round(w.end + offset, 3)) for w in self.words)
        return Transcript(words, round(self.duration + offset, 3), (speaker,))

    def segments(self, max_gap: float = 1.0, max_length: float = 7.0) -> list[Segment]:
        """Cues: a new one at a speaker change, a pause over ``max_gap`` s, or past ``max_length`` s."""
        out: list[Segment] = []
        current: list[Word] = []
        for w in self.words:
            if current and (w.speaker != current[0].speaker or w.start - current[-1].end > max_gap
                            or w.end - current[0].start > max_length):
                out.append(Segment(current[0].speaker, current[0].start, current[-1].end, tuple(current)))
                current = []
            current.append(w)
        if current:
            out.append(Segment(current[0].speaker, current[0].start, current[-1].end, tuple(current)))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``text``, ``duration``, ``speakers``, ``words``, ``segments``."""
        return {
            "version": FORMAT_VERSION,
            "text": self.text,
            "duration": round(self.duration, 3),
            "speakers": list(self.speakers),
            "words": [asdict(w) for w in self.words],
            "segments": [{"speaker": s.speaker, "start": s.start, "end": s.end, "text": s.text}
                         for s in self.segments()],
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Transcript:
        words = tuple(Word(str(w["text"]), float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)),
                           w.get("speaker")) for w in doc.get("words", []))
        return cls(words, float(doc.get("duration", 0.0)), tuple(doc.get("speakers", ())))
