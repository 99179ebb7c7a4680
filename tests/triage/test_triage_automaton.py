"""automaton.py: the C-array automaton (compiled when built, and as its source) finds what Rust's does."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.triage import automaton, load_classifier
from gateway.triage.automaton import RustAutomaton

ROOT = Path(__file__).resolve().parents[2]


def _source_module():
    source = Path(automaton.__file__).with_name("automaton.py")
    spec = importlib.util.spec_from_file_location("automaton_source", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = [pytest.param(automaton, id="as imported"), pytest.param(_source_module(), id="source")]


@pytest.fixture(scope="module")
def lexicon_words() -> tuple[list[str], list[str]]:
    """Every lexicon term in matching form, and the corpus texts in that form."""
    config = load_config(ROOT / "config" / "gateway.yaml")
    clf = load_classifier(config.lexicon_path, config.agency_codes())
    words = sorted({clf.normalise(t) for g in clf.lexicon.groups for t in g.terms} - {""})
    texts = []
    for path in sorted((ROOT / "config" / "triage_corpus").glob("*.jsonl"))[:4]:
        lines = path.read_text(encoding="utf-8").splitlines()
        texts += [clf.normalise(json.loads(line)["text"]) for line in lines]
    return words, texts


@pytest.mark.parametrize("module", MODULES)
def test_finds_what_ahocorasick_rs_finds_in_the_same_order(module, lexicon_words):
    words, texts = lexicon_words
    ours, rust = module.Automaton(words), RustAutomaton(words)
    for text in texts:
        assert ours.find(text) == rust.find(text), text
        assert ours.contains(text) == rust.contains(text), text


@pytest.mark.parametrize("module", MODULES)
def test_overlapping_suffixes_and_unknown_characters(module):
    words = ["电梯困人", "电梯", "梯困", "困人", "人", "梯", "电梯困", "困", "ab", "b", "abab"]
    ours, rust = module.Automaton(words), RustAutomaton(words)
    rng = random.Random(5)
    texts = ["", "x", "电梯困人", "有人电梯困人了困人", "梯梯困困人人", "ababab", "😀ab𠀀b"]
    texts += ["".join(rng.choices("电梯困人ab😀x", k=rng.randint(1, 30))) for _ in range(500)]
    for text in texts:
        assert ours.find(text) == rust.find(text), text
        assert ours.contains(text) == bool(rust.find(text)), text


@pytest.mark.parametrize("module", MODULES)
def test_empty_or_repeated_patterns_are_refused(module):
    with pytest.raises(ValueError, match="pattern 1 is empty"):
        module.Automaton(["a", ""])
    with pytest.raises(ValueError, match="pattern 2 repeats pattern 0"):
        module.Automaton(["ab", "b", "ab"])
    assert module.Automaton([]).find("abc") == []


def test_build_uses_the_c_arrays_exactly_when_compiled():
    assert isinstance(automaton.build(["a"]), automaton.Automaton if automaton.COMPILED else RustAutomaton)
