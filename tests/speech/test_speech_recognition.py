"""Recognition itself (phrase lists) and streaming partials/finals from 20 ms frames."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path

import pytest

import speech
from speech.audio import read_pcm
from speech.phrases import match_phrase, similarity

pytestmark = pytest.mark.slow  # real Vosk model

FRAME = 320  # 20 ms of 8 kHz 16-bit mono
# Phrases made only of words the Korean model knows; espeak-ng says the SPOKEN ones clearly
# enough for a phrase-list recogniser to tell them apart.
SPOKEN = ["상담원 연결", "안녕하세요", "불이 났어요", "가스 냄새 나요"]
DISTRACTORS = ["신고 접수", "교통사고", "메뉴 다시"]


@pytest.fixture(scope="module")
def menu(model: speech.Model) -> speech.PhraseRecognizer:
    return speech.PhraseRecognizer(model, SPOKEN + DISTRACTORS)


@pytest.mark.parametrize("phrase", SPOKEN)
def test_phrase_list_recogniser_picks_the_spoken_phrase(menu: speech.PhraseRecognizer, phrase: str,
                                                        say: Callable[..., Path]) -> None:
    path = say(phrase, f"phrase-{SPOKEN.index(phrase)}.wav")
    match = menu.recognize_file(path)
    assert match.phrase == phrase, f"heard {match.heard!r} (alternatives {match.alternatives})"
    assert match.score >= menu.min_score


def test_silence_matches_no_phrase(menu: speech.PhraseRecognizer) -> None:
    match = menu.recognize_pcm(b"\x00\x00" * 8000)
    assert match.phrase is None and match.heard == ""


def test_phrase_with_unknown_words_is_refused(model: speech.Model) -> None:
    with pytest.raises(speech.ModelError, match=r"not in the model's vocabulary.*도와주세요"):
        speech.PhraseRecognizer(model, ["안녕하세요", "도와주세요"])
    with pytest.raises(speech.ModelError, match="at least one phrase"):
        speech.PhraseRecognizer(model, [" "])


def test_phrase_matching_scores() -> None:
    assert similarity("냄새 나요", "가스 냄새 나요") > similarity("냄새 나요", "불이 났어요")
    assert match_phrase("확인 번호 확인", ["전화 번호 확인", "메뉴 다시"])[0] == "전화 번호 확인"
    assert match_phrase("", ["전화 번호 확인"]) == (None, 0.0)


def frames(pcm: bytes, size: int = FRAME) -> list[bytes]:
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


def test_streaming_partials_before_end_of_speech_then_final(model: speech.Model, say: Callable[..., Path],
                                                            audio_duration: Callable[[Path], float]) -> None:
    # 0.2 s lead-in, speech, then 2 s of silence for the endpointer.
    path = say("안녕하세요 불이 났어요 빨리 와 주세요", "stream.wav", pad=(0.2, 2.0))
    speech_end = audio_duration(path) - 2.0
    rec = speech.StreamingRecognizer(model, 8000, end_silence_ms=None)  # Vosk's endpointer alone
    events: list[speech.Event] = []
    for frame in frames(read_pcm(path)):
        events += rec.feed(frame)
    events += rec.finish()
    partials = [e for e in events if e.type == "partial"]
    finals = [e for e in events if e.type == "final"]
    assert partials and partials[0].at < speech_end, "no partial result while the caller was speaking"
    assert len({p.text for p in partials}) == len(partials), "a partial repeated unchanged"
    assert finals and finals[0].end_of_speech, "end of speech not detected in 2 s of silence"
    assert speech_end < finals[0].at <= speech_end + 2.0
    words = [w for f in finals for w in f.words]
    assert words and all(0 <= w.start <= w.end <= speech_end + 0.3 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def test_end_silence_closes_the_utterance_early(model: speech.Model, say: Callable[..., Path],
                                                audio_duration: Callable[[Path], float]) -> None:
    path = say("안녕하세요 불이 났어요 빨리 와 주세요", "stream.wav", pad=(0.2, 2.0))
    speech_end = audio_duration(path) - 2.0
    rec = speech.StreamingRecognizer(model, 8000, end_silence_ms=300)
    finals = [e for f in frames(read_pcm(path)) for e in rec.feed(f) if e.type == "final"]
    assert finals and finals[0].end_of_speech and finals[0].words
    assert speech_end - 0.5 < finals[0].at <= speech_end + 0.3 + 0.02
    assert rec.finish() == []  # nothing left over after the utterance was closed


def test_frames_from_a_file_descriptor_feed_the_recogniser(model: speech.Model,
                                                           say: Callable[..., Path]) -> None:
    import os
    import threading

    pcm = read_pcm(say("안녕하세요 불이 났어요", "short.wav", pad=(0.2, 0.0)))
    rfd, wfd = os.pipe()

    def writer() -> None:  # Asterisk writes whatever it has; sizes rarely match our frames
        for i in range(0, len(pcm), 777):
            os.write(wfd, pcm[i:i + 777])
        os.close(wfd)

    threading.Thread(target=writer).start()
    rec = speech.StreamingRecognizer(model)
    got = []
    for frame in speech.read_frames(rfd):
        got.append(frame)
        rec.feed(frame)
    os.close(rfd)
    assert b"".join(got) == pcm
    assert all(len(f) == FRAME for f in got[:-1]) and 0 < len(got[-1]) <= FRAME
    assert rec.finish()[0].text


def test_dbfs_levels() -> None:
    import struct

    from speech.streaming import dbfs

    assert dbfs(b"\x00\x00" * 160) == float("-inf") and dbfs(b"") == float("-inf")
    full = struct.pack("<160h", *([32767, -32768] * 80))
    assert dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert dbfs(struct.pack("<160h", *([328, -328] * 80))) == pytest.approx(-40.0, abs=0.1)


def test_streaming_finish_flushes_and_odd_chunks_are_carried(model: speech.Model,
                                                             say: Callable[..., Path]) -> None:
    pcm = read_pcm(say("안녕하세요 불이 났어요", "short.wav", pad=(0.2, 0.0)))
    rec = speech.StreamingRecognizer(model)
    events = []
    for chunk in frames(pcm, 333):  # odd sizes: a byte waits for its pair
        events += rec.feed(chunk)
    assert rec.audio_seconds == pytest.approx(len(pcm) / 16000, abs=1e-9)
    final = rec.finish()
    assert len(final) == 1 and final[0].type == "final" and not final[0].end_of_speech
    assert final[0].text and final[0].to_dict()["words"]


def test_pool_lends_warm_recognisers_and_resets_them(model: speech.Model, say: Callable[..., Path]) -> None:
    pcm = read_pcm(say("상담원 연결", "phrase-0.wav"))
    pool = speech.RecognizerPool(model, size=1, phrases=SPOKEN + DISTRACTORS)
    assert pool.available == 1
    for _ in range(2):  # the same recogniser twice: the second call starts clean, times from zero
        with pool.recognizer(timeout=1) as rec:
            assert pool.available == 0 and rec.audio_seconds == 0
            with pytest.raises(queue.Empty):
                pool.acquire(timeout=0.01)
            events = [e for f in frames(pcm) for e in rec.feed(f)] + rec.finish()
            final = [e for e in events if e.type == "final"]
            assert match_phrase(final[-1].text, SPOKEN + DISTRACTORS)[0] == "상담원 연결"
            assert all(w.start < len(pcm) / 16000 for e in final for w in e.words)
    assert pool.available == 1
    with pytest.raises(ValueError):
        speech.RecognizerPool(model, size=0)
