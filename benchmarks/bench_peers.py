"""nerxl's aligners side by side with their peers, in one run, on the same Europarl-NER en-de
pairs and the same encoders:

* the ``simalign`` package (PyPI, ``pip install 'nerxl-data[bench]'``) with the converted
  e5-small folder, layer 8, subwords (``bpe``): argmax (``inter``), itermax, match (``mwmf``),
  against ``simalign-argmax``/``-itermax``/``-match`` from one nerxl forward pass;
* the ``awesome-align`` CLI (it needs a BERT tokenizer: a tiny random BERT trained on these
  sentences, ``nerxl_data.testing.encoders``) against nerxl's ``awesome`` on the same folder.

Pairs/s exclude model load (timed apart); the awesome-align CLI is timed as a whole process
(start-up and load included, reported as such). Agreement: identical link lines, and link F1 of
the peer's links against nerxl's.

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_peers.py [--pairs 100]

Writes ``benchmarks/results/peers.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from nerxl_data.align import get_aligner
from nerxl_data.align.encoders import resolve_model
from nerxl_data.align.pharaoh import parse_links
from nerxl_data.bench import load_europarl
from nerxl_data.testing.encoders import build_tiny_bert

SIMALIGN_KEYS = {"simalign-argmax": "inter", "simalign-itermax": "itermax", "simalign-match": "mwmf"}


def agreement(theirs: list[set], ours: list[set]) -> tuple[int, float]:
    same = sum(a == b for a, b in zip(theirs, ours, strict=True))
    tp = sum(len(a & b) for a, b in zip(theirs, ours, strict=True))
    n_t, n_o = sum(map(len, theirs)), sum(map(len, ours))
    f1 = 2 * tp / (n_t + n_o) if n_t + n_o else 1.0
    return same, 100 * f1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100)
    args = ap.parse_args()
    load0 = os.getloadavg()
    en = [x["tokens"] for x in load_europarl("en")[: args.pairs]]
    de = [x["tokens"] for x in load_europarl("de")[: args.pairs]]
    n = len(en)
    rows = []

    # --- SimAlign package vs nerxl, e5-small ---
    from simalign import SentenceAligner

    folder = resolve_model("e5-small")
    t0 = time.perf_counter()
    sa = SentenceAligner(model=folder, token_type="bpe", matching_methods="mai", layer=8, device="cpu")
    sa_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    sa_out = [sa.get_word_aligns(s, t) for s, t in zip(en, de, strict=True)]
    sa_s = time.perf_counter() - t0
    del sa
    names = list(SIMALIGN_KEYS)
    t0 = time.perf_counter()
    al = get_aligner("simalign-itermax", "e5-small", 8, device="cpu")
    al.load()
    nx_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = al.align_batch_methods(en, de, names)
    nx_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    al.align_batch(en, de)
    nx_one_s = time.perf_counter() - t0
    al.close()
    for name in names:
        theirs = [set(map(tuple, o[SIMALIGN_KEYS[name]])) for o in sa_out]
        mine = [{(x.src, x.tgt) for x in links} for links in ours[name]]
        same, f1 = agreement(theirs, mine)
        rows.append((f"simalign {SIMALIGN_KEYS[name]} (package) vs nerxl {name}", "e5-small, layer 8",
                     f"{sa_load:.1f}", f"{n / sa_s:.2f}", f"{nx_load:.1f}", f"{n / nx_s:.1f}",
                     f"{sa_s / nx_s:.0f}x", f"{same}/{n}", f"{f1:.2f}"))
    one = f"nerxl `simalign-itermax` alone (one method): {n / nx_one_s:.1f} pairs/s."

    # --- awesome-align CLI vs nerxl, tiny random BERT ---
    exe = shutil.which("awesome-align")
    awesome_row = None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tiny = build_tiny_bert(tmp / "bert", [" ".join(s) for s in en + de], max_position_embeddings=256,
                               initializer_range=0.5)
        if exe:
            data = tmp / "pairs.txt"
            data.write_text("".join(f"{' '.join(s)} ||| {' '.join(t)}\n" for s, t in zip(en, de, strict=True)))
            out = tmp / "links.txt"
            cmd = [exe, "--model_name_or_path", str(tiny), "--data_file", str(data), "--output_file", str(out),
                   "--extraction", "softmax", "--softmax_threshold", "0.001", "--align_layer", "2",
                   "--batch_size", "32", "--num_workers", "0"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, timeout=600)
            aw_s = time.perf_counter() - t0
            theirs = [{(x.src, x.tgt) for x in parse_links(line)} for line in out.read_text().splitlines()]
            t0 = time.perf_counter()
            al = get_aligner("awesome", str(tiny), 2, device="cpu", threshold=1e-3)
            al.load()
            tl = time.perf_counter() - t0
            t0 = time.perf_counter()
            mine = [{(x.src, x.tgt) for x in links} for links in al.align_batch(en, de)]
            ts = time.perf_counter() - t0
            al.close()
            same, f1 = agreement(theirs, mine)
            awesome_row = ("awesome-align CLI vs nerxl awesome", "tiny random BERT (2 layers, hidden 32), layer 2",
                           "in wall", f"{n / aw_s:.1f} (whole process)", f"{tl:.1f}", f"{n / ts:.1f}",
                           f"{aw_s / ts:.0f}x (incl. its start-up)", f"{same}/{n}", f"{f1:.2f}")
    if awesome_row:
        rows.append(awesome_row)
    load1 = os.getloadavg()
    lines = [
        "# nerxl's aligners vs the peers (SimAlign package, awesome-align CLI)",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, "
        f"{os.cpu_count()} CPU cores visible, torch {torch.__version__} with {torch.get_num_threads()} threads, CPU "
        "only (no GPU lent: no GPU columns)",
        f"- the first {n} Europarl-NER en-de pairs (kept short: SimAlign aligns one pair at a time through "
        "all 12 layers); load average (1 min) at start {:.1f}, at end {:.1f}: a shared 2-core machine, "
        "ratios from this one run".format(load0[0], load1[0]),
        "- peers from PyPI (`pip install 'nerxl-data[bench]'`), never vendored; link F1: the peer's links "
        "against nerxl's, micro over all pairs",
        "- command: `NERXL_DATA_DIR=../shared/data python benchmarks/bench_peers.py`",
        "",
        "| comparison | encoder | peer load s | peer pairs/s | nerxl load s | nerxl pairs/s | nerxl / peer "
        "| identical lines | link F1 |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
        "SimAlign rows: both sides compute the three methods from one forward pass per call (the package per "
        "pair, nerxl in sorted batches of 32 with the blocks above layer 8 dropped); pairs/s exclude load. "
        + one,
    ]
    out = Path(__file__).parent / "results" / "peers.md"
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()
