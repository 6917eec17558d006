"""Pick the CPU training recipe on source-language dev sets only, then check it against full
fine-tuning.

    NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py --part candidates   # the grid
    NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py --part agreement    # vs full fine-tuning
    NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py --part report       # recipe.md + recipe.json

``candidates`` (protocol fixed before any run): every candidate of the cached-feature recipe
(:mod:`nerxl_data.train.cached`: which encoder layer is cached, how many layers above it are
trained, learning rate, epochs) trains on each source language's train split (the first
``--max-sentences`` after the experiment's seeded shuffle) and is scored (strict IOB2 micro F1)
on that language's own dev split (first ``--max-dev``), one seed. No target language is read.
The pick: the best mean dev F1; among candidates within TOLERANCE F1 of it, the cheapest
(fewest trained layers, then the lowest cached layer: the feature pass is the run's cost).

``agreement``: on a subsample a CPU can fine-tune fully (targets ``--agree-targets``, k = 1..4
in the given order, ``--agree-sentences`` per source, 2 seeds), the same experiment is run twice
(``nerxl experiment scaling``, the library's Experiment): once with the picked cached recipe,
once with full fine-tuning (every weight of the encoder trained with the Trainer), and their
cells are compared: rank correlation, level gap, and whether each contrast resolved in one is
resolved the same way in the other.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

# (feature_layer, train_layers, learning_rate, epochs, head_hidden, head_window)
CANDIDATES = [
    (4, 0, 2e-3, 5, 0, 1), (8, 0, 2e-3, 5, 0, 1), (12, 0, 2e-3, 5, 0, 1),
    (4, 1, 5e-4, 3, 0, 1), (8, 1, 5e-4, 3, 0, 1), (8, 2, 3e-4, 3, 0, 1), (4, 2, 3e-4, 3, 0, 1),
    (8, 0, 2e-3, 5, 256, 1), (8, 0, 2e-3, 5, 256, 3), (6, 0, 2e-3, 5, 256, 3), (8, 0, 1e-3, 10, 512, 5),
]
TOLERANCE = 1.0


KEYS = ("feature_layer", "train_layers", "learning_rate", "epochs", "head_hidden", "head_window")


def _cand(c) -> dict:
    return dict(zip(KEYS, c, strict=True))


def candidates(args) -> None:
    import datasets

    from nerxl_data.evaluation import evaluate_tags
    from nerxl_data.experiments.scaling.config import source_spec
    from nerxl_data.train.cached import CachedRecipe, FeatureCache, fit_cached, one_hot
    from nerxl_data.train.data import cap, load_source, map_labels, source_types
    from nerxl_data.train.models import resolve_model
    from nerxl_data.train.trainer import gold_tags

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model = resolve_model(args.model)
    for lang in args.langs.split(","):
        spec = source_spec(lang)
        raw = load_source(spec)
        dev = "validation" if "validation" in raw else "dev"
        d = datasets.DatasetDict({"train": cap(raw["train"], args.max_sentences, 0), "dev": cap(raw[dev], args.max_dev, 0)})
        mapped, names, _ = map_labels({spec: d}, source_types(spec, raw), "drop")
        train, devset = mapped[spec]["train"], mapped[spec]["dev"]
        tags = gold_tags(train)
        for c in CANDIDATES:
            done = work / f"{lang}-{'-'.join(map(str, c))}.json"
            if done.exists():
                continue
            recipe = CachedRecipe(**_cand(c), max_length=args.max_length, batch_size=32)
            cache = FeatureCache(model, recipe.feature_layer, work / "features", max_length=args.max_length)
            t0 = time.time()
            cache.get(list(train["tokens"]) + list(devset["tokens"]))
            feat_s = time.time() - t0
            t0 = time.time()
            m = fit_cached(cache, train["tokens"], one_hot(tags, names), names, recipe, seed=0)
            train_s = time.time() - t0
            t0 = time.time()
            f1 = evaluate_tags(gold_tags(devset), m.predict_tags(devset["tokens"]))["micro"]["f1"]
            row = {"lang": lang, **_cand(c), "steps": recipe.steps(len(train)), "dev_f1": round(f1, 2),
                   "feature_seconds": round(feat_s, 1), "features_computed": cache.computed,
                   "train_seconds": round(train_s, 1), "eval_seconds": round(time.time() - t0, 2), "n_train": len(train)}
            done.write_text(json.dumps(row))
            print(json.dumps(row), flush=True)


def _rows(work: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(work.glob("*.json"))]


PLAN_PASSES = 1_340_000  # training sentence passes of the committed MasakhaNER plan (issue 20's count)
PLAN_MINUTES = 60  # the part of the ~120-minute budget the plan's training may take on this machine


def _key(r: dict) -> tuple:
    defaults = {"head_hidden": 0, "head_window": 1}
    return tuple(r.get(k, defaults.get(k)) for k in KEYS)


def pick(rows: list[dict], langs: list[str]) -> tuple[dict | None, list[str]]:
    """Eligible: a candidate whose measured training rate runs the committed plan's training
    passes within PLAN_MINUTES on this machine. Picked: the best eligible mean dev F1; among
    eligible candidates within TOLERANCE of it, the cheapest."""
    means, rates = {}, {}
    lines = ["| cached layer | trained layers | head | lr | epochs | " + " | ".join(langs)
             + " | mean | training passes/s | plan's training, min | eligible |",
             "|---|---|---|---|---|" + "---|" * (len(langs) + 4)]
    for c in CANDIDATES:
        got = [next((r for r in rows if r["lang"] == lang and _key(r) == c), None) for lang in langs]
        if None in got:
            continue
        mean = sum(r["dev_f1"] for r in got) / len(got)
        rate = sum(r["n_train"] * r["epochs"] for r in got) / max(sum(r["train_seconds"] for r in got), 1e-9)
        means[c], rates[c] = mean, rate
        head = "linear" if not c[4] else f"hidden {c[4]}, window {c[5]}"
        minutes = PLAN_PASSES / rate / 60
        lines.append(f"| {c[0]} | {c[1]} | {head} | {c[2]:g} | {c[3]:g} | " + " | ".join(f"{r['dev_f1']:.1f}" for r in got)
                     + f" | {mean:.1f} | {rate:.0f} | {minutes:.0f} | {'yes' if minutes <= PLAN_MINUTES else 'no'} |")
    ok = [c for c in means if PLAN_PASSES / rates[c] / 60 <= PLAN_MINUTES]
    if not ok:
        return None, lines
    top = max(means[c] for c in ok)
    near = [c for c in ok if means[c] >= top - TOLERANCE]
    best = min(near, key=lambda c: (c[1], c[4], c[0], -means[c]))
    overall = max(means, key=means.get)
    lines += ["", f"Picked: cached layer {best[0]}, {best[1]} trained layer(s), "
              f"{'a linear head' if not best[4] else f'a head with a hidden layer of {best[4]} over a window of {best[5]}'}, "
              f"lr {best[2]:g}, {best[3]:g} epochs: mean dev F1 {means[best]:.1f} (the best eligible mean {top:.1f}; the "
              f"cheapest within {TOLERANCE:g} F1 of it)."]
    if overall not in ok:
        trained = [rates[c] for c in rates if c[1] > 0] or [float("nan")]
        lines += ["", f"Not eligible, though as good or better on the dev sets: the candidates whose measured training rate "
                  f"runs the plan's {PLAN_PASSES / 1e6:.2f}M training passes in more than {PLAN_MINUTES} min here (training "
                  f"encoder layers over the cache: {min(trained):.0f}-{max(trained):.0f} passes/s, "
                  f"{PLAN_PASSES / max(trained) / 3600:.0f}-{PLAN_PASSES / min(trained) / 3600:.0f} h; the best of them on "
                  f"the dev sets: {rates[overall]:.0f} passes/s). "
                  "They are GPU settings (`--recipe cached --train-layers N`, or `--recipe finetune`). Rates were measured "
                  "with other jobs sharing the two cores: read them as ratios."]
    return {**_cand(best), "dev_f1": round(means[best], 1)}, lines


# --- agreement with full fine-tuning --------------------------------------------------------------

AGREE_METHODS = ["direct", "in-language", "projection"]


def agreement_configs(args, picked: dict):
    from nerxl_data.experiments.scaling.config import ExperimentConfig

    common = dict(targets=args.agree_targets.split(","), sources=["en", "hau", "swa", "sna"], seeds=args.agree_seeds, orders=0,
                  reference_orders=["given"], methods=args.agree_methods.split(","), max_sentences=args.agree_sentences,
                  max_unlabeled=args.agree_sentences, max_test_sentences=args.agree_test, max_silver=args.silver_pairs,
                  silver_from=args.silver_from, model=args.model, max_length=args.max_length)
    # run folders named by what differs between agreement runs (an older run's folder is kept)
    n = args.agree_sentences
    cached = ExperimentConfig(out=str(Path(args.work) / f"agree-cached-{n}"), recipe="cached", batch_size=picked["batch_size"],
                              cached_layer=picked["feature_layer"], train_layers=picked["train_layers"],
                              head_hidden=picked["head_hidden"], head_window=picked["head_window"],
                              learning_rate=picked["learning_rate"], epochs=picked["epochs"],
                              features_dir=args.features_dir, **common)
    # The same network: the encoder's bottom feature_layer + train_layers layers, every weight trained.
    full = ExperimentConfig(out=str(Path(args.work) / f"agree-finetune-{n}-e{args.finetune_epochs:g}-lr{args.finetune_lr:g}"),
                            recipe="finetune", batch_size=16, num_layers=picked["feature_layer"] + picked["train_layers"],
                            learning_rate=args.finetune_lr, epochs=args.finetune_epochs, min_steps=args.finetune_min_steps,
                            **common)
    return cached, full


def agreement(args) -> None:
    from nerxl_data.experiments.scaling import Experiment

    picked = json.loads((RESULTS / "recipe.json").read_text())["picked"]
    for cfg in agreement_configs(args, picked):
        if args.only and args.only not in Path(cfg.out).name:
            continue
        t0 = time.time()
        exp = Experiment(cfg)
        exp.run([int(x) for x in args.seeds.split(",")] if args.seeds else None)
        print(f"{cfg.out}: {len(exp.trained)} models in {time.time() - t0:.0f} s", flush=True)


def compare(args, picked: dict) -> list[str]:
    """Cells of both runs side by side, Spearman's rank correlation, the level gap, and each
    contrast's verdict in both."""
    import numpy as np
    from scipy.stats import spearmanr

    from nerxl_data.experiments.scaling import Experiment
    from nerxl_data.experiments.scaling.stats import (
        contrasts,
        difference_interval,
        resolved,
        summarise,
    )

    exps = [Experiment(c) for c in agreement_configs(args, picked)]
    if not all((Path(e.cfg.out) / "config.json").exists() for e in exps):
        return ["(the agreement runs have not run yet: `python benchmarks/recipe.py --part agreement`)"]
    rows = [e.collect(e.cells()) for e in exps]
    # the same seeds on both sides: those with every cell finished in both runs
    cells = {(r["target"], r["method"], r["order"], r["k"]) for r in rows[0]} | {(r["target"], r["method"], r["order"], r["k"]) for r in rows[1]}
    def complete(rs, seed):
        return {(r["target"], r["method"], r["order"], r["k"]) for r in rs if r["seed"] == seed} >= cells
    seeds = sorted(s for s in {r["seed"] for r in rows[0]} if complete(rows[0], s) and complete(rows[1], s))
    rows = [[r for r in rs if r["seed"] in seeds] for rs in rows]
    sums = [summarise(r, 1000) for r in rows]
    keys = sorted(set(sums[0]) & set(sums[1]))
    a = np.array([sums[0][k][0] for k in keys])
    b = np.array([sums[1][k][0] for k in keys])
    lines = [f"Subsample: targets {args.agree_targets}; sources en, hau, swa, sna in the given order, k = 1..4; "
             f"{args.agree_sentences} training sentences per source (and in-language); projection: the silver configs of "
             f"the committed run ({args.silver_pairs} LAFAND pairs), the same for both; {args.agree_test} test sentences per "
             f"target (seeded sample); seeds compared: {', '.join(map(str, seeds))} (of {args.agree_seeds}); methods {args.agree_methods}. Full fine-tuning: every weight of the same network (the encoder's bottom "
             f"{picked['feature_layer'] + picked['train_layers']} layers, embeddings included, and a linear head) trained "
             f"(Trainer, lr {args.finetune_lr:g}, {args.finetune_epochs:g} epochs, batch 16, at least {args.finetune_min_steps} steps, "
             f"max_length {args.max_length}, `--recipe finetune`). Cached: the recipe picked above (`--recipe cached`).", "",
             "| target | cell | cached recipe | full fine-tuning |", "|---|---|---|---|"]
    for k, x, y in zip(keys, a, b, strict=True):
        t, m, _, kk = k
        lines.append(f"| {t} | {m}{f' k={kk}' if kk else ''} | {x:.1f} | {y:.1f} |")
    n = len(keys)
    rho = spearmanr(a, b).statistic if n > 2 else float("nan")
    lines += ["", f"- cells: {n}; Spearman rank correlation {rho:.2f}; level gap (cached minus full fine-tuning): "
              f"mean {np.mean(a - b):+.1f} F1 (range {np.min(a - b):+.1f} to {np.max(a - b):+.1f})"]
    verdicts, same = [], 0
    total = 0
    for t in exps[0].targets:
        K = len(exps[0].sources_of(t))
        ca = contrasts(exps[0], rows[0], t, K, group="given")
        cb = contrasts(exps[1], rows[1], t, K, group="given")
        for i, name in enumerate(n for n in ca if n in cb):
            da, db = difference_interval(*ca[name], 1000, seed=i), difference_interval(*cb[name], 1000, seed=i)
            sa = 0 if da[1] <= 0 <= da[2] else int(np.sign(da[0]))
            sb = 0 if db[1] <= 0 <= db[2] else int(np.sign(db[0]))
            total += 1
            conflict = sa != 0 and sb != 0 and sa != sb
            same += sa == sb
            verdicts.append(f"| {t} | {name} | {resolved(*da)} | {resolved(*db)} | "
                            f"{'same' if sa == sb else ('OPPOSITE' if conflict else 'one resolved')} |")
    lines += [f"- contrasts: {total}; same verdict in both: {same}; resolved in opposite directions: "
              f"{sum('OPPOSITE' in v for v in verdicts)}", "",
              "| target | contrast | cached recipe | full fine-tuning | verdict |", "|---|---|---|---|---|", *verdicts]
    return lines


