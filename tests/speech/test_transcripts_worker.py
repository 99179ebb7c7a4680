"""Transcription jobs on a real Redis: archive written once, retries, dead letters, takeover."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import yaml

import speech
from gateway.config import Config, load_config
from gateway.transcripts import JobError, Keys, TranscriptArchive, Worker, dead_letters, enqueue, requeue_dead

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real Vosk model
KEYS = Keys("linkage")


def tuned_config(config_dir: Path, **redis_keys: int) -> Config:
    """The test's config copy with short claim times (``redis.*``) and a short poll block."""
    gw = config_dir / "gateway.yaml"
    data = yaml.safe_load(gw.read_text(encoding="utf-8"))
    data["redis"].update(redis_keys)
    data["transcripts"]["block_ms"] = 100
    gw.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(gw)


@pytest.fixture
def cfg(config_dir: Path, redis_url: str) -> Config:
    return tuned_config(config_dir, claim_idle_ms=300, max_deliveries=3)


@pytest.fixture
def r(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


class CountingTranscriber:
    """The shared real transcriber, counting the files it is asked to transcribe."""

    calls = 0

    def __init__(self, inner: speech.Transcriber):
        self.inner = inner

    def transcribe_file(self, path: Any, speaker: str | None = None) -> speech.Transcript:
        type(self).calls += 1
        return self.inner.transcribe_file(path, speaker)


def rows(cfg: Config) -> tuple[list[tuple], list[tuple]]:
    if not cfg.archive_path.exists():
        return [], []
    with sqlite3.connect(cfg.archive_path) as db:
        return (db.execute("SELECT transcript_id, incident_id, recording_id, text, segments FROM transcripts")
                .fetchall(), db.execute("SELECT transcript_id, text FROM transcripts_fts").fetchall())


def dead(r: redis_lib.Redis) -> list[dict[str, str]]:
    return [{k.decode(): v.decode() for k, v in f.items()} for _, f in r.xrange(KEYS.dead)]


def test_enqueue_validates_and_dedupes(r: redis_lib.Redis) -> None:
    for bad, why in [({}, "incident_id"), ({"incident_id": "i1"}, "either legs"),
                     ({"incident_id": "i1", "legs": {"caller": ""}}, "legs must map"),
                     ({"incident_id": "i1", "path": "a.wav", "legs": {"a": "b"}}, "not both")]:
        with pytest.raises(JobError, match=why):
            enqueue(r, bad)
    job = {"incident_id": "i1", "path": "a.wav", "job_id": "tx-i1"}
    assert enqueue(r, job) == enqueue(r, job) == "tx-i1"
    assert r.xlen(KEYS.stream) == 1
    assert enqueue(r, job, force=True) == "tx-i1" and r.xlen(KEYS.stream) == 2
    assert len(enqueue(r, {"incident_id": "i2", "path": "b.wav"})) == 32


def test_job_transcribed_merged_archived_and_hooked_once(
        r: redis_lib.Redis, cfg: Config, transcriber: speech.Transcriber, call_legs: dict[str, Path]) -> None:
    calls: list[tuple[dict, dict]] = []
    worker = Worker(r, cfg, lambda job, t: calls.append((job, t)), name="w1", transcriber=transcriber)
    job_id = enqueue(r, {"incident_id": "inc-1", "recording_id": "rec-1", "overflow": True,
                         "legs": {"caller": str(call_legs["caller"]), "taker": str(call_legs["taker"])}})
    assert worker.poll(0) and not worker.poll(0)
    [(tid, incident, rec, text, segments)], fts = rows(cfg)
    assert (tid, incident, rec) == (job_id, "inc-1", "rec-1")
    doc = json.loads(segments)
    assert doc["speakers"] == ["caller", "taker"]
    assert {w["speaker"] for w in doc["words"]} == {"caller", "taker"}
    assert text == doc["text"] and fts == [(job_id, text)]
    # Full-text (trigram) search over the archive finds it by any three consecutive characters.
    archive = TranscriptArchive(cfg.archive_path)
    assert archive.search(text[-3:]) == [job_id] and archive.search("없는말") == []
    [(hook_job, hook_doc)] = calls
    assert hook_job["overflow"] is True and hook_job["transcript_id"] == job_id and hook_doc == doc
    status = r.hgetall(KEYS.job(job_id))
    assert status[b"status"] == b"done" and status[b"worker"] == b"w1"
    assert r.xlen(KEYS.stream) == 0 and r.xpending(KEYS.stream, "transcribers")["pending"] == 0
    # The same job again (a duplicate delivery) writes nothing new.
    enqueue(r, {"incident_id": "inc-1", "path": str(call_legs["caller"]), "job_id": job_id}, force=True)
    assert worker.poll(0)
    assert len(rows(cfg)[0]) == 1 and len(rows(cfg)[1]) == 1 and len(calls) == 2


def test_failed_hook_is_retried_without_transcribing_or_writing_again(
        r: redis_lib.Redis, cfg: Config, transcriber: speech.Transcriber, call_legs: dict[str, Path]) -> None:
    attempts: list[str] = []

    def flaky(job: dict, transcript: dict) -> None:
        attempts.append(job["job_id"])
        if len(attempts) == 1:
            raise RuntimeError("triage unavailable")

    CountingTranscriber.calls = 0
    a = Worker(r, cfg, flaky, name="a", transcriber=CountingTranscriber(transcriber))  # type: ignore[arg-type]
    b = Worker(r, cfg, flaky, name="b", transcriber=CountingTranscriber(transcriber))  # type: ignore[arg-type]
    job_id = enqueue(r, {"incident_id": "inc-2", "path": str(call_legs["caller"])})
    assert a.poll(0)
    assert r.hget(KEYS.job(job_id), "status") == b"retrying"
    assert b"triage unavailable" in r.hget(KEYS.job(job_id), "error")
    assert len(rows(cfg)[0]) == 1 and CountingTranscriber.calls == 1
    assert not b.poll(0)                      # not idle long enough to take over yet
    time.sleep(0.4)
    assert b.poll(0)                          # taken over after claim_idle_ms
    assert attempts == [job_id, job_id] and CountingTranscriber.calls == 1
    assert r.hget(KEYS.job(job_id), "status") == b"done" and r.hget(KEYS.job(job_id), "deliveries") == b"2"
    assert len(rows(cfg)[0]) == 1 and len(rows(cfg)[1]) == 1


def test_bad_audio_is_dead_lettered_at_once_with_the_reason(
        r: redis_lib.Redis, cfg: Config, transcriber: speech.Transcriber, call_legs: dict[str, Path]) -> None:
    worker = Worker(r, cfg, name="w", transcriber=transcriber)
    (cfg.recordings_dir).mkdir(parents=True, exist_ok=True)
    (cfg.recordings_dir / "empty.wav").touch()
    missing = enqueue(r, {"incident_id": "inc-3", "path": "nowhere.wav"})
    empty = enqueue(r, {"incident_id": "inc-4", "path": "empty.wav"})
    r.xadd(KEYS.stream, {"job": "{not json"})
    assert worker.poll(0) and worker.poll(0) and worker.poll(0)
    letters = dead(r)
    assert [json.loads(d["job"]).get("job_id") for d in letters] == [missing, empty, None]
    assert "audio file not found" in letters[0]["reason"] and str(cfg.recordings_dir) in letters[0]["reason"]
    assert "is empty" in letters[1]["reason"] and letters[2]["reason"].startswith("malformed job")
    assert r.hget(KEYS.job(missing), "status") == b"dead"
    assert r.xlen(KEYS.stream) == 0 and rows(cfg) == ([], [])
    # Once the recording is there, the operator puts the job back and it goes through.
    shutil.copy(call_legs["taker"], cfg.recordings_dir / "nowhere.wav")
    assert requeue_dead(r, missing) and not requeue_dead(r, "no-such-job")
    assert [d["job"].get("job_id") for d in dead_letters(r)] == [empty, None]
    assert worker.poll(0) and r.hget(KEYS.job(missing), "status") == b"done" and len(rows(cfg)[0]) == 1


def test_failing_job_is_retried_then_dead_lettered(
        r: redis_lib.Redis, cfg: Config, transcriber: speech.Transcriber, call_legs: dict[str, Path]) -> None:
    def broken(job: dict, transcript: dict) -> None:
        raise ConnectionError("ticket service down")

    worker = Worker(r, cfg, broken, name="w", transcriber=transcriber)
    job_id = enqueue(r, {"incident_id": "inc-5", "path": str(call_legs["taker"])})
    outcomes = []
    for _ in range(3):
        deadline = time.monotonic() + 5
        while not worker.poll(0):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        outcomes.append(r.hget(KEYS.job(job_id), "status"))
    assert outcomes == [b"retrying", b"retrying", b"dead"]
    [letter] = dead(r)
    assert letter["reason"] == "ConnectionError: ticket service down" and letter["deliveries"] == "3"
    assert len(rows(cfg)[0]) == 1           # the transcript itself was archived once


@pytest.fixture
def long_call(make_audio: Callable[..., Path], audio_dir: Path) -> Path:
    path = audio_dir / "long-call.wav"
    if not path.exists():
        text = " ".join(["안녕하세요 불이 났어요 빨리 와 주세요 가스 냄새 나요 상담원 연결"] * 2)
        make_audio(text, path, pad=(0.2, 0.2))
    return path


def start_worker(cfg: Config, name: str, model_dir: Path, redis_url: str, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url,
           "LINKAGE_VOSK_MODEL": str(model_dir), "LINKAGE_LOG_LEVEL": "INFO"}
    cmd = [sys.executable, "-m", "gateway", "--config", str(cfg.config_dir / "gateway.yaml"),
           "transcribe-worker", "--name", name]
    return subprocess.Popen(cmd, env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_killed_mid_job_is_taken_over_and_written_once(
        r: redis_lib.Redis, config_dir: Path, redis_url: str, model_dir: Path, long_call: Path,
        tmp_path: Path) -> None:
    cfg = tuned_config(config_dir, claim_idle_ms=1000, max_deliveries=3)
    job_id = enqueue(r, {"incident_id": "inc-kill", "path": str(long_call), "job_id": "tx-kill"})
    a = start_worker(cfg, "A", model_dir, redis_url, tmp_path / "a.log")
    b = None
    try:
        wait_for(lambda: r.hget(KEYS.job(job_id), "worker") == b"A"
                 and r.hget(KEYS.job(job_id), "status") == b"processing", 60, "worker A to start the job")
        time.sleep(0.3)  # well inside the transcription (several seconds of audio)
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        assert rows(cfg)[0] == [], "worker A finished before it was killed: the test proves nothing"
        assert r.xpending(KEYS.stream, "transcribers")["pending"] == 1
        b = start_worker(cfg, "B", model_dir, redis_url, tmp_path / "b.log")
        wait_for(lambda: r.hget(KEYS.job(job_id), "status") == b"done", 90, "worker B to finish the job")
        status = {k.decode(): v.decode() for k, v in r.hgetall(KEYS.job(job_id)).items()}
        assert status["worker"] == "B" and status["deliveries"] == "2"
        transcripts, fts = rows(cfg)
        assert [t[0] for t in transcripts] == ["tx-kill"] and [f[0] for f in fts] == ["tx-kill"]
        assert json.loads(transcripts[0][4])["words"]
        assert r.xlen(KEYS.stream) == 0 and dead(r) == []
        assert "taken over" in (tmp_path / "b.log").read_text()
        b.send_signal(signal.SIGTERM)
        assert b.wait(15) == 0
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def _race(a: Worker, b: Worker, r: redis_lib.Redis, job_id: str) -> list[str]:
    """A handles the job in a thread while B keeps polling; return what B handled."""
    import threading

    msg = a._read(0)
    assert msg is not None
    t = threading.Thread(target=a.handle, args=msg)
    t.start()
    taken: list[str] = []
    while t.is_alive():
        if b.poll(0):
            taken.append(r.hget(KEYS.job(job_id), "worker").decode())
        time.sleep(0.05)
    t.join()
    return taken


def test_running_job_renews_its_claim_so_no_one_takes_it_over(
        r: redis_lib.Redis, config_dir: Path, redis_url: str, model: speech.Model, long_call: Path,
        transcriber: speech.Transcriber) -> None:
    cfg = tuned_config(config_dir, claim_idle_ms=600)
    a = Worker(r, cfg, name="a", transcriber=transcriber)
    b = Worker(r, cfg, name="b", transcriber=speech.Transcriber(model))  # never gets to transcribe
    job_id = enqueue(r, {"incident_id": "inc-hb", "path": str(long_call)})
    started = time.monotonic()
    assert _race(a, b, r, job_id) == []
    assert time.monotonic() - started > 2 * cfg.redis.claim_idle_ms / 1000  # outlived several idle periods
    assert r.hget(KEYS.job(job_id), "status") == b"done" and r.hget(KEYS.job(job_id), "deliveries") == b"1"


def test_stuck_job_past_its_timeout_is_taken_over_and_still_written_once(
        r: redis_lib.Redis, config_dir: Path, redis_url: str, model: speech.Model,
        call_legs: dict[str, Path], transcriber: speech.Transcriber) -> None:
    gw = config_dir / "gateway.yaml"
    data = yaml.safe_load(gw.read_text(encoding="utf-8"))
    data["redis"]["claim_idle_ms"] = 300
    data["transcripts"]["job_timeout_s"] = 0.1
    gw.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(gw)
    a = Worker(r, cfg, name="a", transcriber=transcriber)
    b = Worker(r, cfg, name="b", transcriber=speech.Transcriber(model))
    job_id = enqueue(r, {"incident_id": "inc-stuck", "path": str(call_legs["caller"])})
    assert _race(a, b, r, job_id) == ["b"]
    transcripts, fts = rows(cfg)
    assert [t[0] for t in transcripts] == [job_id] and len(fts) == 1
    assert r.hget(KEYS.job(job_id), "status") == b"done"


def test_worker_rides_out_a_redis_outage(own_redis: Any, config_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         transcriber: speech.Transcriber, call_legs: dict[str, Path]) -> None:
    import threading

    monkeypatch.setenv("REDIS_URL", own_redis.url)
    cfg = tuned_config(config_dir, claim_idle_ms=500)
    client = redis_lib.Redis.from_url(own_redis.url)
    done: list[str] = []
    worker = Worker(client, cfg, lambda job, t: done.append(job["job_id"]), name="w", transcriber=transcriber)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        own_redis.stop()          # no persistence: Redis comes back empty, without the consumer group
        time.sleep(1.0)
        assert thread.is_alive()
        own_redis.start()
        job_id = enqueue(client, {"incident_id": "inc-outage", "path": str(call_legs["taker"])})
        wait_for(lambda: done, 30, "the job queued after the outage")
        assert done == [job_id] and len(rows(cfg)[0]) == 1
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_idle_consumers_without_pending_jobs_are_forgotten(r: redis_lib.Redis, cfg: Config,
                                                           transcriber: speech.Transcriber) -> None:
    worker = Worker(r, cfg, name="current", transcriber=transcriber)
    for ghost in ("host:1", "host:2", "host:3"):
        enqueue(r, {"incident_id": "i", "path": "x.wav"})
        [[_, [(msg_id, _)]]] = r.xreadgroup("transcribers", ghost, {KEYS.stream: ">"}, count=1)
        if ghost != "host:3":                 # host:1 and host:2 finished their jobs and went away;
            r.xack(KEYS.stream, "transcribers", msg_id)   # host:3 died holding one
    time.sleep(0.05)
    assert sorted(worker.forget_idle_consumers(min_idle_ms=20)) == ["host:1", "host:2"]
    assert [_name(c) for c in r.xinfo_consumers(KEYS.stream, "transcribers")] == ["host:3"]


def _name(consumer: dict) -> str:
    name = consumer["name"]
    return name.decode() if isinstance(name, bytes) else name
