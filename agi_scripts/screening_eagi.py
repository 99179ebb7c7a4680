#!/usr/bin/env python3
"""Local EAGI screening recorder (process per call, pyst2's AGI in the main thread).

Dialplan: ``EAGI(/opt/linkage-gateway/agi_scripts/screening_eagi.py,<recordings dir>,<max s>,<silence s>)``.
Asterisk writes the caller's audio (8 kHz signed-linear 16-bit mono) to file descriptor 3. The
script plays the prompt, records until the caller is silent or the cap is reached, writes
``<dir>/overflow-<UNIQUEID>.wav`` (named from the uniqueid, never the caller-ID) and sets
``LINKAGE_SCREEN_FILE``; the dialplan then hands that file to FastAGI ``overflow_route``.
"""

from __future__ import annotations

import array
import errno
import os
import re
import select
import sys
import time
import wave

RATE = 8000
FRAME = 320  # 20 ms of slin
AUDIO_FD = 3


def frame_level(frame: bytes) -> float:
    """Mean absolute amplitude of one slin frame (0..32768)."""
    samples = array.array("h")
    samples.frombytes(frame[: len(frame) - len(frame) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return sum(abs(s) for s in samples) / max(1, len(samples))


def drain(fd: int) -> int:
    """Discard audio that queued up while the prompt played; returns the bytes dropped."""
    dropped = 0
    while select.select([fd], [], [], 0)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        dropped += len(chunk)
    return dropped


def record(fd: int, *, max_s: float, silence_s: float, threshold: float = 300.0,
           clock=time.monotonic) -> bytes:
    """Read slin audio from ``fd`` until ``silence_s`` of quiet after speech, ``max_s`` of audio,
    or end of file (hang-up). Leading silence counts towards ``max_s`` only."""
    pcm = bytearray()
    quiet = 0.0
    heard = False
    limit = int(max_s * RATE * 2)
    pending = b""
    while len(pcm) < limit:
        ready = select.select([fd], [], [], 1.0)[0]
        if not ready:
            quiet += 1.0
            if heard and quiet >= silence_s:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EINTR):
                continue
            break
        if not chunk:
            break
        pending += chunk
        while len(pending) >= FRAME:
            frame, pending = pending[:FRAME], pending[FRAME:]
            pcm += frame
            if frame_level(frame) >= threshold:
                heard, quiet = True, 0.0
            else:
                quiet += FRAME / (2 * RATE)
            if (heard and quiet >= silence_s) or len(pcm) >= limit:
                return bytes(pcm[:limit])
    return bytes(pcm[:limit])


def write_wav(path: str, pcm: bytes, rate: int = RATE) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)


def main(argv: list[str]) -> int:
    from asterisk.agi import AGI  # pyst2

    default_dir = os.environ.get("LINKAGE_RECORDINGS_DIR", "/var/spool/asterisk/linkage")
    rec_dir = argv[1] if len(argv) > 1 else default_dir
    max_s = float(argv[2]) if len(argv) > 2 else 60.0
    silence_s = float(argv[3]) if len(argv) > 3 else 3.0
    with open(os.devnull, "w") as quiet_stderr:  # pyst2 echoes the env (caller-ID) to stderr
        agi = AGI(stderr=quiet_stderr)
        uniqueid = re.sub(r"[^A-Za-z0-9._-]", "_", agi.env.get("agi_uniqueid", "unknown"))
        os.makedirs(rec_dir, exist_ok=True)
        path = os.path.join(rec_dir, f"overflow-{uniqueid}.wav")
        agi.answer()
        agi.stream_file("linkage/overflow-describe")
        drain(AUDIO_FD)
        agi.stream_file("beep")
        pcm = record(AUDIO_FD, max_s=max_s, silence_s=silence_s)
        write_wav(path, pcm)
        agi.set_variable("LINKAGE_SCREEN_FILE", path)
        agi.verbose(f"linkage screening recorded {len(pcm)} bytes", 3)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
