"""Audio checks: unreadable, empty and wrongly formatted files get clear errors; others convert."""

from __future__ import annotations

import os
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

import speech
from speech.audio import probe, read_pcm


def test_8k_mono_wav_is_read_as_is(say: Callable[..., Path], audio_duration: Callable[[Path], float]) -> None:
    path = say("안녕하세요", "hello8k.wav")
    pcm = read_pcm(path, 8000, convert=False)
    assert abs(len(pcm) / 16000 - audio_duration(path)) < 0.01
    info = probe(path)
    assert (info.rate, info.channels, info.sample_width) == (8000, 1, 2)


def test_missing_directory_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(speech.AudioError, match="audio file not found"):
        read_pcm(tmp_path / "nope.wav")
    with pytest.raises(speech.AudioError, match="is a directory"):
        read_pcm(tmp_path)
    empty = tmp_path / "empty.wav"
    empty.touch()
    with pytest.raises(speech.AudioError, match=r"is empty \(0 bytes\)"):
        read_pcm(empty)
    header_only = tmp_path / "header.wav"
    with wave.open(str(header_only), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    with pytest.raises(speech.AudioError, match="holds no samples"):
        read_pcm(header_only)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path, say: Callable[..., Path]) -> None:
    locked = tmp_path / "locked.wav"
    locked.write_bytes(say("안녕하세요", "hello8k.wav").read_bytes())
    locked.chmod(0)
    with pytest.raises(speech.AudioError, match="permission denied"):
        read_pcm(locked)


def test_not_audio_is_a_format_error(tmp_path: Path) -> None:
    junk = tmp_path / "call.wav"
    junk.write_text("this is not a recording\n" * 20)
    with pytest.raises(speech.AudioFormatError, match="not a 16-bit PCM WAV file"):
        read_pcm(junk, convert=False)
    with pytest.raises(speech.AudioFormatError, match="not audio that sox can read"):
        read_pcm(junk)


def test_wrong_rate_and_channels_refused_when_strict_converted_otherwise(
        say: Callable[..., Path], audio_duration: Callable[[Path], float]) -> None:
    cd = say("안녕하세요", "hello44k.wav", rate=44100, channels=2)
    with pytest.raises(speech.AudioFormatError) as err:
        read_pcm(cd, 8000, convert=False)
    assert "44100 Hz, 2 channel(s), 16-bit" in str(err.value) and "expected 8000 Hz, mono" in str(err.value)
    pcm = read_pcm(cd, 8000)
    assert abs(len(pcm) / 16000 - audio_duration(cd)) < 0.02


def test_8bit_and_ulaw_are_converted(say: Callable[..., Path]) -> None:
    eight = say("안녕하세요", "hello-u8.wav", bits=8, encoding="unsigned-integer")
    with pytest.raises(speech.AudioFormatError, match="8-bit"):
        read_pcm(eight, convert=False)
    ulaw = say("안녕하세요", "hello-ulaw.wav", bits=8, encoding="u-law")
    with pytest.raises(speech.AudioFormatError):
        read_pcm(ulaw, convert=False)
    assert len(read_pcm(eight)) == len(read_pcm(ulaw)) > 8000


def test_asterisk_raw_signed_linear(tmp_path: Path, say: Callable[..., Path]) -> None:
    pcm = read_pcm(say("안녕하세요", "hello8k.wav"))
    sln = tmp_path / "leg.sln"
    sln.write_bytes(pcm)
    assert read_pcm(sln, convert=False) == pcm
    sln16 = tmp_path / "leg.sln16"
    sln16.write_bytes(read_pcm(say("안녕하세요", "hello8k.wav"), 16000))
    with pytest.raises(speech.AudioFormatError, match="16000 Hz"):
        read_pcm(sln16, 8000, convert=False)
    assert abs(len(read_pcm(sln16, 8000)) - len(pcm)) <= 4
    odd = tmp_path / "odd.sln"
    odd.write_bytes(b"\x00\x01\x02")
    with pytest.raises(speech.AudioFormatError, match="even byte count"):
        read_pcm(odd)
