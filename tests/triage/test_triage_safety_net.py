"""The danger model behind the lexicon: it only ever moves a call towards a person."""

from __future__ import annotations

import json

import pytest

from gateway.config import load_config
from gateway.triage.result import TriageResult
from gateway.triage.safety_net import (
    MIN_CHARS,
    CorpusError,
    DangerModel,
    GuardedClassifier,
    check_config,
    corpus_files,
    read_corpus,
)

TOY = [("老人倒在地上叫不醒", True), ("屋里有人拿刀要砍人", True), ("楼道里全是烟看不见人", True),
       ("路灯坏了好几天了没人修", False), ("小区门口的垃圾好几天没人清运", False),
       ("快递把我的包裹弄丢了不赔", False)]


def result(route, agency=None, text="路灯坏了好几天了没人修一下"):
    return TriageResult(route=route, agency=agency, joint_agencies=[agency] if agency else [],
                        linked_routes=[], category=None, subcategory=None, request_type="help",
                        urgency="normal", confidence=0.9, danger=False, matched=[], normalised=text,
                        reason="agency municipal")


class Fixed:
    def __init__(self, r):
        self.r, self.terms = r, 7

    def classify(self, text):
        return self.r


def test_the_model_ranks_danger_wording_above_a_hotline_matter():
    model = DangerModel.train(TOY)
    assert model.rows == 6
    assert model.probability("老人在屋里倒下了叫不醒") > 0.9 > 0.1 > model.probability("路灯坏了没人修")


def test_one_class_only_is_refused():
    with pytest.raises(CorpusError, match="emergency and non-emergency"):
        DangerModel.train([("路灯坏了", False)])


@pytest.mark.parametrize(("route", "agency", "text", "moved"), [
    ("hotline", "municipal", "老人在屋里倒下了叫不醒没人应", True),
    ("not_accepted", None, "老人在屋里倒下了叫不醒没人应", True),
    ("hotline", "municipal", "路灯坏了好几天了没人修一下", False),
    ("hotline", "municipal", "叫不醒"[:MIN_CHARS - 1], False),  # too short to judge
    ("police", None, "老人在屋里倒下了叫不醒没人应", False),  # never moves an emergency
    ("review", None, "老人在屋里倒下了叫不醒没人应", False),
])
def test_guard_moves_only_hotline_and_refusals_to_a_person(route, agency, text, moved):
    guarded = GuardedClassifier(Fixed(result(route, agency, text)), DangerModel.train(TOY), 0.5)
    r = guarded.classify(text)
    if moved:
        assert (r.route, r.agency, r.joint_agencies, r.danger) == ("review", None, [], True)
        assert r.reason.startswith("safety net:") and route in r.reason
    else:
        assert (r.route, r.agency) == (route, agency)
    assert guarded.terms == 7  # everything else is the wrapped classifier's


def test_corpus_errors_name_file_and_line(tmp_path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "x", "route": "police"}) + "\n{oops\n")
    with pytest.raises(CorpusError, match=r"a\.jsonl:2"):
        read_corpus(corpus_files(tmp_path), str)
    with pytest.raises(CorpusError, match=r"no \*\.jsonl"):
        corpus_files(tmp_path / "missing")


def test_config_check_reports_a_missing_corpus(config_dir):
    gw = config_dir / "gateway.yaml"
    assert check_config(load_config(gw)) == []
    gw.write_text(gw.read_text().replace("danger_corpus: triage_corpus", "danger_corpus: nowhere"))
    [error] = check_config(load_config(gw))
    assert error.startswith("gateway.yaml: triage.danger_corpus:") and "nowhere" in error
    gw.write_text(gw.read_text().replace("danger_corpus: nowhere", "danger_corpus: null"))
    assert check_config(load_config(gw)) == []
