"""Batch transcription on the real Korean model: structure, merge of two legs, JSON and WebVTT."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

import speech
from speech import Transcript, Word

CUE_TIME = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})$")

pytestmark = pytest.mark.slow  # real Vosk model


def parse_webvtt(text: str) -> list[dict]:
    """A strict WebVTT reader for what we write: header, then blocks of id, timing, payload."""
    assert text.startswith("WEBVTT\n"), "missing WEBVTT header"
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        if not block.strip():
            continue
        lines = block.split("\n")
        assert len(lines) >= 3, f"cue needs id, timing and text: {block!r}"
        assert "-->" not in lines[0]
        m = CUE_TIME.match(lines[1])
        assert m, f"bad cue timing line {lines[1]!r}"
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        assert end > start
        payload = "\n".join(lines[2:])
        assert payload.strip() and "-->" not in payload
        voice = re.match(r"^<v ([^>]+)>(.*)$", payload, re.S)
        assert "<" not in (voice.group(2) if voice else payload), "unescaped markup in cue text"
        cues.append({"id": lines[0], "start": start, "end": end,
                     "speaker": voice.group(1) if voice else None,
                     "text": voice.group(2) if voice else payload})
    return cues


def assert_well_formed(t: Transcript, duration: float) -> None:
    assert t.words, "no words recognised"
    assert abs(t.duration - duration) < 0.01
    starts = [w.start for w in t.words]
    assert starts == sorted(starts)
    for w in t.words:
        assert w.text.strip()
        assert 0 <= w.start <= w.end <= duration + 1e-6
        assert 0 <= w.conf <= 1


def test_transcribe_file_gives_timed_words(model: speech.Model, say: Callable[..., Path],
                                           audio_duration: Callable[[Path], float]) -> None:
    path = say("안녕하세요 불이 났어요 빨리 와 주세요", "sentence.wav")
    tr = speech.Transcriber(model, sample_rate=8000)
    t = tr.transcribe_file(path)
    assert_well_formed(t, audio_duration(path))
    assert t.text == " ".join(w.text for w in t.words)
    # The recogniser is reused: a second file starts its times from zero again.
    again = tr.transcribe_file(path, speaker="caller")
    assert_well_formed(again, audio_duration(path))
    assert {w.speaker for w in again.words} == {"caller"}
    assert again.words[0].start < 1.0


def test_other_rates_are_resampled_and_strict_mode_refuses(model: speech.Model,
                                                           say: Callable[..., Path]) -> None:
    path = say("안녕하세요 불이 났어요", "sentence16k.wav", rate=16000)
    assert speech.Transcriber(model).transcribe_file(path).words
    with pytest.raises(speech.AudioFormatError, match="16000 Hz"):
        speech.Transcriber(model, convert=False).transcribe_file(path)


def test_empty_audio_is_refused(model: speech.Model, tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(speech.AudioError, match="empty"):
        speech.Transcriber(model).transcribe_file(empty)
    with pytest.raises(speech.AudioError, match="even byte count"):
        speech.Transcriber(model).transcribe_pcm(b"\x00\x00\x00")


def test_two_legs_merge_into_one_speaker_labelled_timeline(
        model: speech.Model, call_legs: dict[str, Path], audio_duration: Callable[[Path], float],
        tmp_path: Path) -> None:
    tr = speech.Transcriber(model)
    caller = tr.transcribe_file(call_legs["caller"])
    taker = tr.transcribe_file(call_legs["taker"])
    merged = speech.merge_legs({"caller": caller, "taker": taker})
    duration = max(audio_duration(p) for p in call_legs.values())
    assert_well_formed(merged, duration)
    assert len(merged.words) == len(caller.words) + len(taker.words)
    assert {w.speaker for w in merged.words} == {"caller", "taker"}
    assert merged.speakers == ("caller", "taker")
    # The caller speaks in the first ~3 s, the call-taker only after 3.4 s of silence.
    first_taker = min(w.start for w in merged.words if w.speaker == "taker")
    assert first_taker >= 3.0
    assert merged.words[0].speaker == "caller"
    assert merged.text_of("caller") == caller.text

    json_path, vtt_path = speech.write_transcript(merged, tmp_path / "out" / "call-1")
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["text"] == merged.text and doc["speakers"] == ["caller", "taker"]
    assert speech.Transcript.from_dict(doc) == merged
    assert {"text", "start", "end", "conf", "speaker"} <= set(doc["words"][0])

    cues = parse_webvtt(vtt_path.read_text(encoding="utf-8"))
    assert [c["id"] for c in cues] == [str(i) for i in range(1, len(cues) + 1)]
    assert [c["start"] for c in cues] == sorted(c["start"] for c in cues)
    assert {c["speaker"] for c in cues} == {"caller", "taker"}
    assert " ".join(c["text"] for c in cues) == merged.text
    assert all(c["end"] <= duration + 0.001 for c in cues)


def test_merge_and_webvtt_rules_on_fixed_words() -> None:
    caller = Transcript((Word("a<b", 0.0, 0.5), Word("c&d", 0.6, 1.0), Word("later", 5.0, 5.5)), 6.0)
    taker = Transcript((Word("x", 0.6, 0.9), Word("y", 1.2, 1.4)), 4.0)
    merged = speech.merge_legs({"caller": caller, "taker": taker}, offsets={"taker": 0.5})
    assert [(w.text, w.speaker, w.start) for w in merged.words] == [
        ("a<b", "caller", 0.0), ("c&d", "caller", 0.6), ("x", "taker", 1.1), ("y", "taker", 1.7),
        ("later", "caller", 5.0)]
    assert merged.duration == 6.0
    vtt = speech.to_webvtt(merged)
    cues = parse_webvtt(vtt)
    assert [(c["speaker"], c["text"]) for c in cues] == [
        ("caller", "a&lt;b c&amp;d"), ("taker", "x y"), ("caller", "later")]
    assert cues[0]["start"] == 0.0 and cues[0]["end"] == 1.0 and cues[2]["start"] == 5.0
    assert speech.to_webvtt(Transcript()) == "WEBVTT\n"
