"""Behind a TLS proxy (``http.secure_cookies: true``) every console cookie carries Secure."""

from __future__ import annotations

import re

import pytest
import requests
from conftest import PASSWORD


@pytest.fixture
def config(config_dir):
    from gateway.config import load_config

    gw = config_dir / "gateway.yaml"
    gw.write_text(gw.read_text().replace("secure_cookies: false", "secure_cookies: true"))
    return load_config(gw)


def test_cookies_are_secure_behind_tls(server):
    s = requests.Session()
    page = s.get(f"{server.base}/login?lang=en")
    set_cookies = page.raw.headers.getlist("Set-Cookie")
    assert set_cookies and all("Secure" in c for c in set_cookies), set_cookies
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{server.base}/login", data={"name": "boss", "password": PASSWORD, "csrf": csrf},
               allow_redirects=False, cookies={"linkage_login": s.cookies.get("linkage_login") or ""})
    session_cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("linkage_session=")]
    assert session_cookie and "Secure" in session_cookie[0] and "HttpOnly" in session_cookie[0]

