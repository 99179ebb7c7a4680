"""HTML shells for the console pages; the page content is drawn by ``static/app.js`` from the JSON APIs."""

from __future__ import annotations

import json
from html import escape

from gateway.console.auth import Session
from gateway.console.i18n import strings, t

PAGES = ("search", "call", "dashboard", "audit")


def _head(lang: str, title: str) -> str:
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/app.css"></head>'
    )


def shell(page: str, lang: str, session: Session, data: dict[str, object] | None = None) -> bytes:
    """A logged-in page: navigation, the page's empty main element, interface strings as JSON data."""
    user = session.user
    nav = [("search", "/search")]
    if user.is_supervisor:
        nav += [("dashboard", "/dashboard"), ("audit", "/audit")]
    links = "".join(
        f'<a href="{href}" class="{"active" if page == name else ""}" id="nav-{name}">'
        f"{escape(t('nav_' + name, lang))}</a>"
        for name, href in nav
    )
    other = "en" if lang == "zh" else "zh"
    boot = json.dumps(
        {
            "page": page,
            "lang": lang,
            "csrf": session.csrf,
            "user": user.public(),
            "strings": strings(lang),
            **(data or {}),
        },
        ensure_ascii=False,
    ).replace("</", "<\\/")
    body = (
        f'<body><header><span class="brand">{escape(t("app_title", lang))}</span><nav>{links}</nav>'
        f'<span class="who">{escape(user.name)} · {escape(user.role)}'
        f"{' · ' + escape(user.agency) if user.agency else ''}</span>"
        f'<a class="lang" href="?lang={other}" id="lang-switch">{escape(t("other_lang", lang))}</a>'
        f'<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" '
        f'value="{escape(session.csrf)}"><button type="submit">{escape(t("logout", lang))}</button></form>'
        f'</header><main id="app" data-page="{escape(page)}"></main>'
        f'<script type="application/json" id="boot">{boot}</script>'
        f'<script src="/static/app.js"></script></body></html>'
    )
    return (_head(lang, t("app_title", lang)) + body).encode()


def login_page(lang: str, csrf: str, error: str | None = None, next_url: str = "/search") -> bytes:
    other = "en" if lang == "zh" else "zh"
    err = f'<p class="error" id="login-error">{escape(t(error, lang))}</p>' if error else ""
    body = (
        f'<body class="login"><form method="post" action="/login" id="login-form" class="card">'
        f"<h1>{escape(t('app_title', lang))}</h1>{err}"
        f'<label>{escape(t("username", lang))}<input name="name" id="name" autocomplete="username" required>'
        f'</label><label>{escape(t("password", lang))}<input name="password" id="password" type="password"'
        f' autocomplete="current-password" required></label>'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<button type="submit" id="login-submit">{escape(t("login", lang))}</button>'
        f'<a class="lang" href="?lang={other}">{escape(t("other_lang", lang))}</a></form></body></html>'
    )
    return (_head(lang, t("login", lang)) + body).encode()


def message_page(lang: str, key: str) -> bytes:
    return (
        _head(lang, t(key, lang)) + f'<body><main class="card"><h1>{escape(t(key, lang))}</h1>'
        f'<p><a href="/search">{escape(t("nav_search", lang))}</a></p></main></body></html>'
    ).encode()
