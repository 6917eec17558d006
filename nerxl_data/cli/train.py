"""`nerxl train`, `nerxl evaluate-model` and `nerxl experiment scaling`: thin commands over
:mod:`nerxl_data.train`.

``nerxl train`` and the transformers example ``run_ner.py``
-----------------------------------------------------------

This table is the one place the mapping is written (``tests/test_train_run_ner_args.py`` checks
that every run_ner.py name in it is accepted). ``nerxl train`` takes every argument of
``examples/pytorch/token-classification/run_ner.py`` (its ``ModelArguments`` and
``DataTrainingArguments``) and the common ``TrainingArguments`` below, in run_ner.py's spelling
(``--train_file``) as well as nerxl's (``--train-file``); a boolean takes run_ner.py's forms,
``--label_all_tokens`` or ``--label_all_tokens true|false`` (so give MODEL first, not after
one). An argument that cannot be honoured as given is refused with one ``Error:`` line, never
ignored; a ``TrainingArguments`` flag not listed is an unknown option here. ``python -m
nerxl_data.train`` parses run_ner.py's dataclasses (:mod:`nerxl_data.train.run`) with every
``TrainingArguments`` flag and the Trainer's defaults; the "how" column holds for it too, except
for what is ``nerxl train``'s own (its defaults, ``--max-steps``, ``--max-eval-sentences``
capping test)::

    run_ner.py                    nerxl train                      how
    model_name_or_path            MODEL, --model-name-or-path      also e5-small (offline)
    config_name                   --config-name                    the config the model is built from
    tokenizer_name                --tokenizer-name                 as run_ner.py
    cache_dir                     --cache-dir                      models, configs, tokenizers, Hub datasets
    model_revision                --model-revision                 model, config, tokenizer (not datasets)
    token                         --token                          models and Hub datasets
    trust_remote_code             --trust-remote-code              models (datasets runs no loading scripts)
    ignore_mismatched_sizes       --ignore-mismatched-sizes        default true here (false in run_ner.py):
                                                                   a head of another size is re-initialised
    task_name                     --task-name                      ner only; pos, chunk ... refused
    dataset_name                  --dataset (repeatable)           also NAME:LANG registry corpora, local
                                                                   files/folders, several sources mapped
                                                                   onto one label set
    dataset_config_name           --dataset-config                 as run_ner.py
    train_file, validation_file,  --train-file, --validation-file, CoNLL, JSON lines, parquet
      test_file                     --test-file                      (run_ner.py: csv, json)
    text_column_name,             --text-column-name,              Hub datasets and Hub-layout folders;
      label_column_name             --label-column-name              refused for registry corpora and local
                                                                     files (read as tokens/ner_tags)
    overwrite_cache               --overwrite-cache                the tokenising map skips its cache
    preprocessing_num_workers     --preprocessing-num-workers      num_proc of the tokenising map
    max_seq_length                --max-length                     default 128 (run_ner.py: the tokenizer's
                                                                   maximum); scoring counts words beyond it
                                                                   as O, run_ner.py leaves them out
    pad_to_max_length             --pad-to-max-length              training batches (scores do not change)
    max_train_samples             --max-train-sentences            a seeded random sample of each source
                                                                   (run_ner.py: the first N)
    max_eval_samples              --max-eval-sentences             seeded sample; caps test too unless
                                                                   --max-test-sentences is given
    max_predict_samples           --max-test-sentences             seeded sample
    label_all_tokens              --label-all-tokens               training labels (B-X as I-X on later
                                                                   subwords); scores stay per word
    return_entity_level_metrics   --return-entity-level-metrics    eval_overall_f1, eval_PER_f1 ... keys
    TrainingArguments:
    output_dir                    --output-dir                     required
    do_train                      --do_train                       always on; false refused (nerxl
                                                                   evaluate-model scores without training)
    do_eval, do_predict           --do-eval/--no-eval,             default true here (false in run_ner.py)
                                  --do-predict/--no-predict
    per_device_train_batch_size   --batch-size                     default 16 (run_ner.py: 8)
    per_device_eval_batch_size    --per-device-eval-batch-size     sentences per scoring batch
    gradient_accumulation_steps   --gradient-accumulation-steps    as the Trainer
    learning_rate                 --lr                             as the Trainer
    weight_decay                  --weight-decay                   as the Trainer
    num_train_epochs              --epochs                         as the Trainer (with --min-steps and
                                                                   --max-steps, the recipe's step rule)
    max_steps                     --max_steps                      exactly N steps, over --epochs, as the
                                                                   Trainer; with --min-steps or --max-steps
                                                                   refused. nerxl's --max-steps (hyphen) is
                                                                   the recipe's cap: at most N
    warmup_steps                  --warmup-steps                   as the Trainer (below 1: a ratio)
    lr_scheduler_type             --lr-scheduler-type              as the Trainer
    seed                          --seed                           also the seed of the sentence samples
    fp16, bf16                    --fp16, --bf16                   as the Trainer (a GPU)
    report_to                     --report-to                      default none
    disable_tqdm                  --disable-tqdm                   as the Trainer
    save_strategy                 --save-strategy                  no only: the final model is saved (atomically),
                                                                   no checkpoints

Scores: every word's first subword, through :func:`nerxl_data.train.trainer.evaluate_loaded` (what
``nerxl evaluate-model`` reports, the project's strict IOB2 seqeval; run_ner.py with the local
metric module gives the same F1 when no word is cut off and ``--label_all_tokens`` is off).
Output, as run_ner.py writes it through the Trainer's ``log_metrics``/``save_metrics``/
``save_state``: ``train_results.json`` (``train_loss``, ``train_runtime`` ..., ``train_samples``),
``trainer_state.json``, ``eval_results.json`` (``eval_precision``, ``eval_recall``, ``eval_f1``,
``eval_accuracy``, ``eval_samples``, ``eval_runtime`` ..., ``epoch``; no ``eval_loss``),
``predict_results.json`` (``predict_*``), ``all_results.json`` (all merged), ``predictions.txt``
(test tags, a sentence a line) and the model; nerxl's own ``nerxl_results.json`` (label report,
per split scores with entity counts, warnings) and ``label_report.json``. The eval and predict
files also hold ``*_predicted_entities``, ``*_gold_entities`` and ``*_truncated_words``.
"""

