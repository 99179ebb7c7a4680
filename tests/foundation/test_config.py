import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import ConfigError, load_config


def test_shipped_config_is_valid(config):
    assert "water" in config.agency_codes()
    assert config.agencies.agencies["township"].scope == "township"
    assert config.deadlines.work_order_days["complaint"].max_extensions == 2


def test_errors_name_file_and_key(config_dir: Path):
    gw = config_dir / "gateway.yaml"
    gw.write_text(
        gw.read_text()
        .replace("port: 5038", "port: 99999")
        .replace("listen: 127.0.0.1:4573", "listen: nowhere")
    )
    ag = config_dir / "agencies.yaml"
    ag.write_text(ag.read_text().replace("level: 3, scope: county}", "level: 7, scope: county}", 1))
    with pytest.raises(ConfigError) as exc:
        load_config(gw)
    text = str(exc.value)
    assert f"{gw}: asterisk.ami.port" in text
    assert f"{gw}: asterisk.fastagi.listen" in text
    assert f"{ag}: agencies.education.level" in text


def test_unknown_key_refused(config_dir: Path):
    gw = config_dir / "gateway.yaml"
    gw.write_text(gw.read_text() + "\nredsi: {}\n")
    with pytest.raises(ConfigError, match="redsi"):
        load_config(gw)


def test_bad_yaml_points_at_line(config_dir: Path):
    gw = config_dir / "deadlines.yaml"
    gw.write_text("work_order_days: [unclosed\n")
    with pytest.raises(ConfigError, match=r"deadlines.yaml: line \d+"):
        load_config(config_dir / "gateway.yaml")


def test_cli_config_check(config_dir: Path):
    runner = CliRunner()
    ok = runner.invoke(main, ["--config", str(config_dir / "gateway.yaml"), "config", "check", "--json"])
    assert ok.exit_code == 0, ok.output
    (config_dir / "holidays.yaml").write_text("years: {2027: {holidays: 5}}\n")
    bad = runner.invoke(main, ["--config", str(config_dir / "gateway.yaml"), "config", "check"])
    assert bad.exit_code == 1
    assert "holidays.yaml: years.2027.holidays" in bad.output


def test_no_speech_model_is_a_warning_not_an_error(config_dir: Path, tmp_path: Path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(tmp_path / "nowhere"))
    res = runner.invoke(main, ["--config", str(config_dir / "gateway.yaml"), "config", "check", "--json"])
    doc = json.loads(res.output)
    assert res.exit_code == 0 and doc["ok"] and doc["errors"] == []
    [warning] = doc["warnings"]
    assert "speech.model_path" in warning and "nowhere" in warning and "110" in warning
    model = tmp_path / "model"
    for sub in ("am", "conf", "graph"):
        (model / sub).mkdir(parents=True)
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(model))
    res = runner.invoke(main, ["--config", str(config_dir / "gateway.yaml"), "config", "check", "--json"])
    assert json.loads(res.output)["warnings"] == []
