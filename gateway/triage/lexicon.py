"""Load and validate ``config/lexicon.yaml``; every error names the file and the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gateway.config.loader import ConfigError

DANGER_ROUTES = ("police", "fire", "medical", "emergency")
REQUEST_TYPES = ("consultation", "help", "complaint", "report", "suggestion")
SCOPE_CUES = ("negation", "past", "present", "hypothetical", "resolved", "neutral", "boundary")
WEAK_FACTOR = 0.5


class LexiconError(ConfigError):
    """The lexicon is unusable; ``errors`` are ``file: key: message`` lines."""


@dataclass(frozen=True)
class TermGroup:
    """Terms that all point at one target with one weight."""

    key: str  # where it lives in the YAML, e.g. "danger.fire.火灾"
    kind: str  # "danger" | "not_accepted" | "hotline" | "agency_name"
    target: str  # a danger route, "not_accepted" or an agency code
    weight: float
    terms: tuple[str, ...]
    links: tuple[str, ...] = ()
    category: str | None = None
    subcategory: str | None = None
    urgent: bool = False
    pinyin: bool = True


@dataclass(frozen=True)
class Combo:
    """A signal made of one term from each part, all within ``window`` characters."""

    key: str
    kind: str
    target: str
    weight: float
    window: int
    parts: tuple[tuple[str, ...], ...]
    links: tuple[str, ...] = ()
    category: str | None = None
    subcategory: str | None = None
    urgent: bool = False  # read like TermGroup.urgent when a combo names the agency


@dataclass(frozen=True)
class Scope:
    cues: dict[str, tuple[str, ...]]
    negation_window: int = 4
    past_window: int = 15
    hypothetical_window: int = 12
    resolved_window: int = 8


@dataclass(frozen=True)
class Lexicon:
    path: Path
    groups: tuple[TermGroup, ...]
    combos: tuple[Combo, ...]
    request_types: dict[str, tuple[str, ...]]
    request_default: str
    scope: Scope
    fillers: tuple[str, ...]
    pinyin_initials: tuple[tuple[str, str], ...]
    pinyin_finals: tuple[tuple[str, str], ...]
    homophone_factor: float
    homophone_factor_short: float
    route_priority: tuple[str, ...]
    review_below: float
    light_chars: str = ""
    char_map: dict[str, str] = field(default_factory=dict)
    categories: dict[str, dict[str, str]] = field(default_factory=dict)  # category → sub → agency


def _terms(value: Any, where: str, errors: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str | int) for t in value):
        errors.append(f"{where}: must be a list of strings")
        return ()
    return tuple(str(t).strip() for t in value if str(t).strip())


def _weight(spec: dict[str, Any], where: str, errors: list[str], default: float = 1.0) -> float:
    w = spec.get("weight", default)
    if not isinstance(w, int | float) or not 0 < w <= 3:
        errors.append(f"{where}.weight: must be a number in (0, 3], got {w!r}")
        return default
    return float(w)


def _mapping(value: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}: must be a mapping")
        return {}
    return value


class _Builder:
    def __init__(self, path: Path, agency_codes: set[str] | None):
        self.path = path
        self.agency_codes = agency_codes
        self.errors: list[str] = []
        self.groups: list[TermGroup] = []
        self.combos: list[Combo] = []
        self.categories: dict[str, dict[str, str]] = {}

    def err(self, key: str, msg: str) -> None:
        self.errors.append(f"{self.path}: {key}: {msg}")

    def check_agency(self, key: str, code: Any) -> bool:
        if not isinstance(code, str) or not code:
            self.err(key, "missing agency code")
            return False
        if self.agency_codes is not None and code not in self.agency_codes:
            self.err(key, f"unknown agency code {code!r}; known: {', '.join(sorted(self.agency_codes))}")
            return False
        return True

    def links(self, spec: dict[str, Any], key: str) -> tuple[str, ...]:
        links = _terms(spec.get("links"), f"{self.path}: {key}.links", self.errors)
        for link in links:
            if link not in DANGER_ROUTES:
                self.err(f"{key}.links", f"unknown route {link!r}; routes are {list(DANGER_ROUTES)}")
        return links

    def group(self, spec: Any, key: str, kind: str, target: str, **extra: Any) -> None:
        if not isinstance(spec, dict):
            self.err(key, "must be a mapping with terms")
            return
        allowed = {"terms", "weak", "weight", "links", "agency", "urgent", "pinyin"}
        for unknown in sorted(set(spec) - allowed):
            self.err(f"{key}.{unknown}", f"unknown key; allowed: {sorted(allowed)}")
        where = f"{self.path}: {key}"
        strong = _terms(spec.get("terms"), f"{where}.terms", self.errors)
        weak = _terms(spec.get("weak"), f"{where}.weak", self.errors)
        if not strong and not weak:
            self.err(key, "empty class: no terms")
            return
        weight = _weight(spec, key, self.errors)
        common = dict(
            kind=kind, target=target, links=self.links(spec, key),
            urgent=bool(spec.get("urgent", False)), pinyin=bool(spec.get("pinyin", True)), **extra,
        )
        if strong:
            self.groups.append(TermGroup(key=key, weight=weight, terms=strong, **common))
        if weak:
            weak_weight = weight * WEAK_FACTOR
            self.groups.append(TermGroup(key=f"{key}.weak", weight=weak_weight, terms=weak, **common))

    def combo(self, spec: Any, key: str) -> None:
        if not isinstance(spec, dict):
            self.err(key, "must be a mapping")
            return
        target = spec.get("target")
        kind = "danger" if target in DANGER_ROUTES else "hotline"
        if target == "not_accepted":
            kind = "not_accepted"
        if kind == "hotline" and not self.check_agency(f"{key}.target", target):
            return
        parts_raw = spec.get("all")
        if not isinstance(parts_raw, list) or len(parts_raw) < 2:
            self.err(f"{key}.all", "needs at least two lists of terms")
            return
        parts = tuple(_terms(p, f"{self.path}: {key}.all[{i}]", self.errors) for i, p in enumerate(parts_raw))
        for i, p in enumerate(parts):
            if not p:
                self.err(f"{key}.all[{i}]", "empty class: no terms")
        window = spec.get("window", 12)
        if not isinstance(window, int) or window <= 0:
            self.err(f"{key}.window", f"must be a positive integer, got {window!r}")
            window = 12
        self.combos.append(Combo(
            key=key, kind=kind, target=str(target), weight=_weight(spec, key, self.errors),
            window=window, parts=parts, links=self.links(spec, key),
            category=spec.get("category"), subcategory=spec.get("subcategory") or key.split(".", 1)[1],
        ))


def _duplicates(b: _Builder, norm: Any) -> None:
    seen: dict[str, str] = {}
    for g in b.groups:
        for t in g.terms:
            n = norm(t)
            if not n:
                b.err(g.key, f"term {t!r} is empty after normalisation")
                continue
            if n in seen:
                other = seen[n]
                where = "twice in this class" if other == g.key else f"also in {other}"
                b.err(g.key, f"duplicate term {t!r} ({where})")
            else:
                seen[n] = g.key


def parse_lexicon(
    data: Any, path: Path, agency_codes: set[str] | None = None, norm: Any = None
) -> tuple[Lexicon | None, list[str]]:
    """Build a :class:`Lexicon` from parsed YAML; return it (or None) and the error lines."""
    b = _Builder(path, agency_codes)
    if not isinstance(data, dict):
        b.err("(top)", "must be a mapping")
        return None, b.errors

    danger = _mapping(data.get("danger"), f"{path}: danger", b.errors)
    for route, classes in danger.items():
        if route not in DANGER_ROUTES:
            b.err(f"danger.{route}", f"unknown route; routes are {list(DANGER_ROUTES)}")
            continue
        classes = _mapping(classes, f"{path}: danger.{route}", b.errors)
        if not classes:
            b.err(f"danger.{route}", "empty class: no term groups")
        for name, spec in classes.items():
            b.group(spec, f"danger.{route}.{name}", "danger", route, subcategory=str(name))

    for name, spec in _mapping(data.get("not_accepted"), f"{path}: not_accepted", b.errors).items():
        b.group(spec, f"not_accepted.{name}", "not_accepted", "not_accepted", subcategory=str(name))

    cats = _mapping(data.get("categories"), f"{path}: categories", b.errors)
    if not cats:
        b.err("categories", "empty class: no categories")
    for cat, subs in cats.items():
        subs = _mapping(subs, f"{path}: categories.{cat}", b.errors)
        if not subs:
            b.err(f"categories.{cat}", "empty class: no sub-categories")
        for sub, spec in subs.items():
            key = f"categories.{cat}.{sub}"
            agency = spec.get("agency") if isinstance(spec, dict) else None
            if not b.check_agency(f"{key}.agency", agency):
                continue
            b.categories.setdefault(str(cat), {})[str(sub)] = agency
            b.group(spec, key, "hotline", agency, category=str(cat), subcategory=str(sub))

    for code, spec in _mapping(data.get("agency_names"), f"{path}: agency_names", b.errors).items():
        if b.check_agency(f"agency_names.{code}", code):
            b.group(spec, f"agency_names.{code}", "agency_name", code)

    for name, spec in _mapping(data.get("combos"), f"{path}: combos", b.errors).items():
        b.combo(spec, f"combos.{name}")

    rt_raw = _mapping(data.get("request_types"), f"{path}: request_types", b.errors)
    request_types: dict[str, tuple[str, ...]] = {}
    for rt, terms in rt_raw.items():
        if rt == "default":
            continue
        if rt not in REQUEST_TYPES:
            b.err(f"request_types.{rt}", f"unknown request type; types are {list(REQUEST_TYPES)}")
            continue
        request_types[rt] = _terms(terms, f"{path}: request_types.{rt}", b.errors)
        if not request_types[rt]:
            b.err(f"request_types.{rt}", "empty class: no terms")
    default_rt = rt_raw.get("default", "help")
    if default_rt not in REQUEST_TYPES:
        b.err("request_types.default", f"unknown request type {default_rt!r}")

    sc = _mapping(data.get("scope"), f"{path}: scope", b.errors)
    cues = {k: _terms(sc.get(k), f"{path}: scope.{k}", b.errors) for k in SCOPE_CUES}
    for k in ("negation", "past", "hypothetical"):
        if not cues[k]:
            b.err(f"scope.{k}", "empty class: no terms")
    windows = {}
    for k in ("negation_window", "past_window", "hypothetical_window", "resolved_window"):
        if k in sc:
            if not isinstance(sc[k], int) or sc[k] < 0:
                b.err(f"scope.{k}", f"must be a non-negative integer, got {sc[k]!r}")
            else:
                windows[k] = sc[k]

    nm = _mapping(data.get("normalise"), f"{path}: normalise", b.errors)
    fillers = _terms(nm.get("fillers"), f"{path}: normalise.fillers", b.errors)

    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        raw = nm.get(key) or []
        if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
            b.err(f"normalise.{key}", "must be a list of [from, to] pairs")
            return ()
        return tuple((str(a), str(c)) for a, c in raw)

    initials, finals = pairs("pinyin_initials"), pairs("pinyin_finals")
    char_map = nm.get("char_map") or {}
    if not isinstance(char_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) == 1 and len(v) == 1 for k, v in char_map.items()
    ):
        b.err("normalise.char_map", "must map single characters to single characters")
        char_map = {}
    light = nm.get("light_chars", "")
    if not isinstance(light, str):
        b.err("normalise.light_chars", "must be a string of characters")
        light = ""
    factor = nm.get("homophone_factor", 0.8)
    if not isinstance(factor, int | float) or not 0 < factor <= 1:
        b.err("normalise.homophone_factor", f"must be in (0, 1], got {factor!r}")
        factor = 0.8
    short = nm.get("homophone_factor_short", factor)
    if not isinstance(short, int | float) or not 0 < short <= 1:
        b.err("normalise.homophone_factor_short", f"must be in (0, 1], got {short!r}")
        short = factor

    priority = tuple(data.get("route_priority") or DANGER_ROUTES)
    if sorted(priority) != sorted(DANGER_ROUTES):
        b.err("route_priority", f"must list each of {list(DANGER_ROUTES)} once")
        priority = DANGER_ROUTES
    review_below = data.get("review_below", 0.5)
    if not isinstance(review_below, int | float) or not 0 <= review_below <= 1:
        b.err("review_below", f"must be in [0, 1], got {review_below!r}")
        review_below = 0.5

    if norm is not None:
        _duplicates(b, norm)
    if b.errors:
        return None, b.errors
    return Lexicon(
        path=path, groups=tuple(b.groups), combos=tuple(b.combos), request_types=request_types,
        request_default=default_rt, scope=Scope(cues=cues, **windows), fillers=fillers,
        pinyin_initials=initials, pinyin_finals=finals, homophone_factor=float(factor),
        homophone_factor_short=float(short),
        route_priority=priority, review_below=float(review_below), light_chars=light, char_map=char_map,
        categories=b.categories,
    ), []


def read_lexicon(path: str | Path) -> Any:
    """The parsed YAML, or :class:`LexiconError` naming the file."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise LexiconError([f"{path}: file not found"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise LexiconError([f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}"]) from None


def check_config(config: Any) -> list[str]:
    """``CHECKERS`` entry: validate the lexicon named by ``gateway.yaml`` against agencies.yaml."""
    from gateway.triage.normalise import Normaliser

    path = config.lexicon_path
    try:
        data = read_lexicon(path)
    except LexiconError as exc:
        return exc.errors
    nm = (data.get("normalise") or {}) if isinstance(data, dict) else {}
    norm = Normaliser(nm.get("fillers") or (), char_map=nm.get("char_map") or {}).term
    _, errors = parse_lexicon(data, Path(path), config.agency_codes(), norm)
    return errors
