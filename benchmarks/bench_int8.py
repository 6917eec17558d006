"""int8 CPU encoder path (``--option dtype=int8``: dynamic quantisation of the Linear layers)
against float32, in one run: the bare batched forward over the Europarl-NER sentences (both
sides of en-de, layer 8, batch 32; tokenisation excluded), interleaved best-of, and Europarl-NER
projection F1 (recommended configuration) with each.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_int8.py [--repeats 2]

Writes ``benchmarks/results/int8.md``.

With ``--variants``: can a different int8 recipe keep Europarl F1 within 0.3 of float32?
Writes ``benchmarks/results/int8_variants.md``. Each variant is a dynamic quantisation of
e5-small's Linear layers (torch.ao ``quantize_dynamic``):

- ``per-tensor``: the shipped ``--option dtype=int8`` (one weight scale per layer);
- ``per-channel``: one weight scale per output row;
- ``per-channel, outliers fp32``: per-channel, and the Linear layers whose input has outlier
  features (max |x| / std over calibration sentences > 100; Dettmers et al. 2022, LLM.int8())
  stay float32: dynamic quantisation scales activations per tensor, so an outlier spends the
  8 bits and the rest of the row is rounded away.

For each: the bare forward against float32 (interleaved, best of ``--repeats``), mean cosine of the
layer-8 subword vectors, and Europarl-NER projection F1 (recommended configuration; the
quantiser of ``load_encoder`` is swapped per variant, steps cached in a fresh folder).
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import tempfile
import time
from pathlib import Path

import torch
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

import nerxl_data.align.encoders as encoders
from nerxl_data.align.encoders import WordEncoder
from nerxl_data.bench import LANGS, RECOMMENDED, BenchSetup, bench_europarl, load_europarl


def forward_seconds(encoder: WordEncoder, seqs: list[list[int]]) -> float:
    t0 = time.perf_counter()
    for _ in encoder.forward_batches(seqs):
        pass
    return time.perf_counter() - t0


def europarl_en_de() -> tuple[list[dict], list[list[str]]]:
    """(English examples, English then German sentences) of Europarl-NER."""
    en, de = load_europarl("en"), load_europarl("de")
    return en, [x["tokens"] for x in en] + [x["tokens"] for x in de]


OUTLIER_RATIO = 100.0
CALIBRATION = 64  # English sentences (the first of Europarl-NER) whose Linear inputs are measured


def outlier_linears(encoder: WordEncoder, sentences) -> dict[str, float]:
    """max |x| / std of each Linear layer's input over ``sentences``, where above OUTLIER_RATIO."""
    seen: dict[str, list[torch.Tensor]] = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: seen.setdefault(n, []).append(i[0].reshape(-1, i[0].shape[-1])))
             for n, m in encoder.model.named_modules() if isinstance(m, torch.nn.Linear)]
    encoder.encode(sentences)
    for h in hooks:
        h.remove()
    ratios = {n: float(torch.cat(xs).abs().max() / torch.cat(xs).std()) for n, xs in seen.items()}
    return {n: r for n, r in ratios.items() if r > OUTLIER_RATIO}


def variants(keep: set[str]):
    def per_tensor(model):
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    def per_channel(model):
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig})

    def per_channel_keep(model):
        names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n not in keep]
        return quantize_dynamic(model, dict.fromkeys(names, per_channel_dynamic_qconfig))

    return {"per-tensor": per_tensor, "per-channel": per_channel, "per-channel, outliers fp32": per_channel_keep}


