"""Hard case classes of caller speech, with general examples written for these tests."""

from __future__ import annotations

import json

import pytest

from gateway.triage import Classifier, is_emergency


def route(clf: Classifier, text: str) -> tuple[str, str | None]:
    r = clf.classify(text)
    return r.route, r.agency


# -- negation: a denied danger is no danger, the rest of the call still routes -------------------
@pytest.mark.parametrize("text, want", [
    ("没有着火 就是 楼道灯 一直 不亮", ("hotline", "municipal")),
    ("不是煤气泄漏 是燃气表不走字了", ("hotline", "gas")),
    ("并没有人受伤 就是 小区 的 路灯 全 坏了", ("hotline", "municipal")),
])
def test_negation(clf, text, want):
    r = clf.classify(text)
    assert (r.route, r.agency) == want
    assert not r.danger
    assert any(m.negated for m in r.matched)


def test_negation_does_not_cross_a_contrast(clf):
    # "no fire, but smoke is coming out of the distribution box": the smoke is not negated
    r = clf.classify("没着火 但是 配电箱 里 一直 冒烟 有 焦糊味")
    assert r.route == "fire"


@pytest.mark.parametrize(("text", "word"), [("孩子 不是 是走丢了 到处找不着", "走丢了"),
                                           ("不是 不是 我是说打架了 两个人", "打架")])
def test_a_callers_correction_is_not_a_negation(clf, text, word):
    # 不是 followed by the corrected account asserts what follows
    r = clf.classify(text)
    [m] = [m for m in r.matched if m.surface == word]
    assert not m.negated and r.route == "police"


# -- past events -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("上次着火的那个楼道灯到现在还没人修", ("hotline", "municipal")),
    ("去年发洪水冲坏的村道到现在还没修好", ("hotline", "transport")),
])
def test_past_event(clf, text, want):
    r = clf.classify(text)
    assert (r.route, r.agency) == want
    assert any(m.past for m in r.matched)


def test_past_then_present_is_present(clf):
    assert route(clf, "昨天开始发烧 现在叫不醒了")[0] == "medical"


def test_resolved_after_the_term(clf):
    r = clf.classify("垃圾站着火已经扑灭了 现在烧剩的垃圾堆着没人清运")
    assert (r.route, r.agency) == ("hotline", "urban_mgmt")


# -- disguised emergencies -------------------------------------------------------------------------
@pytest.mark.parametrize("text, desk", [
    ("我妈叫不醒了", "medical"),
    ("楼下一直有煤气味", "fire"),
    ("电梯卡在两层中间 我儿子还在里面", "fire"),
    ("我家老爷子早上出门到现在都没回来 到处都找不到", "police"),
    ("有人站在楼顶边上说不想活了", "police"),
    ("对方说是公安局的 让我把钱转到安全账户", "police"),
    ("山上的林子冒烟了 火越烧越大", "emergency"),
    ("整个镇都停电了 工厂全停了", "emergency"),
    ("我儿子吃了一整瓶感冒药", "medical"),
    ("有个小孩在水库边玩 掉下去了", "fire"),
    ("一个老人在公交站摔倒了 头上流血", "medical"),
    ("对门 那个 独居 的 大爷 两天 没 出门 了 敲门 没人 应 屋里 灯 一直 亮 着", "police"),
    ("后座 乘客 兜里 揣着 刀 一直 让 我 往 没人 的 地方 开", "police"),
    ("家里的煤气灶关不上了", "fire"),
])
def test_disguised_emergency(clf, text, desk):
    r = clf.classify(text)
    assert r.route == desk
    assert r.danger and r.urgency == "immediate" and r.agency is None


# -- ASR homophones (matched on pinyin) ------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("我们 这 条 街 的 路等 坏了", ("hotline", "municipal")),
    ("我们 这 栋 楼 停点 了 一下午", ("hotline", "power")),
])
def test_homophone_hotline(clf, text, want):
    r = clf.classify(text)
    assert (r.route, r.agency) == want
    assert any(m.homophone for m in r.matched)


def test_homophone_danger(clf):
    r = clf.classify("快来 饭店 后厨 着伙 了")
    assert r.route == "fire"
    assert any(m.homophone and m.term == "着火" for m in r.matched)


def test_chance_sound_alike_is_not_a_match(clf):
    # 大家 (da jia) sounds like 打架 (fighting) but shares no character with it
    r = clf.classify("我们村的路灯是大家凑钱装的 现在坏了")
    assert not r.danger
    assert r.agency == "municipal"


