"""Audio under ``/media/``: HMAC-signed, expiring URLs bound to a user; files only from the recordings dir.

A URL is ``/media/<recording_id>?u=<user_id>&exp=<unix>&d=<0|1>&sig=<hex>`` where ``sig`` is
HMAC-SHA256 over the other parts. Any request without a valid, unexpired signature gets 403,
and so does one whose session is not the user the URL was signed for.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from twisted.web import resource, static
from twisted.web.server import Request

ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".gsm": "audio/x-gsm",
    ".flac": "audio/flac",
}


class Signer:
    """Makes and checks signed media URLs."""

    def __init__(self, secret: bytes, ttl_s: int, clock: Callable[[], float] = time.time):
        self.secret = secret
        self.ttl_s = ttl_s
        self.clock = clock

    def _mac(self, recording_id: str, user_id: int, exp: int, download: int) -> str:
        msg = f"media\n{recording_id}\n{user_id}\n{exp}\n{download}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def url(self, recording_id: str, user_id: int, download: bool = False) -> str:
        exp = int(self.clock()) + self.ttl_s
        d = int(download)
        query = urlencode({"u": user_id, "exp": exp, "d": d, "sig": self._mac(recording_id, user_id, exp, d)})
        return f"/media/{recording_id}?{query}"

    def check(self, recording_id: str, args: dict[bytes, list[bytes]]) -> tuple[int, bool] | None:
        """(user_id, download) when the signature is valid and unexpired, else None."""
        try:
            user_id = int(args[b"u"][0])
            exp = int(args[b"exp"][0])
            d = int(args[b"d"][0])
            sig = args[b"sig"][0].decode("ascii")
        except (KeyError, IndexError, ValueError, UnicodeDecodeError):
            return None
        if d not in (0, 1) or not ID_RE.match(recording_id):
            return None
        if not hmac.compare_digest(sig, self._mac(recording_id, user_id, exp, d)):
            return None
        if exp <= self.clock():
            return None
        return user_id, bool(d)


def safe_path(root: Path, relative: str) -> Path | None:
    """``root/relative`` resolved, or None when it leaves ``root`` (``..``, absolute, symlink out)."""
    if not relative or "\x00" in relative:
        return None
    base = root.resolve()
    candidate = (base / relative).resolve()
    if candidate == base or not candidate.is_relative_to(base):
        return None
    return candidate


class Forbidden(resource.Resource):
    isLeaf = True

    def __init__(self, message: str = "forbidden", code: int = 403):
        super().__init__()
        self.message = message
        self.code = code

    def render(self, request: Request) -> bytes:
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return self.message.encode() + b"\n"


class MediaFile(static.File):
    """One audio file; ``static.File`` gives HTTP Range (206, 416, multipart) and HEAD."""

    isLeaf = True

    def __init__(self, path: Path, download_name: str | None):
        super().__init__(
            str(path), defaultType=AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream")
        )
        self.download_name = download_name

    def render(self, request: Request) -> bytes | int:
        request.setHeader(b"cache-control", b"private, no-store")
        request.setHeader(b"x-content-type-options", b"nosniff")
        if self.download_name:
            request.setHeader(b"content-disposition", f'attachment; filename="{self.download_name}"'.encode())
        return super().render(request)


class AuditOnce:
    """Remembers which signed URLs were already audited, so Range requests log one playback."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def first(self, key: bytes) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True
