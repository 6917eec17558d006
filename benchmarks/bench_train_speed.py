"""Training and inference samples/s of the scaling experiment's models: the finetune recipe's
variants (dynamic padding, length-grouped batches, the trimmed vocabulary) and the cached-feature
recipe (features computed once per sentence, the head trained and scored on them).

    NERXL_DATA_DIR=../shared/data python benchmarks/bench_train_speed.py [--threads 1] [--steps 30]

All variants in one run, on the same sentences (English CoNLL train + the yor MasakhaNER test
for inference), same model (e5-small, bottom --num-layers layers), same seed:

* ``pad-to-max``: every batch padded to max_length (run_ner.py ``--pad_to_max_length``), random
  batches, full 250k-token vocabulary (the output/input embedding matrix is trained in full);
* ``dynamic``: each batch padded to its own longest sentence (``DataCollatorForTokenClassification``);
* ``dynamic+grouped``: and batches of similar length (``train_sampling_strategy=group_by_length``);
* ``dynamic+grouped+trimmed``: and the vocabulary trimmed to the tokens of the sentences used
  (:func:`nerxl_data.train.models.trim_vocabulary`; the same token ids map to the same vectors,
  so outputs are unchanged: checked here by the max abs difference of the inference logits).

Inference: :func:`nerxl_data.train.trainer.word_logits` (length-sorted dynamic batches) vs a
pad-to-max_length loop in input order. Writes benchmarks/results/train_speed.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="e5-small")
    ap.add_argument("--num-layers", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--infer", type=int, default=500, help="Test sentences tagged per inference variant.")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "train_speed.md"))
    args = ap.parse_args(argv)
    if not os.environ.get("NERXL_DATA_DIR"):
        print("Error: set NERXL_DATA_DIR (the shared data folder)", file=sys.stderr)
        return 2
    import numpy as np
    import torch
    from transformers import (
        AutoConfig,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        TrainingArguments,
    )

    from nerxl_data.train.data import (
        cap,
        load_source,
        map_labels,
        source_types,
        tokenize_and_align_labels,
    )
    from nerxl_data.train.models import resolve_model, trim_vocabulary
    from nerxl_data.train.trainer import word_logits

    if args.threads:
        torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="nerxl-train-speed-"))
    base = resolve_model(args.model)
    n_train = args.steps * args.batch_size
    en = load_source("conll2003:en")
    yor = load_source("masakhaner2:yor")
    import datasets

    parts, names, _ = map_labels({"en": datasets.DatasetDict({"train": cap(en["train"], n_train, 0)})},
                                 source_types("conll2003:en", en), "drop")
    train = parts["en"]["train"]
    test = list(cap(yor["test"], args.infer, 0)["tokens"])
    trimmed = work / "trimmed"
    info = trim_vocabulary(base, list(train["tokens"]) + test, trimmed)

    def run_train(model_path: str, pad_to_max: bool, grouped: bool) -> tuple[float, object, object]:
        tok = AutoTokenizer.from_pretrained(model_path)
        ds = train.map(tokenize_and_align_labels, batched=True, remove_columns=train.column_names,
                       fn_kwargs={"tokenizer": tok, "max_length": args.max_length, "label_all_tokens": False})
        config = AutoConfig.from_pretrained(model_path, num_labels=len(names), num_hidden_layers=args.num_layers,
                                            id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})
        torch.manual_seed(0)
        model = AutoModelForTokenClassification.from_pretrained(model_path, config=config, ignore_mismatched_sizes=True)
        targs = TrainingArguments(output_dir=str(work / "tmp"), max_steps=args.steps, per_device_train_batch_size=args.batch_size,
                                  learning_rate=2e-4, seed=0, save_strategy="no", report_to="none", logging_strategy="no",
                                  disable_tqdm=True, **({"train_sampling_strategy": "group_by_length"} if grouped else {}))
        collator = (DataCollatorForTokenClassification(tok, padding="max_length", max_length=args.max_length) if pad_to_max
                    else DataCollatorForTokenClassification(tok))
        trainer = Trainer(model=model, args=targs, train_dataset=ds, processing_class=tok, data_collator=collator)
        t0 = time.perf_counter()
        trainer.train()
        return n_train / (time.perf_counter() - t0), trainer.model, tok

    def pad_to_max_infer(model, tok) -> float:
        model.eval()
        t0 = time.perf_counter()
        for i in range(0, len(test), 32):
            enc = tok([list(s) for s in test[i:i + 32]], truncation=True, max_length=args.max_length,
                      is_split_into_words=True, padding="max_length", return_tensors="pt")
            with torch.no_grad():
                model(**enc)
        return len(test) / (time.perf_counter() - t0)

    def dynamic_infer(model, tok):
        t0 = time.perf_counter()
        logits, _ = word_logits(model, tok, test, max_length=args.max_length)
        return len(test) / (time.perf_counter() - t0), logits

    rows = []
    variants = [("pad-to-max", base, True, False), ("dynamic", base, False, False),
                ("dynamic+grouped", base, False, True), ("dynamic+grouped+trimmed", str(trimmed), False, True)]
    logits_by = {}
    for name, path, pad, grouped in variants:
        rate, model, tok = run_train(path, pad, grouped)
        if name == "pad-to-max":
            inf = pad_to_max_infer(model, tok)
        else:
            inf, logits_by[name] = dynamic_infer(model, tok)
        rows.append((name, rate, inf))
        print(f"{name}: train {rate:.1f} sentences/s, inference {inf:.1f} sentences/s", flush=True)
    # Same weights, two vocabularies: the trimmed model must give the same logits as the full one.
    full = AutoModelForTokenClassification.from_pretrained(base, num_labels=len(names), num_hidden_layers=args.num_layers)
    torch.manual_seed(0)
    small = AutoModelForTokenClassification.from_pretrained(str(trimmed), num_labels=len(names), num_hidden_layers=args.num_layers)
    small.classifier.load_state_dict(full.classifier.state_dict())
    lf, _ = word_logits(full, AutoTokenizer.from_pretrained(base), test[:100], max_length=args.max_length)
    ls, _ = word_logits(small, AutoTokenizer.from_pretrained(str(trimmed)), test[:100], max_length=args.max_length)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(lf, ls, strict=True))
    # The cached-feature recipe the committed scaling runs use (results/recipe.json): the same
    # sentences and optimiser steps; the feature pass (once per sentence a run ever reads) apart.
    import json

    from nerxl_data.train.cached import CachedRecipe, FeatureCache, fit_cached, one_hot
    from nerxl_data.train.trainer import gold_tags

    picked = json.loads((Path(__file__).parent / "results" / "recipe.json").read_text())["picked"]
    recipe = CachedRecipe(feature_layer=picked["feature_layer"], train_layers=picked["train_layers"],
                          head_hidden=picked["head_hidden"], head_window=picked["head_window"],
                          learning_rate=picked["learning_rate"], batch_size=args.batch_size, epochs=1e-9,
                          min_steps=args.steps, max_steps=args.steps, max_length=args.max_length)
    cache = FeatureCache(base, recipe.feature_layer, work / "features", max_length=args.max_length)
    cache.get([["warm", "up"]])  # model load, not a per-sentence cost
    t0 = time.perf_counter()
    cache.get(list(train["tokens"]))
    feat_train = n_train / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    cm = fit_cached(cache, train["tokens"], one_hot(gold_tags(train), names), names, recipe, 0)
    cached_train = n_train / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    cm.word_logits(test)  # the first evaluation of a test set: its feature pass + the head
    first_inf = len(test) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    cm.word_logits(test)  # every later model of a run on the same test set
    cached_inf = len(test) / (time.perf_counter() - t0)
    rows += [(f"cached recipe (layer {recipe.feature_layer}, head), first use of each sentence", 1 / (1 / feat_train + 1 / cached_train), first_inf),
             (f"cached recipe (layer {recipe.feature_layer}, head), states on disk", cached_train, cached_inf)]
    print(f"cached: feature pass {feat_train:.1f} sentences/s, train {cached_train:.1f}/s, infer first {first_inf:.1f}/s, "
          f"cached {cached_inf:.1f}/s", flush=True)
    b_train, b_inf = rows[0][1], rows[0][2]
    lines = ["# Training and inference speed of the scaling experiment's models", "",
             f"`NERXL_DATA_DIR=../shared/data python benchmarks/bench_train_speed.py{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}`", "",
             f"Model `{args.model}`, bottom {args.num_layers} layers, max_length {args.max_length}, batch {args.batch_size}, "
             f"{args.steps} optimiser steps on {n_train} English CoNLL sentences; inference on {len(test)} yor test sentences; "
             f"torch threads {torch.get_num_threads()}; one run, all variants in it (the machine is shared: read the ratios). "
             f"Trimmed vocabulary: {info['kept']} of {info['original']} tokens kept; max abs logit difference trimmed vs full "
             f"(same weights, 100 sentences): {diff:.2e}.", "",
             "| variant | train sentences/s | x | inference sentences/s | x |", "|---|---|---|---|---|"]
    for name, rate, inf in rows:
        lines.append(f"| {name} | {rate:.1f} | {rate / b_train:.2f} | {inf:.1f} | {inf / b_inf:.2f} |")
    lines += ["", "Before: the finetune recipe (`--recipe finetune`, the `dynamic+grouped+trimmed` row: what "
              "every model of the committed 2026-12 answer paid per training pass and per test sentence). After: the "
              "cached recipe (`--recipe cached`, `nerxl_data.train.cached`): a sentence goes through the frozen layers "
              "once (`first use` row: that pass plus the head), then every model of the run trains and is scored on its "
              "kept states (`states on disk` row). A scaling run scores each test set dozens of times (every direct, "
              "student and projection model), so its evaluation runs at the second row's rate after the first model.",
              "", "`--recipe finetune` (`--trim-vocab`, grouped batches, dynamic padding) trains at the "
              "`dynamic+grouped+trimmed` row's rate. The machine may be shared: read the ratios, measured in one run."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
