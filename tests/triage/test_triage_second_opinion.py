"""The corpus models' second opinion: it revises only unsure answers, and never away from danger."""

from __future__ import annotations

import json
import math

import pytest

from gateway.config import load_config
from gateway.triage.lexicon import Lexicon, Scope, TermGroup
from gateway.triage.naive_bayes import NaiveBayes, ngrams
from gateway.triage.result import Match, TriageResult
from gateway.triage.safety_net import DangerModel, GuardedClassifier
from gateway.triage.second_opinion import CorpusModels, SecondOpinion, Thresholds

ROWS = [
    ("老人倒在地上叫不醒了", "medical", None), ("孩子吃了药叫不醒脸发白", "medical", None),
    ("有人拿刀在楼下砍人", "police", None), ("两个人在店门口打起来了拿刀", "police", None),
    ("楼道里冒黑烟一股焦味", "fire", None), ("厨房着火了烟好大", "fire", None),
    ("路灯坏了晚上好黑", "hotline", "municipal"), ("马路上的井盖丢了一个大坑", "hotline", "municipal"),
    ("老板拖欠工资三个月不给", "hotline", "hrss"), ("干了半年活工钱一分没拿到", "hotline", "hrss"),
    ("小区垃圾堆着没人清运", "hotline", "urban_mgmt"), ("门口小摊占道经营天天堵路", "hotline", "urban_mgmt"),
    ("我要起诉开发商帮我立案", "not_accepted", None), ("法院判决不公你们给改判", "not_accepted", None),
    ("嗯那个我也不知道说啥", "review", None), ("喂喂听得见吗", "review", None),
]
LEXICON = Lexicon(
    path=None,  # type: ignore[arg-type]
    groups=(TermGroup("categories.公共设施.路灯照明", "hotline", "municipal", 1.0, ("路灯",),
                      category="公共设施", subcategory="路灯照明"),
            TermGroup("categories.社会民生.劳动报酬", "hotline", "hrss", 1.0, ("工资",),
                      category="社会民生", subcategory="劳动报酬")),
    combos=(), request_types={}, request_default="help", scope=Scope(cues={}), fillers=(),
    pinyin_initials=(), pinyin_finals=(), homophone_factor=0.8, homophone_factor_short=0.5,
    route_priority=("fire", "police", "emergency", "medical"), review_below=0.5,
)


def result(route, text, agency=None, danger=False, joint=(), linked=(), matched=()):
    return TriageResult(route=route, agency=agency, joint_agencies=list(joint), linked_routes=list(linked),
                        category=None, subcategory=None, request_type="complaint", urgency="normal",
                        confidence=0.4, danger=danger, matched=list(matched), normalised=text,
                        reason="no lexicon term matched")


@pytest.fixture(scope="module")
def second() -> SecondOpinion:
    return SecondOpinion(CorpusModels.train(ROWS), LEXICON, Thresholds())


def test_naive_bayes_learns_classes_and_ignores_unknown_ngrams():
    nb = NaiveBayes.train([("路灯坏了", "municipal"), ("拖欠工资", "hrss"), ("路灯不亮", "municipal")])
    assert nb.classes == ("hrss", "municipal")
    assert nb.best("工资")[0] == "hrss" and nb.best("路灯")[0] == "municipal"
    # nothing known: the prior decides (2 of 3 rows were municipal)
    label, p = nb.best("天气真好")
    assert label == "municipal" and p == pytest.approx(2 / 3)
    assert math.fsum(p for p, _ in nb.ranked("灯坏了工资")) == pytest.approx(1.0)
    assert ngrams("abc", (1, 2)) == ["a", "b", "c", "ab", "bc"]


def test_naive_bayes_needs_two_classes():
    with pytest.raises(ValueError, match="two classes"):
        NaiveBayes.train([("路灯坏了", "municipal")])


def test_review_with_danger_goes_to_the_desk_the_model_picks(second):
    r = second.revise(result("review", "外婆倒在地上叫不醒", danger=True, linked=["medical", "police"]), 0.9)
    assert (r.route, r.agency, r.danger, r.urgency) == ("medical", None, True, "immediate")
    assert r.linked_routes == ["police"] and "medical desk" in r.reason


def test_review_without_danger_but_emergency_wording_goes_to_a_desk(second):
    r = second.revise(result("review", "楼下有人拿刀砍人"), 0.05)
    assert r.route == "police" and r.danger


def test_review_becomes_a_work_order_only_while_the_danger_model_reads_it_as_safe(second):
    r = second.revise(result("review", "好几个月了老板就是不给工资"), 0.05)
    assert (r.route, r.agency, r.category, r.subcategory) == ("hotline", "hrss", "社会民生", "劳动报酬")
    assert r.reason.startswith("corpus model: a 12345 matter")
    unsure = result("review", "好几个月了老板就是不给工资")
    assert second.revise(unsure, 0.5) is unsure


def test_the_keywords_candidates_come_first(second):
    # the model alone would say hrss; the keywords saw a municipal matter as well
    r = second.revise(result("review", "工资不给路灯也坏了", joint=["municipal"]), 0.0)
    assert (r.route, r.agency, r.joint_agencies) == ("hotline", "municipal", [])


