"""``train_ner``: the run_ner.py flow over one or several sources, with label mapping.

Arguments are dataclasses parsed by ``HfArgumentParser`` (``python -m nerxl_data.train``),
exactly like run_ner.py: :class:`ModelArguments`, :class:`DataTrainingArguments` and
``transformers.TrainingArguments``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from ..corpora import ReadReport
from ..errors import ConfigError
from ..schema import LABEL_SETS
from .data import cap, load_source, map_labels, source_types
from .models import resolve_model
from .recipe import CPU_HINT, FitRecipe, prediction_warning
from .trainer import evaluate_loaded, fit

logger = logging.getLogger(__name__)


@dataclass
class ModelArguments:
    model_name_or_path: str = field(metadata={"help": "HF encoder name or path, or 'e5-small' (offline)."})
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's."})


@dataclass
class DataTrainingArguments:
    dataset_name: str | None = field(default=None, metadata={
        "help": "Source(s), comma-separated: 'masakhaner2:hau', 'conll2003:en', a local file/folder, or a Hub dataset."})
    dataset_config_name: str | None = field(default=None, metadata={
        "help": "Config of a Hub-layout folder (what nerxl build writes: LANG.METHOD) or Hub dataset (run_ner.py)."})
    train_file: str | None = field(default=None, metadata={"help": "Local train file (CoNLL, JSON lines, parquet)."})
    validation_file: str | None = field(default=None, metadata={"help": "Local validation file."})
    test_file: str | None = field(default=None, metadata={"help": "Local test file."})
    eval_dataset: str | None = field(default=None, metadata={
        "help": "Evaluate on this source's validation/test splits instead (e.g. the target 'masakhaner2:yor')."})
    target_types: str | None = field(default=None, metadata={
        "help": "Label set trained for, e.g. 'masakhaner' or 'PER,ORG,LOC,DATE' (default: the eval/first source's)."})
    missing_type_policy: str = field(default="drop", metadata={"help": "Source types the target lacks: drop, keep or error."})
    data_dir: str | None = field(default=None, metadata={"help": "Corpus folder (default $NERXL_DATA_DIR)."})
    max_seq_length: int = field(default=128, metadata={"help": "Max subword tokens per sentence."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Cap per source (seeded shuffle)."})
    max_eval_samples: int | None = field(default=None)
    max_predict_samples: int | None = field(default=None)
    label_all_tokens: bool = field(default=False, metadata={"help": "Label every subword, not only the first."})


@dataclass
class RecipeArguments:
    """The training recipe's flags (:class:`~nerxl_data.train.recipe.FitRecipe`).

    ``--max_steps`` is the Trainer's own flag and keeps its meaning here (exactly that many
    steps, overriding the epochs and ``--min_steps``, as in run_ner.py); ``nerxl train
    --max-steps`` is the recipe's cap.
    """

    min_steps: int = field(default=0, metadata={"help": "Train at least this many optimiser steps (when --max_steps is not set)."})
    num_layers: int | None = field(default=None, metadata={"help": "Keep only the bottom N encoder layers (default: all)."})
    freeze_embeddings: bool = field(default=False, metadata={"help": "Keep the word embeddings fixed."})
    empty_ratio: float | None = field(default=None, metadata={
        "help": "Entity-less training sentences kept per entity sentence (0 drops them; default: keep all)."})

    def recipe(self):
        from .recipe import FitRecipe

        return FitRecipe(min_steps=self.min_steps, num_layers=self.num_layers,
                         freeze_embeddings=self.freeze_embeddings, empty_ratio=self.empty_ratio)


def _parse_types(value: str | None) -> list[str] | None:
    if not value:
        return None
    if value in LABEL_SETS:
        return list(LABEL_SETS[value])
    return [t.strip() for t in value.split(",") if t.strip()]


def load_training_data(data_args: DataTrainingArguments, seed: int = 42):
    """Load, map and concatenate the sources. Returns (splits, label_list, report)."""
    specs = [s.strip() for s in (data_args.dataset_name or "").split(",") if s.strip()]
    sources: dict[str, datasets.DatasetDict] = {}
    reads: dict[str, ReadReport] = {}
    for spec in specs:
        reads[spec] = ReadReport()
        sources[spec] = load_source(spec, data_dir=data_args.data_dir, dataset_config_name=data_args.dataset_config_name,
                                    report=reads[spec])
    files = {"train": data_args.train_file, "validation": data_args.validation_file, "test": data_args.test_file}
    if any(files.values()):
        local = {}
        for split, f in files.items():
            if f:
                local[split] = load_source(f)["train"]
        sources["files"] = datasets.DatasetDict(local)
    if not sources:
        raise ConfigError("give --dataset_name (one or more sources) or --train_file")
    eval_source = None
    if data_args.eval_dataset:
        reads["eval:" + data_args.eval_dataset] = ReadReport()
        eval_source = load_source(data_args.eval_dataset, data_dir=data_args.data_dir,
                                  dataset_config_name=data_args.dataset_config_name,
                                  report=reads["eval:" + data_args.eval_dataset])
    first = data_args.eval_dataset or next(iter(sources))
    target = _parse_types(data_args.target_types) or source_types(first, eval_source if data_args.eval_dataset else sources[first])
    limits = {"train": data_args.max_train_samples, "validation": data_args.max_eval_samples, "test": data_args.max_predict_samples}
    # Cap before mapping: the label report then counts what is really trained and scored on.
    all_sources = {s: datasets.DatasetDict({k: cap(v, limits.get(k), seed) for k, v in ds.items()}) for s, ds in sources.items()}
    if eval_source is not None:
        all_sources["eval:" + data_args.eval_dataset] = datasets.DatasetDict(
            {k: cap(v, limits.get(k), seed) for k, v in eval_source.items() if k != "train"})
    mapped, names, report = map_labels(all_sources, target, data_args.missing_type_policy)
    for spec, read in reads.items():
        report.add_read_repairs(spec, read)
    splits: dict[str, datasets.Dataset] = {}
    trains = [ds["train"] for s, ds in mapped.items() if "train" in ds and not s.startswith("eval:")]
    if trains:
        splits["train"] = datasets.concatenate_datasets(trains).shuffle(seed=seed)
    eval_from = {k: v for k, v in mapped.items() if k.startswith("eval:")} or mapped
    for split in ("validation", "test"):
        parts = [ds[split] for ds in eval_from.values() if split in ds]
        if parts:
            splits[split] = datasets.concatenate_datasets(parts)
    return datasets.DatasetDict(splits), names, report


def train_ner(model_args: ModelArguments, data_args: DataTrainingArguments, training_args,
              recipe: FitRecipe | None = None, hint: str = CPU_HINT) -> dict:
    """Train (``--do_train``), evaluate on validation (``--do_eval``) and test (``--do_predict``).

    ``recipe`` selects the training sentences (:meth:`FitRecipe.select`), sets the step count
    (:meth:`FitRecipe.steps`, unless ``training_args.max_steps`` is already set) and the layers
    kept. When the model predicts no entity on its evaluation split (validation, else test), or
    fewer than a tenth of the gold count, ``results["warnings"]`` holds one line saying so and
    naming ``hint`` (:func:`~nerxl_data.train.recipe.prediction_warning`); the caller prints it.

    Writes ``all_results.json`` and ``label_report.json`` to ``output_dir``; returns the results.
    """
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    recipe = recipe or FitRecipe()
    splits, names, report = load_training_data(data_args, training_args.seed)
    for line in report.lines():
        logger.info(line)
    model_path = resolve_model(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(model_args.tokenizer_name or model_path)
    out = Path(training_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {"label_report": report.to_dict(), "labels": names}
    if training_args.do_train:
        if "train" not in splits:
            raise ConfigError("--do_train but no source has a train split")
        train = splits["train"]
        o = names.index("O")
        keep = recipe.select([any(t != o for t in tags) for tags in train["ner_tags"]], training_args.seed)
        if len(keep) < len(train):
            logger.info("training on %d of %d sentences (entity-less ones kept: %g per entity sentence)",
                        len(keep), len(train), recipe.empty_ratio)
            train = train.select(keep)
        if recipe.sets_steps and training_args.max_steps <= 0:
            batch = (training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
                     * max(1, training_args.world_size))
            training_args.max_steps = recipe.steps(len(train), training_args.num_train_epochs, batch)
        trainer = fit(model_path, train, names, training_args, eval_dataset=None,
                      max_length=data_args.max_seq_length, label_all_tokens=data_args.label_all_tokens, tokenizer=tokenizer,
                      freeze_embeddings=recipe.freeze_embeddings, num_layers=recipe.num_layers)
        from ..paths import atomic_files

        with atomic_files(out) as tmp:  # a kill while saving leaves no truncated model.safetensors
            trainer.save_model(str(tmp))
        model = trainer.model
        results["train"] = trainer.train_result.metrics | {"train_samples": len(train),
                                                            "steps": trainer.state.global_step}
    else:
        model = AutoModelForTokenClassification.from_pretrained(model_path)
    for flag, split in ((training_args.do_eval, "validation"), (training_args.do_predict, "test")):
        if flag:
            if split not in splits:
                raise ConfigError(f"no {split} split to evaluate on (sources: {data_args.dataset_name or data_args.eval_dataset})")
            results[split] = evaluate_loaded(model, tokenizer, splits[split], max_length=data_args.max_seq_length,
                                             batch_size=training_args.per_device_eval_batch_size)
    evaluated = next((s for s in ("validation", "test") if s in results), None)
    if evaluated is not None:
        r = results[evaluated]
        line = prediction_warning(r["predicted_entities"], r["gold_entities"], evaluated, hint)
        results["warnings"] = [line] if line else []
    from ..paths import write_text_atomic

    write_text_atomic(out / "all_results.json", json.dumps(results, indent=2, default=str))
    write_text_atomic(out / "label_report.json", json.dumps(report.to_dict(), indent=2))
    return results
