"""Europarl-NER builds end to end (en -> de, es, it; e5-small; every link-based projection
method), first run vs cached rerun, written to benchmarks/results/build.md.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_build.py [--limit N]

The alignments are computed once per language (first method) and reused from the step cache by
the other methods, which is also how the default method (best F1 here) was chosen.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import datasets
import torch

from nerxl_data.builders.base import BuildOptions
from nerxl_data.builders.europarl_ner import EuroparlNer
from nerxl_data.pipeline import RunReport

METHODS = ("heuristic-e5small", "hull-e5small", "candidates-ngram-e5small")
OUT = Path(__file__).parent / "results" / "build.md"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--langs", default="de,es,it")
    a = p.parse_args()
    torch.set_num_threads(1)
    datasets.disable_progress_bars()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in a.langs.split(","):
            for method in METHODS:
                opts = BuildOptions(lang, method, limit=a.limit, cache_dir=f"{tmp}/cache")
                report = RunReport()
                t = time.perf_counter()
                _, info = EuroparlNer().build(opts, f"{tmp}/out", run_report=report)
                first = time.perf_counter() - t
                t = time.perf_counter()
                again = RunReport()
                EuroparlNer().build(opts, f"{tmp}/out", run_report=again)
                rerun = time.perf_counter() - t
                s = info.splits["train"]
                rows.append((lang, method, s.sentences, 100 * info.score["train F1"],
                             100 * s.projection_rate, first, report.format(), rerun, again.format()))
                print(rows[-1], flush=True)
    lines = [
        "# Europarl-NER builds (en -> de, es, it)",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.machine()}, "
        f"{os.cpu_count()} CPUs (shared), torch threads 1, CPU only",
        f"- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_build.py"
        f"{f' --limit {a.limit}' if a.limit else ''}`",
        "- translator `parallel` (Europarl's own target side), aligner simalign-argmax on e5-small "
        "(layer 8); F1 = projected target entities vs the target's gold (exact span and type, micro)",
        "- 'first run' of a later method reuses the cached alignments of the first (cache per step)",
        "",
        "| lang | method | sentences | projection F1 | projection rate % | first run s | steps | cached rerun s | steps |",
        "|---|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.1f} | {r[6]} | {r[7]:.2f} | {r[8]} |")
    best = {}
    for r in rows:
        best.setdefault(r[1], []).append(r[3])
    lines += ["", "Mean F1 over languages: " + ", ".join(
        f"{m} {sum(v) / len(v):.1f}" for m, v in sorted(best.items(), key=lambda kv: -sum(kv[1])))]
    OUT.write_text("\n".join(lines) + "\n")
    print(OUT.read_text())


if __name__ == "__main__":
    main()
