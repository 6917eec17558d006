"""Translation throughput: batched+sorted vs one-by-one, and cache replay vs fresh.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_translate.py            # CPU, tiny model
    NERXL_DATA_DIR=../shared/data python benchmarks/bench_translate.py --nllb-600m  # GPU if present

The model is built in a temporary folder with random weights (no Hub): the tiny NLLB-architecture
model of the tests (d_model 32, 2+2 layers), or with ``--nllb-600m`` the sizes of
``facebook/nllb-200-distilled-600M`` (d_model 1024, 12+12 layers, 16 heads, FFN 4096, vocabulary
256,206). Output length is fixed (``min_new_tokens = max_new_tokens``) so random weights do not
make runs differ in length. Sentences are Europarl-NER English (799, real lengths), greedy.

- one-by-one: ``batch_size=1``, one ``translate_batch`` call per sentence;
- batched+sorted: ``batch_size=32`` (64 on GPU), sorted by length, one call (and unsorted);
- fresh: batched+sorted with an empty SQLite cache (includes the commits);
- replay: the same sentences again from a new translator over that cache (no model call).
Model loading is excluded from every timing. Appends/replaces a section of
benchmarks/results/translate.md (machine and date included).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "translate.md"

NLLB_600M = dict(
    d_model=1024,
    layers=12,
    encoder_attention_heads=16,
    decoder_attention_heads=16,
    encoder_ffn_dim=4096,
    decoder_ffn_dim=4096,
    vocab_size_model=256206,
    max_position_embeddings=1024,
    init_std=0.02,
)


def europarl(data_dir: Path) -> list[str]:
    sents, cur = [], []
    for line in (data_dir / "europarl-ner" / "en.conll").read_text(encoding="utf-8").splitlines():
        if line.strip():
            cur.append(line.split("\t")[0])
        elif cur:
            sents.append(" ".join(cur))
            cur = []
    return sents + ([" ".join(cur)] if cur else [])


def write_section(path: Path, title: str, section: str, header: str) -> None:
    """Replace this configuration's section of ``path`` (matched by ``title``), keep the others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else header
    pattern = re.compile(re.escape(title) + r"\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: section.rstrip("\n"), old)
    else:
        new = old.rstrip("\n") + "\n\n" + section
    path.write_text(new.rstrip("\n") + "\n", encoding="utf-8")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def compare_ct2(model: Path, texts: list[str], opts: dict, batch: int, args, tmp: str) -> None:
    """ctranslate2 vs hf on the same model and sentences (issue 8): a section of scale.md."""
    import torch

    from nerxl_data.translate import get_translator

    rows = []
    with get_translator("hf", str(model), batch_size=batch, **opts) as t:
        t.translate_batch(texts[:batch], "en", "de")  # warm-up
        hf_out, hf_s = timed(lambda: t.translate_batch(texts, "en", "de"))
        device = t.device
        rows.append(("hf", t.dtype, hf_s))
    same = {}
    for compute in ("default", "int8"):
        with get_translator(
            "ctranslate2", str(model), batch_size=batch, compute_type=compute,
            converted_dir=str(Path(tmp) / "ct2"), threads=args.threads, **opts,
        ) as t:  # fmt: skip
            t.translate_batch(texts[:batch], "en", "de")  # warm-up
            out, sec = timed(lambda t=t: t.translate_batch(texts, "en", "de"))
            rows.append((f"ctranslate2 {compute}", t.model.compute_type, sec))
            same[compute] = sum(a == b for a, b in zip(out, hf_out, strict=True))
    n = len(texts)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    name = "NLLB-600M architecture" if args.nllb_600m else "tiny NLLB (d_model 32, 2+2 layers)"
    title = f"## ctranslate2 vs hf: {name}, random, on {device}"
    table = "\n".join(
        f"| {backend} | {ctype} | {sec:.2f} | {n / sec:.1f} | {n / sec / (n / hf_s):.2f}x |"
        for backend, ctype, sec in rows
    )
    section = f"""{title}

{when}; {os.cpu_count()} CPUs (threads {args.threads}), GPU: {gpu}; {n} Europarl-NER English sentences,
greedy, output fixed at {args.new_tokens} tokens, batch {batch}; model loading and conversion excluded.
Command: `python benchmarks/bench_translate.py --ct2{" --nllb-600m" if args.nllb_600m else ""}`

| backend | compute type | seconds | sentences/s | vs hf |
|---|---|---:|---:|---:|
{table}

Outputs identical to hf's: ctranslate2 default {same["default"]}/{n}, int8 {same["int8"]}/{n}.
"""
    print(section)
    if args.dry_run:
        return
    header = "# Scale-out benchmarks\n\nSections are written by their scripts.\n"
    write_section(RESULTS.parent / "scale.md", title, section, header)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nllb-600m", action="store_true", help="NLLB-600M sizes (use a GPU)")
    parser.add_argument(
        "--sentences", type=int, default=None, help="how many (default: all 799 / 256)"
    )
    parser.add_argument("--one-by-one", type=int, default=None, help="sentences timed one by one")
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ct2", action="store_true", help="ctranslate2 vs hf -> results/scale.md")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write results")
    args = parser.parse_args()

    import torch

    from nerxl_data.testing.translation import build_tiny_nllb
    from nerxl_data.translate import get_translator

    torch.set_num_threads(args.threads)
    data_dir = Path(os.environ.get("NERXL_DATA_DIR", "../shared/data"))
    texts = europarl(data_dir)
    cuda = torch.cuda.is_available()
    n = args.sentences or (256 if args.nllb_600m and not cuda else len(texts))
    texts = texts[:n]
    n_single = args.one_by_one or min(n, 200 if not args.nllb_600m else 64)
    batch = 64 if cuda else 32
    name = (
        "NLLB-600M architecture, random"
        if args.nllb_600m
        else "tiny NLLB (d_model 32, 2+2 layers), random"
    )
    opts = dict(num_beams=1, max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens)

    with tempfile.TemporaryDirectory() as tmp:
        if args.nllb_600m:
            over = dict(NLLB_600M)
            over["vocab_size"] = over.pop("vocab_size_model")
            layers = over.pop("layers")
            d_model = over.pop("d_model")
            model = build_tiny_nllb(Path(tmp) / "m", texts, layers=layers, d_model=d_model, **over)
        else:
            model = build_tiny_nllb(Path(tmp) / "m", texts)
        cache = Path(tmp) / "cache.sqlite"
        if args.ct2:
            return compare_ct2(model, texts, opts, batch, args, tmp)

        with get_translator("hf", str(model), batch_size=1, **opts) as t:
            t.sort_by_length = False
            t.translate_batch(texts[:2], "en", "de")  # warm-up
            _, single_s = timed(
                lambda: [t.translate_batch([s], "en", "de") for s in texts[:n_single]]
            )
            device, dtype = t.device, t.dtype
        with get_translator("hf", str(model), batch_size=batch, **opts) as t:
            t.translate_batch(texts[:batch], "en", "de")  # warm-up
            _, batched_s = timed(lambda: t.translate_batch(texts, "en", "de"))
            t.sort_by_length = False
            _, unsorted_s = timed(lambda: t.translate_batch(texts, "en", "de"))
        with get_translator("hf", str(model), batch_size=batch, cache=cache, **opts) as t:
            fresh, fresh_s = timed(lambda: t.translate_batch(texts, "en", "de"))
        with get_translator("hf", str(model), batch_size=batch, cache=cache, **opts) as t:
            replay, replay_s = timed(lambda: t.translate_batch(texts, "en", "de"))
            stats = t.stats
        assert replay == fresh and stats.cache_misses == 0, "replay must be all cache hits"

    single_rate, batched_rate = n_single / single_s, n / batched_s
    fresh_rate, replay_rate = n / fresh_s, n / replay_s
    gpu = torch.cuda.get_device_name(0) if cuda else "none"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"## {name} on {device} ({dtype})"
    section = f"""{title}

{when}; {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs (torch threads {args.threads}), GPU: {gpu};
torch {torch.__version__}, Python {sys.version.split()[0]}. Europarl-NER English, greedy, output fixed at {args.new_tokens} tokens.
Command: `python benchmarks/bench_translate.py{" --nllb-600m" if args.nllb_600m else ""}`

| run | sentences | seconds | sentences/s |
|---|---:|---:|---:|
| one-by-one (batch 1) | {n_single} | {single_s:.2f} | {single_rate:.1f} |
| batched + sorted (batch {batch}) | {n} | {batched_s:.2f} | {batched_rate:.1f} |
| batched, file order (batch {batch}) | {n} | {unsorted_s:.2f} | {n / unsorted_s:.1f} |
| fresh, with SQLite cache | {n} | {fresh_s:.2f} | {fresh_rate:.1f} |
| cache replay | {n} | {replay_s:.4f} | {replay_rate:.0f} |

- batched+sorted / one-by-one: **{batched_rate / single_rate:.1f}x** (target >= 5x on CPU)
- cache replay / fresh: **{replay_rate / fresh_rate:.0f}x** (target >= 100x)
"""
    print(section)
    if args.dry_run:
        return
    write_section(
        RESULTS,
        title,
        section,
        "# Translation throughput\n\nWritten by `benchmarks/bench_translate.py`.\n",
    )


if __name__ == "__main__":
    main()