def test_refusals_and_too_little_to_go_on(second):
    assert second.revise(result("review", "我要起诉他们法院立案"), 0.0).route == "not_accepted"
    empty = result("review", "喂喂那个我也不知道")
    assert second.revise(empty, 0.0) is empty  # the kind model says review: a person decides


@pytest.mark.parametrize("route", ["police", "fire", "medical", "emergency", "not_accepted"])
def test_answers_the_keywords_were_sure_of_stand(second, route):
    sure = result(route, "老板拖欠工资三个月不给")
    assert second.revise(sure, 0.0) is sure


def test_of_the_keywords_candidates_the_far_likelier_one_leads(second):
    hot = result("hotline", "老板拖欠工资三个月不给", agency="municipal", joint=["urban_mgmt", "hrss"])
    r = second.revise(hot, 0.0)
    assert (r.agency, r.joint_agencies) == ("hrss", ["municipal", "urban_mgmt"])
    assert "hrss is" in r.reason and "likelier than municipal" in r.reason
    assert SecondOpinion(second.models, LEXICON, Thresholds(candidate_odds=None)).revise(hot, 0.0) is hot
    close = result("hotline", "路灯坏了工资也不给", agency="municipal", joint=["hrss"])  # both matters
    assert second.revise(close, 0.0) is close


def test_the_keywords_agency_stands_unless_agency_min_is_set(second):
    hot = result("hotline", "老板拖欠工资三个月不给", agency="municipal", joint=["urban_mgmt"])
    assert second.revise(hot, 0.0) is hot  # hrss is likelier, but the keywords never named it
    eager = SecondOpinion(second.models, LEXICON, Thresholds(agency_min=0.9))
    r = eager.revise(hot, 0.0)
    assert (r.agency, r.joint_agencies) == ("hrss", ["municipal", "urban_mgmt"])


def test_guard_runs_the_danger_model_first_then_the_second_opinion(second):
    danger = DangerModel.train([(t, r in {"police", "fire", "medical"}) for t, r, _ in ROWS])

    class Fixed:
        def __init__(self, r):
            self.r = r

        def classify(self, text):
            return self.r

    hot = result("hotline", "外婆倒在地上叫不醒没人应", agency="municipal")
    r = GuardedClassifier(Fixed(hot), danger, 0.5, second).classify("")
    assert (r.route, r.danger) == ("medical", True)  # flagged by the net, then sent to a desk
    assert r.reason.startswith("danger seen") and "safety net" in r.reason
    short = result("review", "不给工资")  # too short for the net: not known to be safe
    assert GuardedClassifier(Fixed(short), danger, 0.5, second).classify("").route == "review"


def test_matched_term_of_the_chosen_agency_names_the_category(second):
    m = Match("路灯", "municipal", 1.0, 0, 2, key="categories.公共设施.路灯照明")
    r = second.revise(result("review", "路灯坏了晚上好黑一片", matched=[m]), 0.0)
    assert (r.agency, r.subcategory) == ("municipal", "路灯照明")


def test_second_opinion_can_be_switched_off(config_dir):
    from gateway.triage import Classifier

    gw = config_dir / "gateway.yaml"
    text = gw.read_text(encoding="utf-8")
    start = text.index("  second_opinion:")
    end = text.index("\n\n", start)
    gw.write_text(text[:start] + "  second_opinion: null" + text[end:], encoding="utf-8")
    clf = Classifier.from_config(load_config(gw))
    assert clf.second is None and clf.model is not None


def test_packed_scores_match_the_plain_sums():
    """The packed fixed-point fields give the textbook NB log-likelihoods (to 1e-3)."""
    samples = [(t, r if a is None else a) for t, r, a in ROWS]
    nb = NaiveBayes.train(samples, (1, 2), 0.1)
    vocab = {g for t, _ in samples for g in ngrams(t, (1, 2))}
    for text in ("老人倒在路灯下叫不醒", "工资", "天气真好", ""):
        grams = [g for g in ngrams(text, (1, 2)) if g in vocab]
        for k, c in enumerate(nb.classes):
            mine = [g for t, y in samples if y == c for g in ngrams(t, (1, 2))]
            total = len(mine) + 0.1 * len(vocab)
            prior = math.log(sum(y == c for _, y in samples) / len(samples))
            plain = prior + sum(math.log((mine.count(g) + 0.1) / total) for g in grams)
            assert nb.scores(text)[k] == pytest.approx(plain, abs=1e-3)


def test_weights_too_large_for_the_packed_fields_are_refused():
    with pytest.raises(ValueError, match="too large"):
        NaiveBayes.train([("火" * 60_000, "fire"), ("灯", "municipal")], (1, 2), 0.1)


def test_config_check_names_a_corpus_the_second_opinion_cannot_learn_from(config_dir):
    from gateway.triage.safety_net import check_config

    corpus = config_dir / "triage_corpus"
    for f in corpus.glob("*.jsonl"):
        f.unlink()
    rows = [{"text": "有人拿刀砍人", "route": "police"}, {"text": "法院判决不公", "route": "not_accepted"}]
    (corpus / "few.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    [error] = check_config(load_config(config_dir / "gateway.yaml"))
    assert error.startswith("gateway.yaml: triage.second_opinion:") and "hotline" in error