def compare_variants(repeats: int) -> None:
    """The ``--variants`` study (see the module docstring); writes results/int8_variants.md."""
    load0 = os.getloadavg()
    en, sents = europarl_en_de()
    enc = WordEncoder.load("e5-small", layer=8, device="cpu", dtype="float32", batch_size=32)
    keep = outlier_linears(enc, sents[:CALIBRATION])
    quantisers = variants(set(keep))
    models = {"float32": enc.model, **{v: q(copy.deepcopy(enc.model)) for v, q in quantisers.items()}}
    seqs = [s for s, _ in enc.tokenize(sents) if s]
    ref = enc.encode(sents[:64])
    best, cos = dict.fromkeys(models, float("inf")), {}
    for _ in range(repeats):  # interleaved: the load drifts on a shared machine
        for v, model in models.items():
            enc.model = model
            best[v] = min(best[v], forward_seconds(enc, seqs))
    for v, model in models.items():
        enc.model = model
        got = enc.encode(sents[:64])
        sims = [float(torch.nn.functional.cosine_similarity(torch.from_numpy(a.vectors), torch.from_numpy(b.vectors)).mean())
                for a, b in zip(ref, got, strict=True) if len(a.vectors)]
        cos[v] = sum(sims) / len(sims)
    del models, enc
    shipped = encoders.quantize_int8
    f1 = {"float32": bench_europarl(BenchSetup(aligner=RECOMMENDED.aligner), cache_dir=tempfile.mkdtemp())}
    try:
        for v, q in quantisers.items():
            encoders.quantize_int8 = q
            f1[v] = bench_europarl(BenchSetup(aligner=f"{RECOMMENDED.aligner}@dtype=int8"), cache_dir=tempfile.mkdtemp())
    finally:
        encoders.quantize_int8 = shipped
    speed = {v: best["float32"] / s for v, s in best.items()}
    rows = []
    for v in f1:
        d = {lang: f1[v][lang]["f1"] - f1["float32"][lang]["f1"] for lang in LANGS}
        ok = v != "float32" and speed[v] >= 1.6 and all(abs(x) <= 0.3 for x in d.values())
        rows.append(f"| {v} | {speed[v]:.2f}x | {cos[v]:.4f} | "
                    + " | ".join(f"{f1[v][lang]['f1']:.2f} ({d[lang]:+.2f})" for lang in LANGS)
                    + f" | {'yes' if ok else 'no' if v != 'float32' else ''} |")
    load1 = os.getloadavg()
    lines = [
        "# int8 recipes for the CPU encoder path",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPU cores visible, torch "
        f"{torch.__version__} with {torch.get_num_threads()} threads; load average (1 min) at start {load0[0]:.1f}, "
        f"at end {load1[0]:.1f} (shared machine: the speed ratios are from one interleaved run)",
        f"- e5-small, layer 8, batch 32; forward over {len(seqs)} sequences ({len(en)} en-de pairs, both sides), "
        f"best of {repeats}; cosine: layer-8 subword vectors against float32, first 64 sentences",
        f"- outlier inputs (max |x| / std > {OUTLIER_RATIO:.0f} over the first {CALIBRATION} English sentences), "
        "kept float32 in the last variant: "
        + (", ".join(f"`{n}` ({r:.0f})" for n, r in keep.items()) or "none"),
        "- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_int8.py --variants`",
        "",
        "| variant | forward vs float32 | cosine | Europarl F1 de (diff) | es | it | both goals (>= 1.6x, F1 within 0.3) |",
        "|---|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        "F1 moves by about 0.14 per entity (~700 per language), so differences under ~0.5 are a few entities.",
        "",
        ("Some variant meets both goals: it could become the CPU default." if any(r.endswith("| yes |") for r in rows)
         else "No variant meets both goals: float32 stays the CPU default and `dtype=int8` (per-tensor) stays opt-in."),
    ]
    out = Path(__file__).parent / "results" / "int8_variants.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--variants", action="store_true", help="compare int8 recipes (results/int8_variants.md)")
    args = ap.parse_args()
    if args.variants:
        compare_variants(args.repeats)
        return
    load0 = os.getloadavg()
    en, sents = europarl_en_de()
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
        "(`benchmarks/bench_int8.py --variants`).",
    ]
    out = Path(__file__).parent / "results" / "int8.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