def report(args) -> None:
    langs = args.langs.split(",")
    picked, lines = pick(_rows(Path(args.work)), langs)
    out = ["# The CPU training recipe: picked on source dev sets, checked against full fine-tuning", "",
           "`NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py --part candidates|agreement|report` (this file: "
           f"the defaults, {args.agree_sentences} sentences per source, {args.agree_seeds} seeds, methods {args.agree_methods}, "
           f"full fine-tuning {args.finetune_epochs:g} epochs at lr {args.finetune_lr:g}; a seed the fine-tuning run had not "
           "finished is left out of both sides; hau's run of the cached-layer-4 + 2-trained-layers candidate was stopped: "
           "that row cannot be eligible)", "",
           "## Candidates (source dev sets only)", "",
           f"Recipe: the cached-feature recipe (`nerxl_data.train.cached`). Model `{args.model}`, max_length {args.max_length}, "
           f"batch 32, seed 0; train: the first {args.max_sentences} sentences of each language's train split after the "
           f"experiment's seeded shuffle; dev: the first {args.max_dev} of its dev split. Languages: {', '.join(langs)} "
           "(sources of the committed runs; no target is read). Pick: the best mean dev F1; among candidates within "
           f"{TOLERANCE:g} F1 of it, the cheapest (fewest trained layers, then the lowest cached layer).", "", *lines, ""]
    if picked is not None:
        cached_rows = [r for r in _rows(Path(args.work)) if r["feature_layer"] == picked["feature_layer"]]
        out += ["Cost on this machine (2 threads): feature pass "
                + ", ".join(f"{r['lang']} {r['features_computed'] / max(r['feature_seconds'], 1e-9):.0f} sentences/s"
                            for r in cached_rows if r["features_computed"]) + ".", ""]
        (RESULTS / "recipe.json").write_text(json.dumps({
            "picked": {**{k: picked[k] for k in KEYS},
                       "max_length": args.max_length, "batch_size": 32},
            "summary": f"cached features at layer {picked['feature_layer']}, {picked['train_layers']} layer(s) above "
                       f"trained, head hidden {picked['head_hidden']} window {picked['head_window']}, lr {picked['learning_rate']:g}, {picked['epochs']:g} epochs, batch 32, max_length "
                       f"{args.max_length}; mean dev F1 {picked['dev_f1']} on {', '.join(langs)}"}, indent=1) + "\n")
        picked = json.loads((RESULTS / "recipe.json").read_text())["picked"]
        out += ["## Agreement with full fine-tuning", "", *compare(args, picked), ""]
        reading = RESULTS / "recipe-reading.md"
        if reading.exists():  # the written reading of the numbers above (kept by hand, dated)
            out += [reading.read_text().strip(), ""]
    (RESULTS / "recipe.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["candidates", "agreement", "report"], required=True)
    ap.add_argument("--langs", default="en,swa,hau")  # sources only: never a target of the committed runs
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--max-sentences", type=int, default=3000)
    ap.add_argument("--max-dev", type=int, default=500)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--agree-targets", default="yor,ibo")
    ap.add_argument("--agree-sentences", type=int, default=1000)
    ap.add_argument("--agree-seeds", type=int, default=2)
    ap.add_argument("--agree-methods", default="direct,in-language",
                    help=f"Of {','.join(AGREE_METHODS)}; projection's silver training triples the fine-tuning cost.")
    ap.add_argument("--agree-test", type=int, default=500, help="Test sentences per target (seeded sample, the same in both runs).")
    ap.add_argument("--silver-from", default="/tmp/nerxl-scaling/masakhaner/silver",
                    help="The silver configs the committed MasakhaNER run built (benchmarks/scaling.py): both runs train on them.")
    ap.add_argument("--features-dir", default="/tmp/nerxl-scaling/features",
                    help="Where the agreement's cached run keeps its states (shared with the committed run's).")
    ap.add_argument("--silver-pairs", type=int, default=3000, help="The LAFAND pairs those silver configs were built from.")
    ap.add_argument("--finetune-lr", type=float, default=1e-4)
    ap.add_argument("--finetune-epochs", type=float, default=6.0)
    ap.add_argument("--finetune-min-steps", type=int, default=300,
                    help="Steps every fine-tuned model takes at least (a one-source model at 1,000 sentences, 6 epochs: 375).")
    ap.add_argument("--only", default=None, help="agreement: only the run whose folder name contains this (agree-cached / agree-finetune)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seeds", default=None, help="agreement: only these seeds (e.g. 1 in a second process: one core each)")
    ap.add_argument("--work", default="/tmp/nerxl-recipe-cached")
    args = ap.parse_args(argv)
    if not os.environ.get("NERXL_DATA_DIR"):
        print("Error: set NERXL_DATA_DIR (the shared data folder)", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    {"candidates": candidates, "agreement": agreement, "report": report}[args.part](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
