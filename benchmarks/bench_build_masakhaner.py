"""Offline MasakhaNER 2.0 silver builds (LAFAND parallel text, spaCy source tagger, e5-small
itermax links, candidates-ngram projection: the builder defaults), one language after another,
written to benchmarks/results/build.md after each language (a stopped run keeps its rows).
Rows of languages a run does not build are kept from the file (each row states its run and
cap), so languages can be added in later, shorter runs.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_build_masakhaner.py \
        [--langs hau,yor,swa,ewe] [--limit 2000] [--out DIR]

Per language: pivot and tagger, silver sentences, entities per type and per 100 tokens,
projection rate, entities not projected by reason, tagger entities dropped by type, the gold
validation/test sizes, and wall time (first run; the step cache is in DIR/.cache).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import datasets
import torch

from nerxl_data.builders.base import DEFAULT_METHOD, BuildOptions
from nerxl_data.builders.masakhaner2 import BUILDER
from nerxl_data.errors import NerxlError

OUT = Path(__file__).parent / "results" / "build.md"


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def _old_rows() -> dict[str, str]:
    """Rows already in the results file, by language (kept when a run does not rebuild them)."""
    if not OUT.is_file():
        return {}
    rows = [ln for ln in OUT.read_text(encoding="utf-8").splitlines() if ln.startswith("| ") and
            not ln.startswith("| lang ") and ln.count("|") >= 14]
    return {ln.split("|")[1].strip(): ln for ln in rows}


def write(rows: dict[str, str], args, started: str) -> None:
    head = [
        "# Offline MasakhaNER 2.0 builds (LAFAND parallel text)",
        "",
        f"- {platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs: wall times are upper "
        f"bounds), torch threads {torch.get_num_threads()}, CPU only; each row names its run (UTC) and cap",
        "- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_build_masakhaner.py "
        "--langs L1,L2 --limit N` (a first run of the whole build: fresh step cache)",
        f"- method `{DEFAULT_METHOD}` (the Europarl-best default); the first N LAFAND train pairs (dev + test pairs where LAFAND ships no train split: kin, nya, sna); the pivot side tagged by "
        "the pivot's default spaCy pipeline (OntoNotes PERSON/GPE/FAC renamed; types outside "
        "PER/ORG/LOC/DATE dropped and counted); gold `validation`/`test` are MasakhaNER 2.0's dev/test",
        "- density = silver entities per 100 target tokens (compare: the gold test's)",
        "",
        "| lang | pivot | silver sentences | entities | density | gold test density | projection rate % | not projected | tagger types dropped | skipped pairs | gold val / test | wall s | run, cap |",
        "|---|---|---:|---|---:|---:|---:|---|---|---:|---|---:|---|",
    ]
    OUT.write_text("\n".join(head + list(rows.values())) + "\n", encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--langs", default="hau,yor,swa,ewe")
    p.add_argument("--limit", type=int, default=2000)
    p.add_argument("--out", default="build/masakhaner2-bench")
    args = p.parse_args()
    datasets.disable_progress_bars()
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows = _old_rows()
    out = Path(args.out)
    tag = f"{started[:16]}, {args.limit or 'all'}"
    for lang in args.langs.split(","):
        t0 = time.time()
        try:
            dd, info = BUILDER.build(BuildOptions(lang, limit=args.limit or None, cache_dir=str(out / ".cache")), out)
        except NerxlError as exc:
            rows[lang] = f"| {lang} | - | - | {str(exc).splitlines()[0][:120]} | | | | | | | | | {tag} |"
            write(rows, args, started)
            continue
        wall = time.time() - t0
        s = info.splits["train"]
        tokens = sum(len(t) for t in dd["train"]["tokens"])
        gold_tokens = sum(len(t) for t in dd["test"]["tokens"])
        density = 100 * sum(s.entities.values()) / max(tokens, 1)
        gold_density = 100 * sum(info.splits["test"].entities.values()) / max(gold_tokens, 1)
        rate = f"{100 * s.projection_rate:.1f}" if s.projection_rate is not None else "n/a"
        rows[lang] = (
            f"| {lang} | {info.source_language} | {s.sentences} | {_fmt(s.entities)} | {density:.1f} | "
            f"{gold_density:.1f} | {rate} ({s.projected_entities}/{s.source_entities}) | {_fmt(s.dropped)} | "
            f"{_fmt(s.tagger_dropped)} | {sum(s.skipped_sentences.values())} | "
            f"{info.splits['validation'].sentences} / {info.splits['test'].sentences} | {wall:.0f} | {tag} |"
        )
        write(rows, args, started)
        print(rows[lang], flush=True)


if __name__ == "__main__":
    main()
