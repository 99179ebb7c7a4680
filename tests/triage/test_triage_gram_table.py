"""gram_table.py (compiled when built, and as its plain-Python source) sums what the dicts sum."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from gateway.triage import gram_table
from gateway.triage.naive_bayes import MAX_CHARS, NaiveBayes, ngrams
from gateway.triage.safety_net import DangerModel

SOURCE = Path(gram_table.__file__).with_name("gram_table.py")


def _source_module():
    spec = importlib.util.spec_from_file_location("gram_table_source", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = [pytest.param(gram_table, id="as imported"), pytest.param(_source_module(), id="source")]

ALPHABET = "路灯坏了着火煤气味我妈叫不醒ab1 😀𠀀"  # CJK, ASCII, a space, past the BMP


def _texts(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    made = ("".join(rng.choices(ALPHABET, k=rng.randint(2, 40))) for _ in range(n))
    return ["", "路", "zz未见过的字", *made]


def _rows(seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [("".join(rng.choices(ALPHABET[:-3], k=rng.randint(3, 20))), rng.choice("xyz")) for _ in range(60)]


@pytest.mark.parametrize("module", MODULES)
def test_gram_table_sums_equal_the_packed_integer_sums(module):
    model = NaiveBayes.train(_rows())
    width = len(model.classes) + 1
    fields = {g: [(w >> (32 * k)) & 0xFFFFFFFF for k in range(width)] for g, w in model.weights.items()}
    table = module.GramTable(fields.items(), width, MAX_CHARS)
    for text in _texts(300):
        packed = sum(model.weights.get(g, 0) for g in ngrams(text[:MAX_CHARS], (1, 2)))
        assert table.sums(text) == [(packed >> (32 * k)) & 0xFFFFFFFF for k in range(width)], text


@pytest.mark.parametrize("module", MODULES)
def test_gram_table_reads_a_text_up_to_max_chars(module):
    table = module.GramTable([("a", [1, 0]), ("ab", [0, 5])], 2, 4)
    assert table.sums("abab") == [2, 10]
    assert table.sums("ababab") == [2, 10]  # "ab" past the 4th character is not read
    with pytest.raises(ValueError, match="1- or 2-gram with 2 fields"):
        module.GramTable([("abc", [1, 0])], 2, 4)


@pytest.mark.parametrize("module", MODULES)
def test_bigram_sum_adds_as_the_dict_loop_does(module):
    model = DangerModel.train([(t, label == "x") for t, label in _rows()])
    table = module.BigramSum(model.weights, model.unseen)
    for text in _texts(300):
        expected = 0.0
        for g in ngrams(text, (2,)):
            expected += model.weights.get(g, model.unseen)
        assert table.total(text) == expected, text  # the same float, not merely close


def test_the_models_use_the_tables_exactly_when_compiled():
    model = NaiveBayes.train(_rows())
    danger = DangerModel.train([(t, label == "x") for t, label in _rows()])
    assert (model.table is not None) == (danger.table is not None) == gram_table.COMPILED


@pytest.mark.parametrize("module", MODULES)
def test_gram_table_sums_only_the_columns_asked_for(module):
    table = module.GramTable([("a", [1, 2, 3, 1]), ("ab", [4, 5, 6, 1])], 4, 100)
    assert table.sums("abab") == [10, 14, 18, 4]
    assert table.sums("abab", [2, 0, 3]) == [18, 10, 4]
    assert table.sums("abab", []) == []
    with pytest.raises(IndexError, match=r"outside 0\.\.3"):
        table.sums("abab", [4])


def test_scores_of_some_classes_are_those_of_all_classes():
    model = NaiveBayes.train(_rows())
    for text in _texts(50):
        every = dict(zip(model.classes, model.scores(text), strict=True))
        assert model.scores(text, ["z", "x"]) == [every["z"], every["x"]]
    with pytest.raises(KeyError):
        model.scores("路灯", ["nobody"])
