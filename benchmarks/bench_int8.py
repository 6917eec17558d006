"""int8 CPU encoder path (``--option dtype=int8``: dynamic quantisation of the Linear layers)
against float32, in one run: the bare batched forward over the Europarl-NER sentences (both
sides of en-de, layer 8, batch 32; tokenisation excluded), interleaved best-of, and Europarl-NER
projection F1 (recommended configuration) with each.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_int8.py [--repeats 2]

Writes ``benchmarks/results/int8.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch

from nerxl_data.align.encoders import WordEncoder
from nerxl_data.project.bench import LANGS, RECOMMENDED, BenchSetup, bench_europarl, load_europarl


def forward_seconds(encoder: WordEncoder, seqs: list[list[int]]) -> float:
    t0 = time.perf_counter()
    for _ in encoder.forward_batches(seqs):
        pass
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    load0 = os.getloadavg()
    en, de = load_europarl("en"), load_europarl("de")
    sents = [x["tokens"] for x in en] + [x["tokens"] for x in de]
    encoders = {}
    load_s = {}
    for dtype in ("float32", "int8"):
        t0 = time.perf_counter()
        encoders[dtype] = WordEncoder.load("e5-small", layer=8, device="cpu", dtype=dtype, batch_size=32)
        load_s[dtype] = time.perf_counter() - t0
    seqs = [s for s, _ in encoders["float32"].tokenize(sents) if s]
    best = {d: float("inf") for d in encoders}
    for _ in range(args.repeats):  # interleaved: the load drifts on a shared machine
        for d, enc in encoders.items():
            best[d] = min(best[d], forward_seconds(enc, seqs))
    # closeness of the vectors themselves (first 64 sentences)
    v32 = encoders["float32"].encode(sents[:64])
    v8 = encoders["int8"].encode(sents[:64])
    cos = [
        float(torch.nn.functional.cosine_similarity(torch.from_numpy(a.vectors), torch.from_numpy(b.vectors)).mean())
        for a, b in zip(v32, v8, strict=True) if len(a.vectors)
    ]
    del encoders
    f1 = {}
    for dtype in ("float32", "int8"):
        aligner = RECOMMENDED.aligner if dtype == "float32" else f"{RECOMMENDED.aligner}@dtype=int8"
        res = bench_europarl(BenchSetup(aligner=aligner))
        f1[dtype] = {lang: res[lang]["f1"] for lang in LANGS}
    pairs = len(en)
    speed = {d: pairs / s for d, s in best.items()}
    ratio = speed["int8"] / speed["float32"]
    diffs = {lang: f1["int8"][lang] - f1["float32"][lang] for lang in LANGS}
    ok = ratio >= 1.6 and all(abs(x) <= 0.3 for x in diffs.values())
    load1 = os.getloadavg()
    lines = [
        "# int8 CPU encoder path (dynamic quantisation) vs float32",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
        f"{os.cpu_count()} CPU cores visible, torch {torch.__version__} with {torch.get_num_threads()} threads; "
        "GPU: none lent (no GPU columns)",
        f"- load average (1 min) at start {load0[0]:.1f}, at end {load1[0]:.1f}: a shared machine; "
        "the ratio is measured in one run, interleaved",
        f"- encoder e5-small, layer 8 (blocks above it dropped), batch 32; {len(seqs)} sequences = "
        f"{pairs} en-de pairs (both sides); best of {args.repeats} interleaved passes; tokenisation excluded",
        "- int8: `torch.ao.quantization.quantize_dynamic` of every `nn.Linear` (weights int8, activations "
        "quantised per batch); embeddings and LayerNorms stay float32",
        "- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_int8.py`",
        "",
        "| dtype | load s | bare forward pairs/s | Europarl F1 de | es | it |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {d} | {load_s[d]:.1f} | {speed[d]:.1f} | " + " | ".join(f"{f1[d][lang]:.2f}" for lang in LANGS) + " |"
            for d in ("float32", "int8")
        ],
        "",
        f"int8 / float32 forward: **{ratio:.2f}x** (goal >= 1.6x); F1 difference "
        + ", ".join(f"{lang} {diffs[lang]:+.2f}" for lang in LANGS)
        + " (goal within 0.3). Mean cosine of the layer-8 subword vectors, int8 vs float32 (64 sentences): "
        f"{sum(cos) / len(cos):.4f}.",
        "",
        ("Both goals hold: int8 could be the CPU default." if ok else
         "The goals do not both hold, so float32 stays the CPU default; int8 is opt-in "
         "(`nerxl align --option dtype=int8`, `--aligner simalign-itermax@dtype=int8` in `nerxl bench europarl`)."),
        "",
        "Other int8 recipes (per-channel weights; outlier-input layers kept float32): `int8_variants.md` "
        "(`benchmarks/bench_int8_variants.py`).",
    ]
    out = Path(__file__).parent / "results" / "int8.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
