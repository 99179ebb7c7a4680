"""Own labelled corpora (written for issue #4, never copied from dev.jsonl) and the floors they hold.

``corpus/authored.jsonl`` was written before the lexicon was tuned and then used to tune it.
``corpus/holdout*.jsonl`` were written one at a time, each measured once blind (figures in
docs/triage.md), and only then read; so every floor here now guards against regressions, and
only a fresh, unread corpus says how the lexicon generalises. Figures as ``../shared/eval/score.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from gateway.triage import ROUTES, Classifier

CORPUS = Path(__file__).resolve().parents[2] / "config" / "triage_corpus"  # also trains the safety net
BLIND_DIR = Path(__file__).resolve().parent / "corpus"  # never trained or tuned on
EMERGENCY = {"police", "fire", "medical", "emergency"}
AGENCIES = {"water", "power", "gas", "heating", "housing", "municipal", "urban_mgmt", "environment",
            "transport", "market", "hrss", "civil_affairs", "culture_tourism", "health", "education",
            "natural_resources", "water_resources", "telecom", "township", "agriculture", "tax"}
HOLDOUTS = [f"holdout{n}.jsonl" for n in ("", 2, 3, 4, 5, 6, 7, 8, 9, 10)]
BLIND = "holdout11.jsonl"  # measured on the final lexicon and never tuned on: keep it unread
# Written blind by sixteen other authors (session 3), each in its own voice, scored once before use.
WRITTEN = [f"blind_{x}.jsonl" for x in "abcdefghijklmnop"]


def _rows(name: str) -> list[dict]:
    with open((BLIND_DIR if name == BLIND else CORPUS) / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def figures(clf: Classifier, rows: list[dict]) -> dict[str, float]:
    """The scorer's headline figures: missed emergencies, diversion precision, agency, overall."""
    missed = pred_hot = pred_hot_true = diverted = agency_ok = overall = 0
    for r in rows:
        a = clf.classify(r["text"])
        routes_ok = {r["route"], *r["alt_routes"]}
        agencies_ok = {r["agency"], *r["alt_agencies"]} - {None}
        overall += a.route in routes_ok and (r["route"] != "hotline" or a.agency in agencies_ok)
        missed += r["route"] in EMERGENCY and a.route in ("hotline", "not_accepted")
        if a.route == "hotline":
            pred_hot += 1
            pred_hot_true += r["route"] == "hotline"
        if r["route"] == "hotline" and a.route == "hotline":
            diverted += 1
            agency_ok += a.agency in agencies_ok
    return {"missed": missed, "precision": 100.0 * pred_hot_true / max(1, pred_hot),
            "agency": 100.0 * agency_ok / max(1, diverted), "overall": 100.0 * overall / len(rows)}


@pytest.mark.parametrize("name", ["authored.jsonl", *HOLDOUTS, *WRITTEN, BLIND])
def test_corpus_is_well_formed(name):
    rows = _rows(name)
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["text"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == {"id", "text", "route", "agency", "alt_routes", "alt_agencies", "tags"}, r["id"]
        assert r["route"] in ROUTES and set(r["alt_routes"]) <= set(ROUTES), r["id"]
        assert (r["agency"] is not None) == (r["route"] == "hotline"), r["id"]
        assert {r["agency"], *r["alt_agencies"]} - {None} <= AGENCIES, r["id"]


def test_authored_corpus_covers_every_route_and_agency():
    rows = _rows("authored.jsonl")
    assert len(rows) >= 300
    routes = Counter(r["route"] for r in rows)
    assert set(routes) == set(ROUTES)
    agencies = Counter(r["agency"] for r in rows if r["agency"])
    assert set(agencies) == AGENCIES and min(agencies.values()) >= 5


def test_authored_corpus_floor(clf):
    """Tuned on: the floor guards against regressions, not generalisation."""
    f = figures(clf, _rows("authored.jsonl"))
    assert f["missed"] == 0
    assert f["precision"] >= 99.0
    assert f["agency"] >= 95.0
    assert f["overall"] >= 95.0


@pytest.mark.parametrize("name", HOLDOUTS)
def test_holdout_corpus_floor(clf, name):
    """The issue's targets. Blind figures before the errors were read (docs/triage.md): holdout
    1 missed, 84.5 % overall; holdout2 3 missed, 75.0 %; holdout3 5 missed, 78.0 %; holdout4 3
    missed, 72.7 %; holdout5 3 missed, 69.1 %; holdout6 3 missed, 75.4 %; holdout7 6 missed,
    67.6 %; holdout8 5 missed, 64.1 %; holdout9 5 missed, 77.8 %; holdout10 4 missed, 72.6 %."""
    f = figures(clf, _rows(name))
    assert f["missed"] == 0
    assert f["precision"] >= 97.0
    assert f["agency"] >= 90.0
    assert f["overall"] >= 85.0


@pytest.mark.parametrize("name", WRITTEN)
def test_written_corpus_floor(clf, name):
    """First scores, blind (docs/triage.md, "The second opinion"). a–d, second opinion trained on
    the older corpora: a 2 missed, 97.2 % precision, 79.3 % overall; b 1, 97.3 %, 81.7 %; c 1,
    98.6 %, 80.7 %; d 1, 95.2 %, 80.7 %. e–h on the lexicon tuned on a–d's errors and the models
    trained on a–d too: e 0, 98.7 %, 88.3 %; f 3, 96.6 %, 83.7 %; g 0, 96.9 %, 89.7 %; h 0, 98.7 %,
    89.7 %. i–l on the lexicon tuned on a–h's errors, models trained on a–h: i 1, 99.4 %, 91.0 %;
    j 0, 98.6 %, 85.0 %; k 1, 97.5 %, 91.0 %; l 0, 98.7 %, 92.0 %. m–p on the final lexicon, models
    trained on a–l: m 0, 100 %, 88.3 %; n 0, 99.3 %, 89.3 %; o 0, 100 %, 91.3 %; p 0, 98.6 %, 87.0 %.
    Now all trained on, a–l also read for the lexicon (m–p not): regression floors."""
    f = figures(clf, _rows(name))
    assert f["missed"] == 0
    assert f["precision"] >= 97.0
    assert f["agency"] >= 94.0
    assert f["overall"] >= 88.0


def test_blind_corpus_floor(clf):
    """holdout11, never tuned or trained on. Lexicon alone (docs/triage.md): 4 missed, 80.0 %
    precision, 80.0 % agency, 70.3 % overall; with the safety net: 0 missed, 95.0 %, 78.9 %, 68.8 %;
    with the second opinion and the session-3 lexicon: 0 missed, 100 %, 85.0 %, 82.8 %. (Its one
    miss on the way, x0033, was read.) A regression floor only — improve it by writing new corpora,
    not by reading it."""
    f = figures(clf, _rows(BLIND))
    assert f["missed"] == 0
    assert f["precision"] >= 95.0
    assert f["agency"] >= 80.0
    assert f["overall"] >= 78.0
