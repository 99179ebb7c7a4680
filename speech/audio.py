"""Audio input: check a recording, and bring it to the recogniser's format (16-bit mono PCM).

WAV files already at the right rate are read with the stdlib ``wave`` module; anything else
(other rates, stereo, 8-bit, µ-law, float, FLAC...) is converted by ``sox`` in a subprocess.
Headerless Asterisk signed-linear files are understood by extension: ``.sln`` is 8 kHz,
``.sln16`` 16 kHz (``.slnN`` N kHz), ``.raw`` the requested rate.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

from speech.errors import AudioError, AudioFormatError

SAMPLE_WIDTH = 2  # bytes: signed 16-bit little-endian


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, as found in its header (or implied by a raw file's extension)."""

    rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    def describe(self) -> str:
        return f"{self.rate} Hz, {self.channels} channel(s), {8 * self.sample_width}-bit"


def _raw_rate(path: Path, default: int) -> int | None:
    suffix = path.suffix.lower()
    if suffix == ".raw":
        return default
    m = re.fullmatch(r"\.sln(\d*)", suffix)
    if not m:
        return None
    return int(m.group(1)) * 1000 if m.group(1) else 8000


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise AudioError(f"audio file not found: {path}")
    if path.is_dir():
        raise AudioError(f"{path} is a directory, not an audio file")
    if not os.access(path, os.R_OK):
        raise AudioError(f"cannot read audio file {path}: permission denied")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path} is empty (0 bytes)")


def probe(path: str | os.PathLike[str], sample_rate: int = 8000) -> AudioInfo:
    """Read the format of ``path``; :class:`AudioFormatError` if it is not 16-bit PCM WAV or raw sln."""
    p = Path(path)
    _check_readable(p)
    raw = _raw_rate(p, sample_rate)
    if raw is not None:
        size = p.stat().st_size
        if size % SAMPLE_WIDTH:
            raise AudioFormatError(f"{p}: raw signed-linear audio must have an even byte count, has {size}")
        return AudioInfo(raw, 1, SAMPLE_WIDTH, size // SAMPLE_WIDTH)
    try:
        with wave.open(str(p), "rb") as w:
            return AudioInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{p}: not a 16-bit PCM WAV file ({exc})") from exc
    except OSError as exc:
        raise AudioError(f"cannot read audio file {p}: {exc}") from exc


def _sox(path: Path, sample_rate: int, raw_rate: int | None) -> bytes:
    sox = shutil.which("sox")
    if sox is None:
        raise AudioFormatError(f"{path} needs conversion to {sample_rate} Hz mono 16-bit but sox is not "
                               "installed (apt-get install sox)")
    src = ["-t", "raw", "-r", str(raw_rate), "-c", "1", "-b", "16", "-e", "signed-integer", "-L"]
    if not raw_rate:
        src = []
    cmd = [sox, "-V1", *src, str(path), "-t", "raw", "-r", str(sample_rate), "-c", "1", "-b", "16",
           "-e", "signed-integer", "-L", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        last = reason[-1] if reason else "sox failed"
        raise AudioFormatError(f"{path}: not audio that sox can read ({last})")
    return proc.stdout


def read_pcm(path: str | os.PathLike[str], sample_rate: int = 8000, *, convert: bool = True) -> bytes:
    """Signed 16-bit little-endian mono PCM at ``sample_rate`` from ``path``.

    With ``convert=False`` a file in any other format is an :class:`AudioFormatError` naming what
    it holds and what is expected (the recogniser would otherwise decode it silently wrong).
    """
    p = Path(path)
    _check_readable(p)
    raw = _raw_rate(p, sample_rate)
    try:
        info = probe(p, sample_rate)
    except AudioFormatError:
        if not convert or raw is not None:
            raise
        data = _sox(p, sample_rate, None)
    else:
        if info.frames == 0:
            raise AudioError(f"audio file {p} holds no samples ({info.describe()})")
        if (info.rate, info.channels, info.sample_width) == (sample_rate, 1, SAMPLE_WIDTH):
            if raw is not None:
                return p.read_bytes()
            with wave.open(str(p), "rb") as w:
                return w.readframes(w.getnframes())
        if not convert:
            raise AudioFormatError(
                f"{p}: {info.describe()}; expected {sample_rate} Hz, mono, 16-bit signed PCM "
                f"(convert with: sox {p.name} -r {sample_rate} -c 1 -b 16 -e signed-integer out.wav)")
        data = _sox(p, sample_rate, raw)
    if not data:
        raise AudioError(f"audio file {p} holds no samples")
    return data


def pcm_duration(data: bytes, sample_rate: int) -> float:
    """Seconds of 16-bit mono audio in ``data``."""
    return len(data) / (SAMPLE_WIDTH * sample_rate)
