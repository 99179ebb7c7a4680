"""Paths to the real Asterisk 22 captures in ``shared/asterisk/``."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import SHARED

# In a worktree the shared dir is not beside the clone; fall back to the dev location.
CAPTURES = next(p for p in (Path(os.environ.get("LINKAGE_SHARED", SHARED)) / "asterisk",
                            SHARED / "asterisk", Path("/work/shared/asterisk")) if p.is_dir())


def capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


def ami_blocks(name: str) -> list[bytes]:
    """The CRLF-framed messages of an AMI capture file (``### sent`` sections of ami-actions skipped)."""
    data = capture(name)
    out = []
    for block in data.split(b"\r\n\r\n"):
        block = block.strip(b"\r\n")
        if block.startswith(b"Event:") or block.startswith(b"Response:"):
            out.append(block + b"\r\n\r\n")
    return out
