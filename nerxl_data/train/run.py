"""``train_ner``: the run_ner.py flow over one or several sources, with label mapping.

Arguments are dataclasses parsed by ``HfArgumentParser`` (``python -m nerxl_data.train``),
exactly like run_ner.py: :class:`ModelArguments`, :class:`DataTrainingArguments` (each a
superset of run_ner.py's class of that name: every field of it, same name, same default except
``ignore_mismatched_sizes``, true, and ``max_seq_length``, 128) and ``transformers.TrainingArguments``. How each one is honoured,
and ``nerxl train``'s spelling of it: :mod:`nerxl_data.cli.train`.
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
from .trainer import fit

logger = logging.getLogger(__name__)


@dataclass
class ModelArguments:
    model_name_or_path: str = field(metadata={"help": "HF encoder name or path, or 'e5-small' (offline)."})
    config_name: str | None = field(default=None, metadata={"help": "Config name or path, if not the model's."})
    tokenizer_name: str | None = field(default=None, metadata={"help": "Tokenizer, if not the model's."})
    cache_dir: str | None = field(default=None, metadata={
        "help": "Where models (and Hub datasets) downloaded from the Hub are stored."})
    model_revision: str = field(default="main", metadata={"help": "Model version: a branch, tag or commit id."})
    token: str | None = field(default=None, metadata={"help": "Hub token for models and Hub datasets (default: the login's)."})
    trust_remote_code: bool = field(default=False, metadata={
        "help": "Run code from the model's Hub repository (only for repositories you trust)."})
    ignore_mismatched_sizes: bool = field(default=True, metadata={
        "help": "Re-initialise a classification head of another size (default true here, false in run_ner.py)."})

    def from_pretrained_kwargs(self) -> dict:
        """``cache_dir``, ``revision``, ``token``, ``trust_remote_code`` for ``from_pretrained``
        (only those set: a call without them is the call nerxl always made)."""
        kw = {"cache_dir": self.cache_dir, "revision": None if self.model_revision == "main" else self.model_revision,
              "token": self.token, "trust_remote_code": self.trust_remote_code or None}
        return {k: v for k, v in kw.items() if v is not None}


@dataclass
class DataTrainingArguments:
    task_name: str = field(default="ner", metadata={"help": "Only 'ner' (run_ner.py's pos, chunk ... are refused)."})
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
    text_column_name: str | None = field(default=None, metadata={
        "help": "Words column of a Hub dataset or Hub-layout folder (default: tokens)."})
    label_column_name: str | None = field(default=None, metadata={
        "help": "Tags column of a Hub dataset or Hub-layout folder (default: ner_tags)."})
    overwrite_cache: bool = field(default=False, metadata={"help": "Tokenise again, not from the datasets cache."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes that tokenise."})
    max_seq_length: int = field(default=128, metadata={"help": "Max subword tokens per sentence."})
    pad_to_max_length: bool = field(default=False, metadata={
        "help": "Pad every training sentence to max_seq_length (default: each batch to its longest)."})
    max_train_samples: int | None = field(default=None, metadata={"help": "Cap per source (seeded shuffle)."})
    max_eval_samples: int | None = field(default=None)
    max_predict_samples: int | None = field(default=None)
    label_all_tokens: bool = field(default=False, metadata={"help": "Label every subword, not only the first."})
    return_entity_level_metrics: bool = field(default=False, metadata={
        "help": "eval/predict metrics per entity type (overall_f1, PER_f1 ...), not only precision/recall/f1/accuracy."})

    def __post_init__(self) -> None:
        if (self.task_name or "").lower() != "ner":
            raise ConfigError(f"task_name {self.task_name!r}: nerxl trains named entity recognition only (task_name ner); "
                              "run_ner.py's other tasks (pos, chunk) are not supported")
        self.task_name = "ner"


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


def load_training_data(data_args: DataTrainingArguments, seed: int = 42, model_args: ModelArguments | None = None):
    """Load, map and concatenate the sources. Returns (splits, label_list, report).

    ``model_args``: its ``cache_dir`` and ``token`` apply to Hub datasets, as in run_ner.py."""
    specs = [s.strip() for s in (data_args.dataset_name or "").split(",") if s.strip()]
    sources: dict[str, datasets.DatasetDict] = {}
    reads: dict[str, ReadReport] = {}
    kw = {"text_column_name": data_args.text_column_name, "label_column_name": data_args.label_column_name}
    if model_args is not None:
        kw.update(cache_dir=model_args.cache_dir, token=model_args.token)
    for spec in specs:
        reads[spec] = ReadReport()
        sources[spec] = load_source(spec, data_dir=data_args.data_dir, dataset_config_name=data_args.dataset_config_name,
                                    report=reads[spec], **kw)
    files = {"train": data_args.train_file, "validation": data_args.validation_file, "test": data_args.test_file}
    if any(files.values()):
        local = {}
        for split, f in files.items():
            if f:
                local[split] = load_source(f, **kw)["train"]
        sources["files"] = datasets.DatasetDict(local)
    if not sources:
        raise ConfigError("give --dataset_name (one or more sources) or --train_file")
    eval_source = None
    if data_args.eval_dataset:
        reads["eval:" + data_args.eval_dataset] = ReadReport()
        eval_source = load_source(data_args.eval_dataset, data_dir=data_args.data_dir,
                                  dataset_config_name=data_args.dataset_config_name,
                                  report=reads["eval:" + data_args.eval_dataset], **kw)
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


RESULT_FILES = ("all_results.json", "train_results.json", "eval_results.json", "predict_results.json",
                "trainer_state.json", "predictions.txt", "nerxl_results.json", "label_report.json")
"""What :func:`train_ner` writes besides the model; a run removes the old ones first (the
Trainer's ``save_metrics`` merges into an ``all_results.json`` it finds)."""


def train_ner(model_args: ModelArguments, data_args: DataTrainingArguments, training_args,
              recipe: FitRecipe | None = None, hint: str = CPU_HINT, optional_splits: tuple[str, ...] = ()) -> dict:
    """Train (``--do_train``), evaluate on validation (``--do_eval``) and test (``--do_predict``).

    ``recipe`` selects the training sentences (:meth:`FitRecipe.select`), sets the step count
    (:meth:`FitRecipe.steps`, unless ``training_args.max_steps`` is already set) and the layers
    kept. When the model predicts no entity on its evaluation split (validation, else test), or
    fewer than a tenth of the gold count, ``results["warnings"]`` holds one line saying so and
    naming ``hint`` (:func:`~nerxl_data.train.recipe.prediction_warning`); the caller prints it.

    Writes to ``output_dir``, as run_ner.py does, through the Trainer's own ``log_metrics`` /
    ``save_metrics`` / ``save_state``: ``train_results.json`` (the Trainer's train metrics and
    ``train_samples``), ``trainer_state.json``, ``eval_results.json`` (``eval_precision``,
    ``eval_recall``, ``eval_f1``, ``eval_accuracy`` or, with ``return_entity_level_metrics``,
    ``eval_overall_f1``, ``eval_PER_f1`` ...; ``eval_samples``, ``eval_runtime`` ..., ``epoch``),
    ``predict_results.json`` (the same with ``predict_``), ``all_results.json`` (all of them
    merged) and ``predictions.txt`` (the test split's predicted tags, one sentence a line). The
    scores are :func:`~nerxl_data.train.trainer.evaluate_loaded`'s (every word's first subword,
    words beyond ``max_seq_length`` scored as ``O``: what ``nerxl evaluate-model`` reports); no
    ``eval_loss``. nerxl's own: ``nerxl_results.json`` (the returned dict: ``label_report``,
    ``labels``, ``train``, ``validation``, ``test``, ``warnings``) and ``label_report.json``.
    """
    import time

    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer, Trainer
    from transformers.trainer_utils import speed_metrics

    from ..paths import atomic_files, write_text_atomic
    from .trainer import predict_and_score, split_metrics

    recipe = recipe or FitRecipe()
    splits, names, report = load_training_data(data_args, training_args.seed, model_args)
    for line in report.lines():
        logger.info(line)
    if training_args.do_train and "train" not in splits:
        raise ConfigError("--do_train but no source has a train split")
    skipped = []
    for flag, split in (("do_eval", "validation"), ("do_predict", "test")):
        if getattr(training_args, flag) and split not in splits:  # said before training, not after it
            if split not in optional_splits:
                raise ConfigError(f"no {split} split to evaluate on (sources: "
                                  f"{data_args.dataset_name or data_args.eval_dataset or 'the given files'})")
            setattr(training_args, flag, False)
            skipped.append(f"no {split} split in the data: not scored (give --{split}-file or a source with one)")
    hub = model_args.from_pretrained_kwargs()
    model_path = resolve_model(model_args.model_name_or_path)
    tokenizer = AutoTokenizer.from_pretrained(model_args.tokenizer_name or model_path, **hub)
    out = Path(training_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in RESULT_FILES:
        (out / name).unlink(missing_ok=True)
    results: dict = {"label_report": report.to_dict(), "labels": names}
    metrics: dict[str, dict] = {}
    if training_args.do_train:
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
                      freeze_embeddings=recipe.freeze_embeddings, num_layers=recipe.num_layers,
                      config_name=model_args.config_name, from_pretrained_kwargs=hub,
                      ignore_mismatched_sizes=model_args.ignore_mismatched_sizes,
                      pad_to_max_length=data_args.pad_to_max_length,
                      preprocessing_num_workers=data_args.preprocessing_num_workers,
                      overwrite_cache=data_args.overwrite_cache)
        with atomic_files(out) as tmp:  # a kill while saving leaves no truncated model.safetensors
            trainer.save_model(str(tmp))
        model = trainer.model
        metrics["train"] = trainer.train_result.metrics | {"train_samples": len(train)}
        results["train"] = metrics["train"] | {"steps": trainer.state.global_step}
    else:
        config = AutoConfig.from_pretrained(model_args.config_name, **hub) if model_args.config_name else None
        model = AutoModelForTokenClassification.from_pretrained(
            model_path, **({"config": config} if config is not None else {}), **hub)
        trainer = Trainer(model=model, args=training_args, processing_class=tokenizer)  # for its log/save calls
    predictions = None
    batch_size = training_args.per_device_eval_batch_size
    for flag, split, prefix in ((training_args.do_eval, "validation", "eval"), (training_args.do_predict, "test", "predict")):
        if flag:
            start = time.time()
            results[split], tags = predict_and_score(model, tokenizer, splits[split], max_length=data_args.max_seq_length,
                                                     batch_size=batch_size)
            n = len(splits[split])
            metrics[prefix] = (split_metrics(results[split], prefix,
                                             return_entity_level_metrics=data_args.return_entity_level_metrics)
                               | speed_metrics(prefix, start, num_samples=n, num_steps=-(-n // batch_size)))
            if prefix == "eval" and training_args.do_train:
                metrics[prefix]["epoch"] = trainer.state.epoch  # as trainer.evaluate() logs it
            if prefix == "predict":
                predictions = tags
    results["warnings"] = list(skipped)
    evaluated = next((s for s in ("validation", "test") if s in results), None)
    if evaluated is not None:
        r = results[evaluated]
        line = prediction_warning(r["predicted_entities"], r["gold_entities"], evaluated, hint)
        results["warnings"] += [line] if line else []
    for split, m in metrics.items():  # run_ner.py's calls, in its order
        trainer.log_metrics(split, m)
        trainer.save_metrics(split, m)
        if split == "train":
            trainer.save_state()
    if predictions is not None:
        write_text_atomic(out / "predictions.txt", "".join(" ".join(p) + "\n" for p in predictions))
    write_text_atomic(out / "nerxl_results.json", json.dumps(results, indent=2, default=str))
    write_text_atomic(out / "label_report.json", json.dumps(report.to_dict(), indent=2))
    return results