# -- traditional characters ------------------------------------------------------------------------
@pytest.mark.parametrize("text, want", [
    ("樓道裡著火了 全是煙", ("fire", None)),
    ("暖氣 一點 都 不熱", ("hotline", "heating")),
    ("裝修 公司 不給 開發票", ("hotline", "tax")),
])
def test_traditional(clf, text, want):
    assert route(clf, text) == want


# -- several issues in one call --------------------------------------------------------------------
def test_multi_issue_primary_and_joint(clf):
    r = clf.classify("小区里的垃圾好几天没人清运 还有门口的路灯也坏了")
    assert (r.route, r.agency) == ("hotline", "urban_mgmt")
    assert "municipal" in r.joint_agencies


def test_danger_wins_over_hotline_matters(clf):
    r = clf.classify("路灯坏了好几天了 现在楼下有人打起来了 还拿着刀")
    assert r.route == "police"
    assert "municipal" in r.joint_agencies


def test_traffic_accident_with_injury_links_medical(clf):
    r = clf.classify("路口两辆车撞了 有个人受伤了一直流血")
    assert r.route == "police"
    assert "medical" in r.linked_routes


# -- not-accepted matters ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "法院已经判了 对方一直不执行 你们帮我强制执行",
    "我要反映村干部贪污扶贫款",
    "我对行政处罚不服 想申请行政复议",
    "信访局给的答复我不满意",
    "我要举报我们单位的主任收红包",
    "离婚以后房子到底归谁 你们给个说法",
    "借钱不还 借条我都有 你们帮我去要",
])
def test_not_accepted(clf, text):
    assert route(clf, text) == ("not_accepted", None)


# -- hypothetical questions ------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "请问如果家里着火了应该怎么逃生",
    "万一燃气泄漏了应该先做什么",
])
def test_hypothetical_is_not_an_emergency(clf, text):
    r = clf.classify(text)
    assert not is_emergency(r.route)
    assert any(m.hypothetical for m in r.matched)


def test_present_danger_with_a_question_is_an_emergency(clf):
    assert route(clf, "现在屋里有很大的煤气味 我要不要开窗")[0] == "fire"


# -- scale of an outage ------------------------------------------------------------------------------
def test_one_home_outage_is_hotline(clf):
    r = clf.classify("我家停电了")
    assert (r.route, r.agency, r.urgency) == ("hotline", "power", "urgent")


# -- output contract -------------------------------------------------------------------------------
def test_explainable_output(clf):
    r = clf.classify("喂 你好 那个 路灯 坏了 三天 了")
    d = r.to_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["route"] == "hotline" and d["agency"] == "municipal"
    assert d["category"] == "公共设施" and d["subcategory"] == "路灯照明"
    assert 0.5 <= d["confidence"] <= 1
    for m in r.matched:
        assert r.normalised[m.start:m.end] == m.surface
    assert {"term", "target", "weight", "start", "end", "negated", "past"} <= set(d["matched"][0])


@pytest.mark.parametrize("text, rtype", [
    ("我要投诉出租车司机绕路", "complaint"),
    ("我要举报有人非法采砂", "report"),
    ("请问社保卡在哪里办理", "consultation"),
    ("建议公交车增设一个站点", "suggestion"),
])
def test_request_type(clf, text, rtype):
    assert clf.classify(text).request_type == rtype


def test_nothing_known_goes_to_review(clf):
    r = clf.classify("嗯 那个 我 想 说 一下 就是 那个")
    assert r.route == "review" and r.confidence == 0.0


def test_is_emergency():
    assert all(is_emergency(r) for r in ("police", "fire", "medical", "emergency"))
    assert not any(is_emergency(r) for r in ("hotline", "not_accepted", "review"))


def test_exact_words_block_sound_alikes(clf):
    # 老是 (always) must not be heard as 老师 (teacher), nor 一燃 in 万一燃气 as 易燃
    r = clf.classify("电动车充电桩老是跳闸")
    assert (r.route, r.agency) == ("hotline", "power")
    assert not any(m.homophone for m in r.matched)


def test_no_serious_harm_is_not_a_present_danger(clf):
    r = clf.classify("路面塌了一个小坑 没什么大碍 希望修一下")
    assert not is_emergency(r.route)
    assert r.route != "hotline" or r.agency == "municipal"


def test_opencc_never_turns_broken_into_adobe(clf):
    """OpenCC's t2s phrase table writes 打坏 as 打坯; config char_map brings 坏 back."""
    assert clf.normalise("路灯被打坏了") == "路灯被打坏了"
    assert clf.normalise("門被打壞了") == "门被打坏了"
