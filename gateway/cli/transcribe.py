"""``linkage transcribe FILE|DIR``, ``linkage transcribe-worker`` and ``linkage transcribe-enqueue``."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import Any

import click

import speech
from gateway.cli._common import emit_json, get_config

AUDIO_SUFFIXES = {".wav", ".sln", ".sln16", ".raw", ".flac", ".gsm", ".ulaw", ".alaw", ".mp3", ".ogg"}


def _audio_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def _load(ctx: click.Context, model_path: str | None) -> speech.Transcriber:
    config = get_config(ctx)
    try:
        model = speech.load_model(model_path or config.speech_model_path)
    except speech.ModelError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    return speech.Transcriber(model, config.gateway.speech.sample_rate)


def _group_legs(files: list[Path]) -> dict[str, dict[str, Path]]:
    """``call1-caller.wav`` + ``call1-taker.wav`` → ``{"call1": {"caller": …, "taker": …}}``."""
    calls: dict[str, dict[str, Path]] = {}
    for f in files:
        call, sep, leg = f.stem.rpartition("-")
        calls.setdefault(str(f.with_name(call if sep else f.stem)), {})[leg if sep else "mix"] = f
    return calls


@click.command("transcribe")
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write <name>.json and <name>.vtt for each transcript into this folder.")
@click.option("--merge-legs", is_flag=True,
              help="Merge NAME-caller.wav, NAME-taker.wav … into one speaker-labelled transcript per NAME.")
@click.option("--model", "model_path",
              help="Vosk model folder (default: $LINKAGE_VOSK_MODEL, speech.model_path).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document: results and summary.")
@click.pass_context
def transcribe(ctx: click.Context, target: Path, out: Path | None, merge_legs: bool, model_path: str | None,
               as_json: bool) -> None:
    """Transcribe a recording, or every recording under a folder, with a progress bar and a summary."""
    transcriber = _load(ctx, model_path)
    files = _audio_files(target)
    if merge_legs:
        jobs = list(_group_legs(files).items())
    else:
        jobs = [(str(f.with_suffix("")), {"": f}) for f in files]
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with click.progressbar(jobs, label="transcribing", file=sys.stderr, show_pos=True,
                           item_show_func=lambda j: Path(j[0]).name if j else "") as bar:
        for name, legs in bar:
            results.append(_one(transcriber, name, legs, out))
    elapsed = time.perf_counter() - started
    ok = [r for r in results if r["ok"]]
    audio = sum(r["duration"] for r in ok)
    summary = {"files": sum(len(legs) for _, legs in jobs), "transcripts": len(results), "ok": len(ok),
               "failed": len(results) - len(ok), "audio_s": round(audio, 2), "seconds": round(elapsed, 2),
               "rtf": round(elapsed / audio, 3) if audio else None, "words": sum(r["words"] for r in ok)}
    if as_json:
        emit_json({"results": results, "summary": summary})
    else:
        for r in results:
            if r["ok"]:
                click.echo(f"✓ {r['name']}  {r['duration']:.1f}s  {r['words']} words  {r['text'][:60]}")
            else:
                click.echo(f"✗ {r['name']}  {r['error']}", err=True)
        click.echo(f"{summary['ok']}/{summary['transcripts']} transcribed, {summary['failed']} failed, "
                   f"{summary['audio_s']} s of audio in {summary['seconds']} s (RTF {summary['rtf']})")
    sys.exit(1 if summary["failed"] or not results else 0)


def _one(transcriber: speech.Transcriber, name: str, legs: dict[str, Path],
         out: Path | None) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "files": [str(p) for p in legs.values()], "ok": False,
                           "duration": 0.0, "words": 0, "text": "", "error": None}
    t0 = time.perf_counter()
    try:
        if list(legs) == [""]:
            transcript = transcriber.transcribe_file(legs[""])
        else:
            transcript = speech.merge_legs({leg: transcriber.transcribe_file(p) for leg, p in legs.items()})
    except speech.SpeechError as exc:
        row["error"] = str(exc)
        return row
    row.update(ok=True, duration=transcript.duration, words=len(transcript.words), text=transcript.text,
               seconds=round(time.perf_counter() - t0, 3), transcript=transcript.to_dict())
    if out is not None:
        json_path, vtt_path = speech.write_transcript(transcript, out / Path(name).name)
        row.update(json=str(json_path), vtt=str(vtt_path))
    return row


@click.command("transcribe-worker")
@click.option("--name", help="Consumer name (default host:pid); unique per running worker.")
@click.option("--max-jobs", type=int, default=None, help="Exit after handling this many jobs.")
@click.pass_context
def transcribe_worker(ctx: click.Context, name: str | None, max_jobs: int | None) -> None:
    """Process transcription jobs from Redis until SIGTERM/SIGINT; run as many as you like."""
    from gateway.logs import setup_logging
    from gateway.redisconn import connect
    from gateway.transcripts import Worker

    setup_logging()
    config = get_config(ctx)
    try:
        worker = Worker(connect(config), config, name=name)
        worker.transcriber  # noqa: B018 - load the model now: a bad model path fails at start
    except (speech.ModelError, ValueError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    worker.run(max_jobs)


@click.command("transcribe-enqueue")
@click.argument("incident_id")
@click.option("--leg", "legs", multiple=True, metavar="SPEAKER=FILE", help="One call leg (repeat).")
@click.option("--path", "path", help="A single (mixed) recording instead of legs.")
@click.option("--job-id", help="Idempotency key (default: random).")
@click.option("--recording-id")
@click.pass_context
def transcribe_enqueue(ctx: click.Context, incident_id: str, legs: tuple[str, ...], path: str | None,
                       job_id: str | None, recording_id: str | None) -> None:
    """Queue a recording for the transcription workers; print the job id."""
    from gateway.redisconn import connect
    from gateway.transcripts import JobError, enqueue

    config = get_config(ctx)
    job: dict[str, Any] = {"incident_id": incident_id, "job_id": job_id, "recording_id": recording_id}
    if legs:
        bad = [leg for leg in legs if "=" not in leg]
        if bad:
            raise click.BadParameter(f"expected SPEAKER=FILE, got {bad[0]!r}", param_hint="--leg")
        job["legs"] = dict(leg.split("=", 1) for leg in legs)
    if path:
        job["path"] = path
    try:
        click.echo(enqueue(connect(config), {k: v for k, v in job.items() if v is not None},
                           prefix=config.redis.key_prefix))
    except JobError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.command("transcribe-dead")
@click.option("--requeue", "requeue", multiple=True, metavar="JOB_ID",
              help="Put this dead job back on the queue (repeat).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
@click.pass_context
def transcribe_dead(ctx: click.Context, requeue: tuple[str, ...], as_json: bool) -> None:
    """List dead-lettered transcription jobs with their reasons, or requeue some."""
    from gateway.redisconn import connect
    from gateway.transcripts import dead_letters, requeue_dead

    config = get_config(ctx)
    redis = connect(config)
    prefix = config.redis.key_prefix
    if requeue:
        missing = [j for j in requeue if not requeue_dead(redis, j, prefix=prefix)]
        if as_json:
            emit_json({"requeued": [j for j in requeue if j not in missing], "not_found": missing})
        for j in missing:
            click.echo(f"no dead job {j}", err=True)
        sys.exit(1 if missing else 0)
    letters = dead_letters(redis, prefix=prefix)
    if as_json:
        emit_json(letters)
        return
    for d in letters:
        job = d["job"] if isinstance(d["job"], dict) else {}
        click.echo(f"{d.get('at')}  {job.get('job_id', '?')}  incident {job.get('incident_id', '?')}  "
                   f"after {d.get('deliveries')} deliveries: {d.get('reason')}")
    click.echo(f"{len(letters)} dead-lettered job(s)")


def register(group: click.Group) -> None:
    group.add_command(transcribe)
    group.add_command(transcribe_worker)
    group.add_command(transcribe_enqueue)
    group.add_command(transcribe_dead)