from __future__ import annotations

import json

import click

from ..errors import ConfigError
from .types import COUNT, POSITIVE, POSITIVE_FLOAT, cap_option


def _cap(n: int | None) -> int | None:
    return None if n is None or n <= 0 else n


def _hf_bool(*decls: str, default: bool | None = False, help: str | None = None, hidden: bool = False):
    """A boolean in run_ner.py's forms: ``--flag`` alone is true, ``--flag true|false`` (what
    ``HfArgumentParser`` takes)."""
    return click.option(*decls, type=click.BOOL, is_flag=False, flag_value=True, default=default,
                        show_default=default is not None, help=help, hidden=hidden)


def _spelled(ctx: click.Context, name: str) -> bool:
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE


@click.command("train")
@click.argument("model", required=False)
@click.option("--model-name-or-path", "--model_name_or_path", "model_opt", default=None,
              help="MODEL as an option (run_ner.py's spelling); give one of the two.")
@click.option("--config-name", "--config_name", default=None, help="Config name or path, if not MODEL's.")
@click.option("--tokenizer-name", "--tokenizer_name", default=None, help="Tokenizer name or path, if not MODEL's.")
@click.option("--cache-dir", "--cache_dir", default=None, type=click.Path(file_okay=False),
              help="Where models and Hub datasets downloaded from the Hub are kept.")
@click.option("--model-revision", "--model_revision", default="main", show_default=True,
              help="Model version on the Hub: a branch, tag or commit id.")
@click.option("--token", default=None, help="Hub token for models and Hub datasets (default: your login's).")
@_hf_bool("--trust-remote-code", "--trust_remote_code", help="Run code from the model's Hub repository.")
@_hf_bool("--ignore-mismatched-sizes", "--ignore_mismatched_sizes", default=True,
          help="Re-initialise a classification head of another size (false: refuse such a model, as run_ner.py does).")
