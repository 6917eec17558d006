"""Pick the offline training recipe on source-language dev sets only (no target is read).

    NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py [--langs en,swa,es] [--threads 1]

Protocol (fixed before any run): for every candidate recipe and every source language, train on
that language's train split (capped like a scaling run's source: --max-sentences, the first rows
after the experiment's seeded shuffle), score strict IOB2 micro F1 on its own dev split (capped:
--max-dev), one seed. The recipe with the best mean dev F1 over the languages is the one the
committed scaling runs use, except that among the candidates within TOLERANCE (1.0) F1 of the best
mean, the one with the fewest optimiser steps wins (the student and one-source models of a scaling
run train for the minimum number of steps, so steps are its cost). Layers kept (4) and max_length (64) are held fixed by the CPU budget,
not picked; the grid varies what costs nothing: learning rate, frozen or trained embeddings, and
the minimum number of optimiser steps. Writes benchmarks/results/recipe.md (all candidates).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

CANDIDATES = [
    {"learning_rate": 5e-5, "freeze_embeddings": False, "min_steps": 25},
    {"learning_rate": 2e-4, "freeze_embeddings": False, "min_steps": 25},
    {"learning_rate": 5e-4, "freeze_embeddings": False, "min_steps": 25},
    {"learning_rate": 5e-4, "freeze_embeddings": True, "min_steps": 25},
    {"learning_rate": 2e-4, "freeze_embeddings": False, "min_steps": 60},
    {"learning_rate": 5e-4, "freeze_embeddings": False, "min_steps": 40},
    {"learning_rate": 5e-4, "freeze_embeddings": False, "min_steps": 60},
    {"learning_rate": 1e-3, "freeze_embeddings": False, "min_steps": 40},
]
TOLERANCE = 1.0  # F1: among candidates this close to the best mean, the one with the fewest steps wins


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--langs", default="en,swa,hau")  # sources only: never a target of the committed runs
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--max-sentences", type=int, default=200)
    ap.add_argument("--max-dev", type=int, default=500)
    ap.add_argument("--num-layers", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "recipe.md"))
    ap.add_argument("--work", default="/tmp/nerxl-recipe")
    args = ap.parse_args(argv)
    if not os.environ.get("NERXL_DATA_DIR"):
        print("Error: set NERXL_DATA_DIR (the shared data folder)", file=sys.stderr)
        return 2
    import datasets
    import torch

    from nerxl_data.evaluation import evaluate_tags
    from nerxl_data.train.data import cap, load_source, map_labels, source_types
    from nerxl_data.train.models import resolve_model
    from nerxl_data.train.scaling import Experiment, ExperimentConfig, source_spec
    from nerxl_data.train.trainer import fit, gold_tags, predict_tags

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model = resolve_model(args.model)
    langs = [x.strip() for x in args.langs.split(",") if x.strip()]
    rows = []
    for lang in langs:
        spec = source_spec(lang)
        raw = load_source(spec)
        dev = "validation" if "validation" in raw else "dev"
        d = datasets.DatasetDict({"train": cap(raw["train"], args.max_sentences, 0), "dev": cap(raw[dev], args.max_dev, 0)})
        mapped, names, _ = map_labels({spec: d}, source_types(spec, raw), "drop")
        train, devset = mapped[spec]["train"], mapped[spec]["dev"]
        for i, cand in enumerate(CANDIDATES):
            done = work / f"{lang}-{i}.json"
            if done.exists():
                rows.append(json.loads(done.read_text()))
                continue
            # The scaling run's own training arguments (steps rule, schedule, length grouping).
            exp = Experiment(ExperimentConfig(targets=["x"], sources=["en"], out=str(work), epochs=args.epochs, batch_size=16,
                                              min_steps=cand["min_steps"], learning_rate=cand["learning_rate"]))
            t0 = time.time()
            tr = fit(model, train, names, exp.training_args(len(train), 0, work / "tmp"), max_length=args.max_length,
                     freeze_embeddings=cand["freeze_embeddings"], num_layers=args.num_layers)
            preds, _ = predict_tags(tr.model, tr.processing_class, devset["tokens"], max_length=args.max_length)
            f1 = evaluate_tags(gold_tags(devset), preds)["micro"]["f1"]
            row = {"lang": lang, "candidate": i, **cand, "steps": exp.steps(len(train)), "dev_f1": round(f1, 2),
                   "seconds": round(time.time() - t0, 1)}
            done.write_text(json.dumps(row))
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [f"# Recipe on source-language dev sets ({', '.join(langs)})", "",
             f"`NERXL_DATA_DIR=../shared/data python benchmarks/recipe.py --langs {args.langs}`", "",
             f"Fixed: model `{args.model}`, bottom {args.num_layers} layers, max_length {args.max_length}, batch 16, "
             f"{args.epochs:g} epochs over {args.max_sentences} training sentences per language (or the candidate's minimum "
             f"steps, whichever is more), seed 0; dev: the language's own dev split, first {args.max_dev} after a seeded "
             "shuffle. No target-language data is read. The winner (best mean dev F1; among candidates within "
             f"{TOLERANCE:g} F1 of it, the one with the fewest steps: steps are a scaling run's cost) is the committed runs' recipe.", "",
             "| candidate | lr | embeddings | min steps | " + " | ".join(langs) + " | mean |",
             "|---|---|---|---|" + "---|" * (len(langs) + 1)]
    means = {}
    for i, cand in enumerate(CANDIDATES):
        f = [next((r["dev_f1"] for r in rows if r["lang"] == lang and r["candidate"] == i), None) for lang in langs]
        if None in f:
            continue
        mean = sum(f) / len(f)
        means[i] = mean
        lines.append(f"| {i} | {cand['learning_rate']:g} | {'frozen' if cand['freeze_embeddings'] else 'trained'} | "
                     f"{cand['min_steps']} | " + " | ".join(f"{x:.1f}" for x in f) + f" | {mean:.1f} |")
    if means:
        top = max(means.values())
        near = [i for i in means if means[i] >= top - TOLERANCE]
        pick = min(near, key=lambda i: (CANDIDATES[i]["min_steps"], -means[i]))
        best = (pick, means[pick])
        c = CANDIDATES[best[0]]
        lines += ["", f"Picked: candidate {best[0]} (lr {c['learning_rate']:g}, embeddings "
                  f"{'frozen' if c['freeze_embeddings'] else 'trained'}, min steps {c['min_steps']}), mean dev F1 {best[1]:.1f} (best mean {top:.1f}; the fewest steps within {TOLERANCE:g} F1 of it)."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    if means:  # what benchmarks/scaling.py reads: the committed runs take the picked recipe from here
        Path(args.out).with_suffix(".json").write_text(json.dumps({
            "picked": {**c, "num_layers": args.num_layers, "max_length": args.max_length, "epochs": args.epochs},
            "summary": f"lr {c['learning_rate']:g}, embeddings {'frozen' if c['freeze_embeddings'] else 'trained'}, "
                       f"at least {c['min_steps']} steps, bottom {args.num_layers} layers, max_length {args.max_length}, "
                       f"{args.epochs:g} epochs; mean dev F1 {best[1]:.1f} on {', '.join(langs)}"}, indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
