"""``linkage transcribe`` and ``linkage transcribe-enqueue`` on real files and a real Redis."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import redis as redis_lib
from click.testing import CliRunner

from gateway.cli import main
from gateway.transcripts import Keys

pytestmark = pytest.mark.slow  # real Vosk model


@pytest.fixture
def run(config_dir: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(model_dir))

    def _run(*args: str) -> object:
        return CliRunner().invoke(main, ["--config", str(config_dir / "gateway.yaml"), *args])

    return _run


def test_transcribe_dir_merges_legs_writes_files_and_reports_failures(
        run: Callable[..., object], call_legs: dict[str, Path], tmp_path: Path, model: object) -> None:
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(call_legs["caller"], calls / "c1-caller.wav")
    shutil.copy(call_legs["taker"], calls / "c1-taker.wav")
    (calls / "c2-caller.wav").write_text("not audio")
    result = run("transcribe", str(calls), "--merge-legs", "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 1, result.output  # one call failed
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["summary"] | {"seconds": 0, "rtf": 0} == {
        "files": 3, "transcripts": 2, "ok": 1, "failed": 1, "audio_s": doc["summary"]["audio_s"],
        "seconds": 0, "rtf": 0, "words": doc["summary"]["words"]}
    good, bad = doc["results"]
    assert good["ok"] and set(good["transcript"]["speakers"]) == {"caller", "taker"}
    assert "not audio that sox can read" in bad["error"]
    assert Path(good["vtt"]).read_text(encoding="utf-8").startswith("WEBVTT\n")
    assert json.loads(Path(good["json"]).read_text(encoding="utf-8")) == good["transcript"]


def test_transcribe_single_file_human_output(run: Callable[..., object], call_legs: dict[str, Path],
                                             model: object) -> None:
    result = run("transcribe", str(call_legs["caller"]))
    assert result.exit_code == 0, result.output
    assert "1/1 transcribed, 0 failed" in result.stdout and "RTF" in result.stdout


def test_missing_model_is_a_clear_error(run: Callable[..., object], call_legs: dict[str, Path],
                                        tmp_path: Path) -> None:
    result = run("transcribe", str(call_legs["caller"]), "--model", str(tmp_path / "vosk-model-cn-0.22"))
    assert result.exit_code == 2
    assert "speech model not found" in result.stderr and "vosk-model-cn-0.22" in result.stderr


def test_enqueue_command(run: Callable[..., object], redis_url: str) -> None:
    result = run("transcribe-enqueue", "inc-9", "--leg", "caller=a.wav", "--leg", "taker=b.wav",
                 "--job-id", "j9")
    assert result.exit_code == 0 and result.stdout.strip() == "j9"
    r = redis_lib.Redis.from_url(redis_url)
    [(_, fields)] = r.xrange(Keys().stream)
    assert json.loads(fields[b"job"])["legs"] == {"caller": "a.wav", "taker": "b.wav"}
    bad = run("transcribe-enqueue", "inc-9")
    assert bad.exit_code == 2 and "either legs" in bad.stderr
    r.xadd(Keys().dead, {"job": json.dumps({"job_id": "j8", "incident_id": "inc-8", "path": "gone.wav"}),
                         "reason": "AudioError: audio file not found: gone.wav", "deliveries": 1, "at": "t"})
    listed = run("transcribe-dead")
    assert "j8  incident inc-8  after 1 deliveries: AudioError: audio file not found" in listed.stdout
    assert json.loads(run("transcribe-dead", "--json").stdout)[0]["job"]["job_id"] == "j8"
    requeued = run("transcribe-dead", "--requeue", "j8", "--requeue", "j7")
    assert requeued.exit_code == 1 and "no dead job j7" in requeued.stderr
    assert r.xlen(Keys().dead) == 0 and r.xlen(Keys().stream) == 2


def test_config_check_reports_bad_hook_and_bad_model_folder(
        config_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_dir: Path) -> None:
    gw = config_dir / "gateway.yaml"
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(model_dir))
    ok = CliRunner().invoke(main, ["--config", str(gw), "config", "check", "--json"])
    assert ok.exit_code == 0, ok.output
    gw.write_text(gw.read_text(encoding="utf-8").replace('hook: ""', 'hook: "no.such.module:fn"'),
                  encoding="utf-8")
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(tmp_path))
    bad = CliRunner().invoke(main, ["--config", str(gw), "config", "check", "--json"])
    errors = json.loads(bad.stdout)["errors"]
    assert bad.exit_code == 1 and len(errors) == 2
    assert "transcripts.hook" in errors[0] and "no.such.module" in errors[0]
    assert "speech.model_path" in errors[1] and "not a Vosk model folder" in errors[1]