@click.option("--task-name", "--task_name", default="ner", show_default=True, help="Only ner.")
@click.option("--dataset", "--dataset_name", "datasets_", multiple=True,
              help="Source: masakhaner2:hau, conll2003:en, a local file/folder or a Hub dataset. Repeat for multi-source.")
@click.option("--dataset-config", "--dataset_config_name", default=None,
              help="Config of a Hub-layout folder (nerxl build's LANG.METHOD) or Hub dataset.")
@click.option("--train-file", "--train_file", default=None, help="Local train file (CoNLL, JSON lines, parquet).")
@click.option("--validation-file", "--validation_file", default=None)
@click.option("--test-file", "--test_file", default=None)
@click.option("--text-column-name", "--text_column_name", default=None,
              help="Words column of a Hub dataset or Hub-layout folder (default: tokens).")
@click.option("--label-column-name", "--label_column_name", default=None,
              help="Tags column of a Hub dataset or Hub-layout folder (default: ner_tags).")
@click.option("--eval-dataset", default=None, help="Evaluate on this source's validation/test (e.g. the target masakhaner2:yor).")
@click.option("--target-types", default=None, help="Label set: 'masakhaner', 'conll' or 'PER,ORG,LOC,DATE' (default: the eval/first source's).")
@click.option("--missing-types", type=click.Choice(["drop", "keep", "error"]), default="drop", show_default=True,
              help="Source entity types the target label set lacks.")
@click.option("--output-dir", "--output_dir", required=True, type=click.Path(file_okay=False),
              help="Where the model, the run_ner.py results files and nerxl_results.json go.")
@click.option("--epochs", "--num_train_epochs", type=POSITIVE_FLOAT, default=3.0, show_default=True)
@click.option("--lr", "--learning_rate", type=POSITIVE_FLOAT, default=5e-5, show_default=True)
@click.option("--batch-size", "--per_device_train_batch_size", type=POSITIVE, default=16, show_default=True)
@click.option("--per-device-eval-batch-size", "--per_device_eval_batch_size", "eval_batch_size", type=POSITIVE,
              default=8, show_default=True, help="Sentences per forward pass when scoring.")
