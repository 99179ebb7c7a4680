"""The shortcuts of the hot path give the answers of the plain way (bench/classify.py times it)."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from itertools import product
from pathlib import Path

import ahocorasick_rs
import opencc
import pytest

from gateway.triage.matcher import _ComboBits
from gateway.triage.normalise import _PUNCT, Normaliser, opencc_changes

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
# traditional text, phrases OpenCC changes although no character of them changes alone (瞭解,
# 藉口), one it changes although every character is also simplified (打坏), and 著 (char_map)
TRICKY = ["瞭解情況", "找藉口", "路燈打坏了", "乾燥", "乾隆", "著火了", "樓道燈壞了三天", "ＡＢＣ１２３",
          "\u3000着火\u3000", "嗯 那个 ，路灯 坏了！", "\x1c\x1d\x1e\x1fa\u2028b\u00a0c", "😀𠀀𪚥", ""]


def corpus() -> list[str]:
    texts = list(TRICKY)
    if DEV.is_file():
        texts += [json.loads(line)["text"] for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    rng = random.Random(7)
    pool = "".join(texts) + " \t\n，。！？、嗯啊那个著乾瞭藉覆沈坏"
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    return texts


def plain_text(n: Normaliser, raw: str, fillers: list[str]) -> str:
    """Normaliser.text as first written: always OpenCC, always the table, one pattern."""
    simplified = opencc.OpenCC("t2s").convert(unicodedata.normalize("NFKC", raw)).translate(n._chars)
    singles = "".join(sorted({f for f in fillers if len(f) == 1}))
    multis = sorted({f for f in fillers if len(f) > 1}, key=len, reverse=True)
    pattern = "|".join([*(re.escape(m) for m in multis), rf"[\s{re.escape(singles + _PUNCT)}]"])
    return re.sub(pattern, "", simplified.lower())


def test_opencc_is_skipped_only_where_it_changes_nothing():
    t2s = opencc.OpenCC("t2s")
    keys = opencc_changes(t2s.config)
    assert keys is not None, "opencc_dict (shipped with opencc) could not be read"
    changes = ahocorasick_rs.AhoCorasick(sorted(keys))
    for text in corpus():
        if not changes.find_matches_as_indexes(text):
            assert t2s.convert(text) == text, text


def test_normalised_text_is_the_plain_pipelines():
    for fillers in (["嗯", "啊", "呃"], ["嗯", "啊", "那个"]):  # single-character fillers only, and not
        n = Normaliser(fillers, char_map={"著": "着"})
        n.prepare()
        for text in corpus():
            assert n.text(text) == plain_text(n, text, fillers), text


def test_automaton_reports_by_end_then_longest_first():
    # later steps keep the first of equal candidates, so this order is part of the result
    words = ["电梯困人", "电梯", "梯困", "困人", "人", "梯", "电梯困", "困"]
    ac = ahocorasick_rs.AhoCorasick(words, matchkind=ahocorasick_rs.MatchKind.Standard)
    for text in ["电梯困人", "有人电梯困人了困人", "梯梯困困人人"]:
        hits = ac.find_matches_as_indexes(text, overlapping=True)
        assert hits == sorted(hits, key=lambda h: (h[2], h[1]))
        assert sorted(hits) == sorted(
            (i, s, s + len(w)) for i, w in enumerate(words) for s in range(len(text)) if text.startswith(w, s)
        )


def test_combo_bits_find_exactly_the_complete_combos():
    sizes = [2, 3, 2, 1, 4, 2]
    bits = _ComboBits(sizes)
    for seen in product([False, True], repeat=sum(sizes)):
        mask, flags = 0, iter(seen)
        complete = []
        for ci, n in enumerate(sizes):
            parts = [next(flags) for _ in range(n)]
            for p, on in enumerate(parts):
                if on:
                    mask |= bits.bit[ci, p]
            if all(parts):
                complete.append(ci)
        carry = (mask + bits.ones) & bits.guards
        assert bits.complete(carry) == complete


def test_unreadable_opencc_config_means_converting_every_text(tmp_path):
    assert opencc_changes(str(tmp_path / "missing.json")) is None
    bad = tmp_path / "t2s.json"
    bad.write_text('{"conversion_chain": [{"dict": {"type": "mystery"}}]}', encoding="utf-8")
    assert opencc_changes(str(bad)) is None
    n = Normaliser(["嗯"])
    assert n.text("樓道燈壞了") == "楼道灯坏了"  # not prepared: OpenCC for every text


def test_strip_drops_what_the_pattern_drops_and_refuses_surrogates():
    from gateway.triage.normalise import _strip

    n = Normaliser(["嗯", "啊"])
    assert n._drop is not None
    every_space = "".join(chr(cp) for cp in range(0x110000) if chr(cp).isspace())
    for text in [*corpus(), every_space + "路灯，坏了！嗯", "", "   ", "不变"]:
        low = text.lower()
        assert _strip(low, n._drop) == n._strip_rest.sub("", "".join(low.split())), text
    with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
        _strip("路\ud800灯", n._drop)
