"""The lexicon is configuration: bad files are refused with the file and key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import load_config
from gateway.config.checks import run_checks
from gateway.triage import LexiconError, load_classifier
from gateway.triage.normalise import Normaliser

AGENCIES = {"water", "power", "municipal", "police_x"}

MINIMAL = {
    "scope": {"negation": ["没有"], "past": ["上次"], "hypothetical": ["如果"]},
    "request_types": {"consultation": ["请问"]},
    "danger": {"fire": {"火灾": {"terms": ["着火"]}}},
    "categories": {"公共设施": {"路灯": {"agency": "municipal", "terms": ["路灯"]}}},
}


def write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "lexicon.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def errors_of(path: Path, agencies=AGENCIES) -> list[str]:
    with pytest.raises(LexiconError) as exc:
        load_classifier(path, agencies)
    return exc.value.errors


def test_minimal_lexicon_works(tmp_path):
    clf = load_classifier(write(tmp_path, MINIMAL), AGENCIES)
    assert clf.classify("路灯坏了").agency == "municipal"
    assert clf.classify("着火了").route == "fire"


def test_bad_agency_code_refused_naming_file_and_key(tmp_path):
    data = {**MINIMAL, "categories": {"公共设施": {"路灯": {"agency": "streetlights", "terms": ["路灯"]}}}}
    path = write(tmp_path, data)
    errs = errors_of(path)
    assert len(errs) == 1
    assert errs[0].startswith(f"{path}: categories.公共设施.路灯.agency: unknown agency code 'streetlights'")


def test_duplicate_term_named_with_both_keys(tmp_path):
    data = {**MINIMAL, "categories": {"公共设施": {
        "路灯": {"agency": "municipal", "terms": ["路灯"]},
        "照明": {"agency": "power", "terms": ["路燈"]},  # the same term once simplified
    }}}
    errs = errors_of(write(tmp_path, data))
    want = "categories.公共设施.照明: duplicate term '路燈' (also in categories.公共设施.路灯)"
    assert any(want in e for e in errs)


def test_empty_classes_refused(tmp_path):
    data = {**MINIMAL,
            "danger": {"fire": {"火灾": {"terms": []}}},
            "categories": {"公共设施": {}, "市容": {"摊贩": {"agency": "municipal", "terms": ["摆摊"]}}}}
    errs = errors_of(write(tmp_path, data))
    assert any("danger.fire.火灾: empty class: no terms" in e for e in errs)
    assert any("categories.公共设施: empty class: no sub-categories" in e for e in errs)


def test_unknown_route_and_link_refused(tmp_path):
    data = {**MINIMAL, "danger": {"ambulance": {"x": {"terms": ["晕倒"]}},
                                  "fire": {"火灾": {"terms": ["着火"], "links": ["rescue"]}}}}
    errs = errors_of(write(tmp_path, data))
    assert any("danger.ambulance: unknown route" in e for e in errs)
    assert any("danger.fire.火灾.links: unknown route 'rescue'" in e for e in errs)


def test_bad_yaml_and_missing_file(tmp_path):
    p = tmp_path / "lexicon.yaml"
    p.write_text("danger: [unclosed\n", encoding="utf-8")
    assert "invalid YAML" in errors_of(p)[0]
    assert "file not found" in errors_of(tmp_path / "nope.yaml")[0]


def test_shipped_lexicon_passes_config_check(config):
    assert run_checks(config) == []


def test_config_check_names_bad_agency_in_lexicon(config_dir: Path):
    lex = config_dir / "lexicon.yaml"
    text = lex.read_text(encoding="utf-8")
    lex.write_text(text.replace("agency: municipal", "agency: streetlight_dept", 1), encoding="utf-8")
    errs = run_checks(load_config(config_dir / "gateway.yaml"))
    assert errs and all(str(lex) in e for e in errs)
    assert "categories.公共设施.路灯照明.agency: unknown agency code 'streetlight_dept'" in errs[0]
    result = CliRunner().invoke(main, ["--config", str(config_dir / "gateway.yaml"), "config", "check"])
    assert result.exit_code == 1
    assert "streetlight_dept" in result.output


def test_normaliser():
    n = Normaliser(["嗯", "啊", "那个"])
    assert n.text("嗯 那个 樓道燈 壞了 啊！") == "楼道灯坏了"
    assert n.pinyin_key("路等") == n.pinyin_key("路灯")
    assert n.pinyin_key("停点") == n.pinyin_key("停电")
    assert n.pinyin_key("路灯") != n.pinyin_key("路口")
    assert len(n.pinyin_key("abc路灯")) == 5