@click.option("--gradient-accumulation-steps", "--gradient_accumulation_steps", type=POSITIVE, default=1, show_default=True)
@click.option("--weight-decay", "--weight_decay", type=click.FloatRange(min=0), default=0.0, show_default=True)
@click.option("--warmup-steps", "--warmup_steps", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Warmup optimiser steps (below 1: a fraction of them).")
@click.option("--lr-scheduler-type", "--lr_scheduler_type", default="linear", show_default=True)
@_hf_bool("--fp16", help="fp16 mixed precision (a GPU).")
@_hf_bool("--bf16", help="bf16 mixed precision.")
@click.option("--report-to", "--report_to", default="none", show_default=True, help="Trainer loggers (wandb, tensorboard ...).")
@_hf_bool("--disable-tqdm", "--disable_tqdm", default=None, help="No progress bars (default: the Trainer's).")
@click.option("--save-strategy", "--save_strategy", type=click.Choice(["no"]), default="no", show_default=True,
              help="Only no: the final model is saved, no checkpoints.")
@click.option("--max-length", "--max_seq_length", type=POSITIVE, default=128, show_default=True)
@_hf_bool("--pad-to-max-length", "--pad_to_max_length", help="Pad every training sentence to --max-length.")
@_hf_bool("--overwrite-cache", "--overwrite_cache", help="Tokenise again, not from the datasets cache.")
@click.option("--preprocessing-num-workers", "--preprocessing_num_workers", type=POSITIVE, default=None,
              help="Processes that tokenise.")
@_hf_bool("--label-all-tokens", "--label_all_tokens", help="Train on every subword (B-X as I-X after the first).")
@_hf_bool("--return-entity-level-metrics", "--return_entity_level_metrics",
          help="Scores per entity type in eval/predict_results.json (eval_overall_f1, eval_PER_f1 ...).")
@cap_option("--max-train-sentences", "max_train_samples", old=("--max-train-samples",), aliases=("--max_train_samples",),
            type=POSITIVE, default=None, metavar="N",
            help="Train on N sentences of each source's train split (a seeded random sample; default: all).")
@cap_option("--max-eval-sentences", "max_eval_samples", old=("--max-eval-samples",), aliases=("--max_eval_samples",),
            type=POSITIVE, default=None, metavar="N",
            help="Score N sentences of each validation split, and of each test split unless --max-test-sentences "
                 "is given (a seeded random sample; default: all).")
@cap_option("--max-test-sentences", "max_predict_samples", aliases=("--max_predict_samples",), type=POSITIVE,
            default=None, metavar="N", help="Score N sentences of each test split (a seeded random sample).")
@click.option("--seed", type=int, default=42, show_default=True)
@_hf_bool("--do_train", default=None, help="run_ner.py's: nerxl train always trains (false is refused).")
@click.option("--do-eval/--no-eval", default=True, show_default=True,
              help="Score the validation split (by default: when the data has one; given: it must).")
@_hf_bool("--do_eval", "hf_do_eval", default=None, help="--do-eval/--no-eval in run_ner.py's spelling.")
@click.option("--do-predict/--no-predict", default=True, show_default=True,
              help="Score the test split (by default: when the data has one; given: it must).")
@_hf_bool("--do_predict", "hf_do_predict", default=None, help="--do-predict/--no-predict in run_ner.py's spelling.")
@click.option("--min-steps", type=int, default=0, show_default=True,
              help="Train at least this many optimiser steps (a small silver set gives few).")
@click.option("--max-steps", type=int, default=None,
              help="The recipe's cap: at most this many optimiser steps (not run_ner.py's --max_steps, which is exactly N).")
@click.option("--max_steps", "trainer_max_steps", type=POSITIVE, default=None,
              help="run_ner.py's: exactly this many optimiser steps, whatever --epochs gives (not the recipe's "
                   "--max-steps cap).")
@click.option("--num-layers", type=int, default=None, help="Keep only the bottom N encoder layers (default: all; the CPU recipe uses 4).")
@click.option("--freeze-embeddings", is_flag=True, help="Keep the word embeddings fixed (saves CPU time).")
@click.option("--empty-ratio", type=float, default=None,
              help="Entity-less training sentences kept per entity sentence (0 drops them; default: keep all).")
@click.pass_context
def train_cmd(ctx, model, model_opt, config_name, tokenizer_name, cache_dir, model_revision, token, trust_remote_code,
              ignore_mismatched_sizes, task_name, datasets_, dataset_config, train_file, validation_file, test_file,
              text_column_name, label_column_name, eval_dataset, target_types, missing_types, output_dir, epochs, lr,
              batch_size, eval_batch_size, gradient_accumulation_steps, weight_decay, warmup_steps, lr_scheduler_type,
              fp16, bf16, report_to, disable_tqdm, save_strategy, max_length, pad_to_max_length, overwrite_cache,
              preprocessing_num_workers, label_all_tokens, return_entity_level_metrics, max_train_samples,
              max_eval_samples, max_predict_samples, seed, do_train, do_eval, hf_do_eval, do_predict, hf_do_predict,
              min_steps, max_steps, trainer_max_steps, num_layers, freeze_embeddings, empty_ratio) -> None:
    """Fine-tune MODEL (an HF encoder, a folder, or e5-small) for NER on one or more sources.

    Every argument of the transformers example run_ner.py is taken, in its spelling too
    (--train_file, --label_all_tokens true); how each maps: nerxl_data.cli.train's docstring.

    On a CPU, a small silver set trains best with the recipe
    --lr 5e-4 --num-layers 4 --max-length 64 --empty-ratio 0 --min-steps 60 --epochs 12."""
    if (model is None) == (model_opt is None):
        raise click.UsageError("give MODEL or --model_name_or_path" if model is None
                               else "give MODEL or --model_name_or_path, not both", ctx)
    model = model or model_opt
    if do_train is False:
        raise click.UsageError("--do_train false: nerxl train always trains; nerxl evaluate-model scores a model "
                               "without training it", ctx)
    for flag, value in (("do_eval", hf_do_eval), ("do_predict", hf_do_predict)):
        if value is not None and _spelled(ctx, flag) and value != ctx.params[flag]:
            raise click.UsageError(f"--{flag} {str(value).lower()} contradicts --{flag.replace('_', '-')}/"
                                   f"--no-{flag[3:]}: give one", ctx)
    do_eval = do_eval if hf_do_eval is None else hf_do_eval
    do_predict = do_predict if hf_do_predict is None else hf_do_predict
    if trainer_max_steps is not None and (_spelled(ctx, "min_steps") or max_steps is not None):
        raise click.UsageError("--max_steps (exactly N steps, run_ner.py's) with --min-steps or --max-steps (the "
                               "recipe's floor and cap): give one of the two", ctx)
    from ..corpora._io import check_file  # a missing local file is "no such file", not a Hub error
    [check_file(f) for f in (train_file, validation_file, test_file) if f]
    from ..hubio import apply_hub_timeout

    apply_hub_timeout()  # a model or dataset by Hub name: timeouts, an HTML answer refused
    from transformers import TrainingArguments

    from ..train.recipe import FitRecipe
    from ..train.run import DataTrainingArguments, ModelArguments, train_ner

    recipe = FitRecipe(min_steps=min_steps, max_steps=max_steps, num_layers=num_layers,
                       freeze_embeddings=freeze_embeddings, empty_ratio=empty_ratio)
    model_args = ModelArguments(model, config_name=config_name, tokenizer_name=tokenizer_name, cache_dir=cache_dir,
                                model_revision=model_revision, token=token, trust_remote_code=trust_remote_code,
                                ignore_mismatched_sizes=ignore_mismatched_sizes)
    data_args = DataTrainingArguments(
        task_name=task_name, dataset_name=",".join(datasets_) or None, dataset_config_name=dataset_config,
        train_file=train_file, validation_file=validation_file, test_file=test_file,
        text_column_name=text_column_name, label_column_name=label_column_name, eval_dataset=eval_dataset,
        target_types=target_types, missing_type_policy=missing_types, overwrite_cache=overwrite_cache,
        preprocessing_num_workers=preprocessing_num_workers, max_seq_length=max_length,
        pad_to_max_length=pad_to_max_length, max_train_samples=max_train_samples, max_eval_samples=max_eval_samples,
        max_predict_samples=max_predict_samples or max_eval_samples, label_all_tokens=label_all_tokens,
        return_entity_level_metrics=return_entity_level_metrics,
    )
    try:
        training_args = TrainingArguments(
            output_dir=output_dir, do_train=True, do_eval=do_eval, do_predict=do_predict, num_train_epochs=epochs,
            max_steps=trainer_max_steps or -1, learning_rate=lr, per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=eval_batch_size, gradient_accumulation_steps=gradient_accumulation_steps,
            weight_decay=weight_decay, warmup_steps=int(warmup_steps) if warmup_steps >= 1 else warmup_steps,
            lr_scheduler_type=lr_scheduler_type, fp16=fp16,
            bf16=bf16, seed=seed, save_strategy=save_strategy, report_to=report_to,
            **({"disable_tqdm": disable_tqdm} if disable_tqdm is not None else {}),
        )
    except ValueError as exc:  # an unknown scheduler or logger, fp16 without a GPU ...
        raise ConfigError(f"TrainingArguments: {str(exc).strip().splitlines()[0]}") from None
    # not asked for by name: a split the data lacks is skipped (said), not an error
    optional = tuple(split for split, name, hf in (("validation", "do_eval", hf_do_eval), ("test", "do_predict", hf_do_predict))
                     if hf is None and not _spelled(ctx, name))
    results = train_ner(model_args, data_args, training_args, recipe, optional_splits=optional)
    from ..train.data import LabelReport

    click.echo("\n".join(LabelReport.from_dict(results["label_report"]).lines()))
    if "train" in results:
        t = results["train"]
        click.echo(f"trained {t['steps']} steps on {t['train_samples']} sentences in {t['train_runtime']:.0f} s")
    for split in ("validation", "test"):
        if split in results:
            r = results[split]
            click.echo(f"{split}: F1 {100 * r['overall_f1']:.1f}  P {100 * r['overall_precision']:.1f}  R {100 * r['overall_recall']:.1f}"
                       f"  ({r['predicted_entities']} entities predicted, {r['gold_entities']} gold)")
    for line in results.get("warnings", []):
        click.echo(f"Warning: {line}", err=True)
    click.echo(f"model, all_results.json (run_ner.py's metrics) and nerxl_results.json in {output_dir}")


@click.command("evaluate-model")
@click.argument("model")
@click.option("--dataset", required=True, help="NAME:lang (masakhaner2:yor, conll2003:en, europarl-ner:de), a local file/folder, or a Hub dataset.")
@click.option("--dataset-config", default=None, help="Config of a Hub-layout folder or Hub dataset (run_ner.py's --dataset_config_name).")
@click.option("--split", default="test", show_default=True)
@cap_option("--max-eval-sentences", "max_sentences", old=("--max-sentences",), type=COUNT, default=0, show_default=True,
            metavar="N", help="Score N sentences of the split (a seeded random sample); 0 = all.")
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--batch-size", type=POSITIVE, default=32, show_default=True, help="Sentences per forward pass.")
@click.option("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda when available).")
@click.option("--dtype", type=click.Choice(["float32", "bfloat16"]), default="float32", show_default=True,
              help="bfloat16: autocast, about 1.7x faster on a CPU with bf16 support; scores may differ slightly.")
@click.option("--threads", type=POSITIVE, default=None,
              help="torch threads (default: torch's; fewer can be faster on a machine busy with other work).")
@click.option("--json", "as_json", is_flag=True, help="Print the full seqeval result as JSON.")
def evaluate_cmd(model, dataset, dataset_config, split, max_sentences, max_length, batch_size, device, dtype, threads,
                 as_json) -> None:
    """Score a token classification MODEL on a dataset split (entity-level seqeval F1)."""
    from ..hubio import apply_hub_timeout
    from ..train.data import cap, load_source
    from ..train.models import resolve_model
    from ..train.trainer import evaluate_model

    apply_hub_timeout()  # a model or dataset by Hub name: timeouts, an HTML answer refused
    ds = load_source(dataset, dataset_config_name=dataset_config)
    if split not in ds:
        raise ConfigError(f"{dataset} has no split {split!r} (splits: {', '.join(ds)})")
    if threads:
        import torch

        torch.set_num_threads(threads)
    res = evaluate_model(resolve_model(model), cap(ds[split], _cap(max_sentences)), max_length=max_length,
                         batch_size=batch_size, device=device, dtype=dtype)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(f"{dataset} {split} ({res['n_sentences']} sentences): F1 {100 * res['overall_f1']:.1f}  "
               f"P {100 * res['overall_precision']:.1f}  R {100 * res['overall_recall']:.1f}  "
               f"token accuracy {100 * res['overall_accuracy']:.1f}")
    for t, v in sorted((k, v) for k, v in res.items() if isinstance(v, dict)):
        click.echo(f"  {t:<6} F1 {100 * v['f1']:.1f}  (n={v['number']})")
    if res["truncated_words"]:
        click.echo(f"  {res['truncated_words']} words beyond max_length {max_length} scored as O")


@click.group("experiment")
def experiment() -> None:
    """Experiments over the whole pipeline."""


@experiment.command("scaling")
@click.option("--targets", required=True, help="Comma-separated targets: MasakhaNER 2.0 codes (yor,kin,...) or de,es,nl (CoNLL).")
@click.option("--sources", required=True, help="Comma-separated, in the given order: en (CoNLL-2003), swa, hau, ... "
              "(MasakhaNER 2.0), de/es/nl (CoNLL), or NAME:lang.")
@click.option("--seeds", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--orders", type=click.IntRange(min=0), default=2, show_default=True, help="Seeded random source orders (their mean is the headline).")
@click.option("--order-seed", type=int, default=0, show_default=True)
@click.option("--model", default="e5-small", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Run folder; a rerun resumes from it.")
@click.option("--methods", default="direct,ts-uniform,ts-similarity,ts-agreement,ts-lid,projection,in-language", show_default=True,
              help="Any of direct, direct-budget (needs --budget-sentences), ts-uniform, ts-similarity, ts-agreement, ts-lid, "
                   "projection, in-language.")
@click.option("--reference-orders", default="given,similarity", show_default=True,
              help="Orders reported apart from the random ones: given, similarity, or none.")
@click.option("--reference-methods", default=None,
              help="Methods run on the reference orders (default: all of --methods; e.g. direct keeps them cheap).")
@click.option("--recipe", type=click.Choice(["finetune", "cached"]), default="finetune", show_default=True,
              help="finetune: the Trainer, every kept layer (GPU); cached: frozen lower layers run once per sentence, "
                   "the layers above and the head trained on the kept states (CPU; benchmarks/results/recipe.md).")
@click.option("--cached-layer", type=click.IntRange(min=0), default=4, show_default=True, help="cached: the layer whose output is kept.")
@click.option("--train-layers", type=click.IntRange(min=0), default=0, show_default=True, help="cached: layers above it that are trained (0: a probe).")
@click.option("--head-hidden", type=click.IntRange(min=0), default=0, show_default=True, help="cached: 0 a linear head, else a hidden layer of this size.")
@click.option("--head-window", type=click.IntRange(min=1), default=1, show_default=True, help="cached: positions the hidden layer sees at once (odd).")
@click.option("--features-dir", default=None, type=click.Path(file_okay=False), help="cached: where states are kept (default OUT/features; runs may share one).")
@cap_option("--max-train-sentences", "max_sentences", old=("--max-sentences",), type=COUNT, default=0, show_default=True,
            metavar="N", help="Training sentences per source; 0 = all (or --budget-minutes).")
@cap_option("--max-unlabeled-sentences", "max_unlabeled", old=("--max-unlabeled",), type=COUNT, default=0,
            show_default=True, metavar="N", help="Unlabeled student sentences per target; 0 = all.")
@cap_option("--max-test-sentences", "max_test_sentences", type=COUNT, default=0, show_default=True, metavar="N",
            help="Gold test sentences scored per target; 0 = the whole gold test set.")
@cap_option("--max-silver-sentences", "max_silver", old=("--max-silver",), type=COUNT, default=2000, show_default=True,
            metavar="N", help="LAFAND pairs the builder projects per target (nerxl build --max-silver-sentences); 0 = all.")
@click.option("--in-language-whole", is_flag=True, help="Train the in-language reference on the whole gold train split (not capped like a source).")
@click.option("--budget-sentences", type=click.IntRange(min=1), default=None, help="direct-budget: the k sources of a cell share this many training sentences.")
@click.option("--budget-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Pick the caps you did not set so that the estimated time fits (options you set are kept).")
@click.option("--epochs", type=click.FloatRange(min=0, min_open=True), default=3.0, show_default=True)
@click.option("--min-steps", type=click.IntRange(min=0), default=0, show_default=True, help="Train every model at least this many optimiser steps.")
@click.option("--max-steps", type=click.IntRange(min=0), default=0, show_default=True, help="At most this many optimiser steps (0: no cap).")
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--max-length", type=click.IntRange(min=8), default=128, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=5e-5, show_default=True)
@click.option("--freeze-embeddings", is_flag=True, help="finetune: keep word embeddings fixed (saves CPU time).")
@click.option("--num-layers", type=click.IntRange(min=1), default=None, help="finetune: keep only the bottom N encoder layers (default: all).")
@click.option("--trim-vocab/--no-trim-vocab", default=True, show_default=True,
              help="finetune: train from a copy of the model whose vocabulary holds only the run's tokens (same outputs, cheaper).")
@click.option("--mixed-precision/--no-mixed-precision", default=True, show_default=True,
              help="finetune on CUDA: bf16 (or fp16) autocast and TF32.")
@click.option("--empty-ratio", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Entity-less silver/student sentences kept per entity sentence.")
@click.option("--missing-types", type=click.Choice(["drop", "keep", "error"]), default="drop", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="torch threads (default: torch's).")
@click.option("--plan-only", is_flag=True, help="Print the plan and the estimate, train nothing.")
@click.pass_context
def scaling_cmd(ctx, targets, sources, seeds, orders, order_seed, model, out, methods, reference_orders, reference_methods,
                recipe, cached_layer, train_layers, head_hidden, head_window, features_dir, max_sentences, max_unlabeled, max_test_sentences,
                max_silver, in_language_whole, budget_sentences, budget_minutes, epochs, min_steps, max_steps, batch_size,
                max_length, lr, freeze_embeddings, num_layers, trim_vocab, mixed_precision, empty_ratio, missing_types,
                threads, plan_only) -> None:
    """Target F1 vs number of sources k, per method, over targets, seeds and source orders."""
    from ..experiments.scaling import Experiment, ExperimentConfig, pick_caps
    from ..hubio import apply_hub_timeout

    apply_hub_timeout()  # models and corpora by Hub name: timeouts, an HTML answer refused
    if threads:
        import torch

        torch.set_num_threads(threads)

    def split(x):
        return [s.strip() for s in x.split(",") if s.strip()]

    cfg = ExperimentConfig(
        targets=split(targets), sources=split(sources), model=model, out=out, seeds=seeds, orders=orders,
        order_seed=order_seed, methods=split(methods),
        reference_orders=[] if reference_orders.strip() == "none" else split(reference_orders),
        reference_methods=split(reference_methods) if reference_methods else None, max_sentences=_cap(max_sentences),
        max_unlabeled=_cap(max_unlabeled), max_test_sentences=_cap(max_test_sentences), max_silver=_cap(max_silver),
        in_language_whole=in_language_whole, budget_sentences=budget_sentences, recipe=recipe, cached_layer=cached_layer,
        train_layers=train_layers, head_hidden=head_hidden, head_window=head_window, features_dir=features_dir, epochs=epochs, min_steps=min_steps, max_steps=max_steps,
        batch_size=batch_size, max_length=max_length, learning_rate=lr, freeze_embeddings=freeze_embeddings,
        num_layers=num_layers, trim_vocab=trim_vocab, mixed_precision=mixed_precision, empty_ratio=empty_ratio,
        missing_type_policy=missing_types,
    )
    if budget_minutes:
        from click.core import ParameterSource

        user_set = {name for name in ("max_sentences", "max_unlabeled", "max_test_sentences", "max_silver")
                    if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE}
        cfg, est, plan, changed = pick_caps(cfg, budget_minutes, user_set=user_set)
        exp = Experiment(cfg)
        if changed:
            click.echo(f"--budget-minutes {budget_minutes:g} set {', '.join(f'{k}={getattr(cfg, k)}' for k in changed)} "
                       "(options you set are kept)", err=True)
        if est > 60 * budget_minutes:
            click.echo(f"Warning: even the smallest caps are estimated at {est / 60:.0f} min, over the budget of "
                       f"{budget_minutes:g} min", err=True)
    else:
        exp = Experiment(cfg)
        plan = exp.plan()
        est = exp.estimate_seconds(plan)
    click.echo(f"plan ({cfg.recipe} recipe): {plan['direct_models']} direct/teacher models, {plan['students']} students, "
               f"{plan['projection_models']} projection models; {plan['train_sentence_passes']} training sentence passes, "
               f"{plan['eval_sentences']} test sentences scored, {plan['teacher_inference_sentences']} teacher sentences tagged, "
               f"{plan['silver_pairs_to_build']} silver pairs to build"
               + (f", {plan['feature_sentences']} sentences through the frozen layers" if plan.get("feature_sentences") else "")
               + f"; caps: train {cfg.max_sentences or 'all'}, unlabeled {cfg.max_unlabeled or 'all'}, test "
               f"{cfg.max_test_sentences or 'all'}, silver {cfg.max_silver or 'all'}; estimated {est / 60:.0f} min "
               "(models already on disk are skipped)", err=True)
    if plan_only:
        return
    exp.run()
    click.echo((exp.out / "results.md").read_text())
    click.echo(f"trained {len(exp.trained)} models ({len(exp.trained) and ', '.join(exp.trained[:5])}...); "
               f"results.csv, results.md, scaling.png in {out}")


commands = [train_cmd, evaluate_cmd, experiment]
