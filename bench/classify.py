"""Benchmark the offline triage classifier on one core.

Measures what ``linkage run`` loads: the lexicon with the safety net behind it (and, beside it,
the keyword stage alone). Prints a table for people and, as its last line, one JSON object with
``utterances_per_s`` (per CPU second of one thread, i.e. one core), ``p99_ms`` (CPU time per
utterance), ``p50_ms``,
``load_ms``, ``compiled`` (whether the Cython-compiled triage modules are the ones imported),
wall-clock figures, a calibration figure of the machine, and a naive reference (a
Python loop testing every lexicon term with ``in``, matching only) beside the Aho-Corasick
classifier.

    PYTHONPATH=. python bench/classify.py [--seconds 2] [--corpus ../shared/eval/dev.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from gateway.config import load_config
from gateway.triage import Classifier, compiled_modules

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "gateway.yaml"  # what `linkage run` loads: lexicon and safety net

# Used when no corpus file is at hand: general examples in the style of recogniser output.
FALLBACK = [
    "喂 你好 我们 小区 门口 的 路灯 坏了 好几天 了",
    "楼下 一直 有 煤气味 好 大 的 味道",
    "我妈 叫不醒 了 怎么 办",
    "隔壁 工地 半夜 还在 施工 吵 得 睡不着",
    "上次 着火 的 楼道 灯 到 现在 还 没 修",
    "公司 拖欠 工资 三个 月 了 老板 不见 人",
    "暖氣 一點 都 不熱 打 電話 也 沒人 管",
    "如果 家里 着火 了 应该 先 打 哪个 电话",
    "我 想 起诉 开发商 你们 帮 我 立案",
    "出租车 司机 绕路 还 不 打表",
]


def _corpus(path: str | None) -> list[str]:
    default = [ROOT.parent / "shared/eval/dev.jsonl", Path("/work/shared/eval/dev.jsonl")]
    candidates = [Path(path)] if path else default
    for p in candidates:
        if p.is_file():
            with p.open(encoding="utf-8") as fh:
                return [json.loads(line)["text"] for line in fh if line.strip()]
    return FALLBACK


def _rate(classify, texts: list[str], seconds: float) -> tuple[float, float]:
    """Whole passes over ``texts`` until ``seconds`` are spent: (per CPU second, per wall second)."""
    n = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - w0 < seconds:
        for t in texts:
            classify(t)
        n += len(texts)
    return n / (time.thread_time() - c0), n / (time.perf_counter() - w0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=2.0, help="time budget of the throughput run")
    ap.add_argument("--corpus", default=None, help="JSON lines with a text field")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        clf = Classifier.from_config(load_config(CONFIG))
        loads.append((time.perf_counter() - t0) * 1000)
    load_ms = statistics.median(loads)
    texts = _corpus(args.corpus)
    for t in texts:  # warm-up
        clf.classify(t)

    # Throughput: whole passes over the corpus until the budget is spent. The rate per second of
    # this thread's CPU time is the rate of one core; the wall-clock rate is shown beside it (on a
    # shared machine it also counts time the scheduler gave to other processes).
    per_s, per_s_wall = _rate(clf.classify, texts, args.seconds)
    # The keyword stage alone (what the safety net costs is the difference), same budget.
    lexicon_per_s, _ = _rate(getattr(clf, "classifier", clf).classify, texts, args.seconds)

    # Latency: each call timed on its own, in thread CPU time and in wall time.
    cpu, wall = [], []
    for _ in range(3):
        for t in texts:
            c, w = time.thread_time_ns(), time.perf_counter_ns()
            clf.classify(t)
            wall.append((time.perf_counter_ns() - w) / 1e6)
            cpu.append((time.thread_time_ns() - c) / 1e6)

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * q))]

    p50, p99, p99_wall = pct(cpu, 0.5), pct(cpu, 0.99), pct(wall, 0.99)

    # Reference: a loop over every normalised term (what the automaton replaces), matching only.
    norm = clf.normalise
    terms = sorted({norm(t) for g in clf.lexicon.groups for t in g.terms})
    normed = [norm(t) for t in texts]
    m = 0
    w0, c0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - w0 < min(1.0, args.seconds):
        for t in normed:
            [w for w in terms if w in t]
        m += len(normed)
    naive_per_s = m / (time.thread_time() - c0)

    # Calibration: this machine's speed at plain Python, to compare runs on other machines
    # (about 10 ms on an idle current desktop core).
    c0 = time.thread_time()
    for _ in range(5):
        sum(range(1_000_000))
    calib_ms = (time.thread_time() - c0) / 5 * 1000

    built = compiled_modules()
    compiled = all(built.values())
    figures = {
        "utterances_per_s": round(per_s),
        "compiled": compiled,
        "p50_ms": round(p50, 4),
        "p99_ms": round(p99, 4),
        "p99_wall_ms": round(p99_wall, 4),
        "utterances_per_s_wall": round(per_s_wall),
        "lexicon_only_utterances_per_s": round(lexicon_per_s),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "calib_sum_range_1e6_ms": round(calib_ms, 1),
        "load_ms": round(load_ms, 1),
        "corpus": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "terms": clf.terms,
        "naive_loop_match_only_per_s": round(naive_per_s),
    }
    print(f"{'measure':34}{'value':>14}")
    shown = "yes" if compiled else ("partly" if any(built.values()) else "no (plain Python)")
    print(f"{'compiled triage modules (Cython)':34}{shown:>14}")
    print(f"{'lexicon load (median of 3)':34}{load_ms:>12.1f}ms")
    print(f"{'terms and cues in the automaton':34}{clf.terms:>14}")
    print(f"{'corpus utterances / mean chars':34}{len(texts):>8} / {figures['mean_chars']:<5}")
    print(f"{'classify, utterances per CPU second':34}{per_s:>14,.0f}")
    print(f"{'classify, utterances per wall second':34}{per_s_wall:>14,.0f}")
    print(f"{'keywords alone (no safety net) /s':34}{lexicon_per_s:>14,.0f}")
    print(f"{'classify p50 latency (CPU)':34}{p50:>12.4f}ms")
    print(f"{'classify p99 latency (CPU)':34}{p99:>12.4f}ms")
    print(f"{'classify p99 latency (wall)':34}{p99_wall:>12.4f}ms")
    print(f"{'load average (1 min)':34}{figures['loadavg_1m']:>14}")
    print(f"{'calibration sum(range(1e6))':34}{calib_ms:>12.1f}ms")
    print(f"{'naive term loop (match only) /s':34}{naive_per_s:>14,.0f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
