"""Token classification with the Trainer API, following run_ner.py's conventions.

The pieces are plain functions so the CLI, ``python -m nerxl_data.train`` and the scaling
experiment share them: :func:`fit` trains a model on a (multi-source) dataset,
:func:`predict_tags` tags words, :func:`score_tags` scores them with the project's one scorer,
:func:`nerxl_data.evaluation.evaluate_tags` (strict IOB2, exact span and type, entity-level micro),
reported with the keys of the Hub's ``seqeval`` metric (``overall_f1`` ... as fractions, one dict
per type) so that ``run_ner.py``-style code reads it unchanged.

The local ``evaluate`` module (``metrics/seqeval``, :func:`load_seqeval`) is kept for
``run_ner.py --metric ...``: the Hub's seqeval contract (same output keys), strict IOB2 by
default so that it equals :func:`score_tags` (``scheme=None, mode=None``: the Hub's lenient
conlleval reading, where a stray ``I-`` starts an entity).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import datasets
import numpy as np

from ..errors import ConfigError
from .data import tokenize_and_align_labels

logger = logging.getLogger(__name__)

SEQEVAL_PATH = str(Path(__file__).parent / "metrics" / "seqeval")


def load_seqeval():
    """The local seqeval ``evaluate`` module (no Hub access)."""
    import evaluate

    return evaluate.load(SEQEVAL_PATH)


def flatten_scores(results: dict, return_entity_level_metrics: bool = False) -> dict:
    """run_ner.py's metric keys from a seqeval-style result (:func:`score_tags`, the local
    ``evaluate`` module): ``precision``, ``recall``, ``f1``, ``accuracy`` (the overall ones), or
    with ``return_entity_level_metrics`` every key flattened (``overall_f1``, ``PER_f1``,
    ``PER_number`` ...). Keys other than the scorer's (``n_sentences`` ...) are left out.

    >>> flatten_scores(score_tags([["B-PER", "O"]], [["B-PER", "O"]]))["f1"]
    1.0
    >>> sorted(flatten_scores(score_tags([["B-PER"]], [["B-PER"]]), True))[:3]
    ['PER_f1', 'PER_number', 'PER_precision']
    """
    if return_entity_level_metrics:
        final = {}
        for key, value in results.items():
            if isinstance(value, dict):
                for n, v in value.items():
                    final[f"{key}_{n}"] = v
            elif key.startswith("overall_"):
                final[key] = value
        return final
    return {"precision": results["overall_precision"], "recall": results["overall_recall"],
            "f1": results["overall_f1"], "accuracy": results["overall_accuracy"]}


def make_compute_metrics(label_list: Sequence[str], metric=None, return_entity_level_metrics: bool = False) -> Callable:
    """run_ner.py's ``compute_metrics``: argmax, drop -100 positions, score with :func:`score_tags`
    (or with ``metric``, an ``evaluate`` module, when given), keys by :func:`flatten_scores`."""

    def compute_metrics(p):
        predictions, labels = p
        predictions = np.argmax(predictions, axis=2)
        true_predictions = [[label_list[q] for (q, lab) in zip(pred, gold, strict=True) if lab != -100] for pred, gold in zip(predictions, labels, strict=True)]
        true_labels = [[label_list[lab] for (q, lab) in zip(pred, gold, strict=True) if lab != -100] for pred, gold in zip(predictions, labels, strict=True)]
        if metric is None:
            results = score_tags(true_labels, true_predictions)
        else:
            results = metric.compute(predictions=true_predictions, references=true_labels)
        return flatten_scores(results, return_entity_level_metrics)

    return compute_metrics


def split_metrics(res: dict, prefix: str, *, return_entity_level_metrics: bool = False) -> dict:
    """What run_ner.py passes to ``trainer.log_metrics``/``save_metrics`` for a scored split, from
    :func:`evaluate_loaded`'s result: :func:`flatten_scores` under ``prefix`` (``eval_f1`` ...,
    ``predict_overall_f1`` ...), ``{prefix}_samples`` (run_ner.py's ``eval_samples``), and nerxl's
    counts ``{prefix}_predicted_entities``, ``{prefix}_gold_entities``, ``{prefix}_truncated_words``.

    >>> r = score_tags([["B-PER", "O"]], [["O", "O"]])
    >>> r.update(n_sentences=1, predicted_entities=0, gold_entities=1, truncated_words=0)
    >>> m = split_metrics(r, "eval")
    >>> m["eval_f1"], m["eval_samples"], m["eval_gold_entities"]
    (0.0, 1, 1)
    """
    out = {f"{prefix}_{k}": v for k, v in flatten_scores(res, return_entity_level_metrics).items()}
    out[f"{prefix}_samples"] = res["n_sentences"]
    for key in ("predicted_entities", "gold_entities", "truncated_words"):
        out[f"{prefix}_{key}"] = res[key]
    return out


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def fit(
    model_name_or_path: str,
    train_dataset: datasets.Dataset,
    label_list: Sequence[str],
    training_args,
    *,
    eval_dataset: datasets.Dataset | None = None,
    max_length: int = 128,
    label_all_tokens: bool = False,
    tokenizer=None,
    min_batch_size: int = 1,
    freeze_embeddings: bool = False,
    num_layers: int | None = None,
    config_name: str | None = None,
    from_pretrained_kwargs: dict | None = None,
    ignore_mismatched_sizes: bool = True,
    pad_to_max_length: bool = False,
    preprocessing_num_workers: int | None = None,
    overwrite_cache: bool = False,
):
    """Fine-tune ``model_name_or_path`` for token classification; return the Trainer.

    ``train_dataset`` has ``tokens`` and ``ner_tags`` (ids into ``label_list``). On
    out-of-memory the per-device batch size is halved (gradient accumulation doubled, so the
    effective batch stays) with a warning, down to ``min_batch_size``. ``freeze_embeddings``
    keeps the word embedding matrix fixed (most of a multilingual encoder's parameters: a CPU
    saving, and it keeps the languages' shared vocabulary space intact). ``num_layers`` keeps
    only the encoder's bottom layers (their token vectors are less specialised than the top of a
    sentence-embedding model such as e5, and a CPU run gets cheaper).

    run_ner.py's model and preprocessing arguments: ``config_name`` (the config read instead of
    the model's), ``from_pretrained_kwargs`` (``cache_dir``, ``revision``, ``token``,
    ``trust_remote_code``, given to every ``from_pretrained``), ``ignore_mismatched_sizes`` (a
    head of another size is re-initialised; on by default here, off in run_ner.py),
    ``pad_to_max_length`` (every training sentence padded to ``max_length``),
    ``preprocessing_num_workers`` (``num_proc`` of the tokenising ``map``) and
    ``overwrite_cache`` (that ``map`` ignores its cache).
    """
    from transformers import (
        AutoConfig,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        Trainer,
        set_seed,
    )

    set_seed(training_args.seed)
    hub = dict(from_pretrained_kwargs or {})
    tokenizer = tokenizer or AutoTokenizer.from_pretrained(model_name_or_path, **hub)
    label_list = list(label_list)

    def prep(ds):
        return ds.map(
            tokenize_and_align_labels, batched=True, remove_columns=ds.column_names,
            num_proc=preprocessing_num_workers, load_from_cache_file=False if overwrite_cache else None,
            fn_kwargs={"tokenizer": tokenizer, "max_length": max_length, "label_all_tokens": label_all_tokens,
                       "label_names": label_list, "padding": "max_length" if pad_to_max_length else False},
        )

    train_tok = prep(train_dataset)
    eval_tok = prep(eval_dataset) if eval_dataset is not None else None
    while True:
        config = AutoConfig.from_pretrained(
            config_name or model_name_or_path, num_labels=len(label_list),
            **({"num_hidden_layers": num_layers} if num_layers else {}),
            id2label=dict(enumerate(label_list)), label2id={n: i for i, n in enumerate(label_list)}, **hub,
        )
        try:
            model = AutoModelForTokenClassification.from_pretrained(
                model_name_or_path, config=config, ignore_mismatched_sizes=ignore_mismatched_sizes, **hub)
        except RuntimeError as exc:
            if ignore_mismatched_sizes or "ignore_mismatched_sizes" not in str(exc):
                raise
            raise ConfigError(f"{model_name_or_path}: its weights (a classification head) do not fit the "
                              f"{len(label_list)} labels here; --ignore_mismatched_sizes re-initialises them") from None
        if freeze_embeddings:
            model.get_input_embeddings().weight.requires_grad_(False)
        trainer = Trainer(
            model=model, args=training_args, train_dataset=train_tok, eval_dataset=eval_tok,
            processing_class=tokenizer, data_collator=DataCollatorForTokenClassification(tokenizer),
            compute_metrics=make_compute_metrics(label_list) if eval_tok is not None else None,
        )
        try:
            result = trainer.train()
            break
        except (RuntimeError, MemoryError) as exc:
            bs = training_args.per_device_train_batch_size
            if not _is_oom(exc) or bs // 2 < min_batch_size:
                raise
            warnings.warn(f"out of memory at batch size {bs}; retrying with batch size {bs // 2} "
                          f"and gradient accumulation {training_args.gradient_accumulation_steps * 2}", stacklevel=2)
            training_args.per_device_train_batch_size = bs // 2
            training_args.gradient_accumulation_steps *= 2
            del trainer, model
            _free_memory()
    trainer.train_result = result
    return trainer


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def word_logits(model, tokenizer, sentences: Sequence[Sequence[str]], *, max_length: int = 128, batch_size: int = 32):
    """Per-word logits (first subword of each word) for pre-split ``sentences``.

    Returns a list of float32 arrays ``[n_words, n_labels]``; words cut off by ``max_length``
    get the logits of ``O`` only (a row of -inf except ``O`` = 0), so tag sequences keep their
    length for scoring (counted in the return's second item).

    The sentences are tokenised once, sorted by subword count and run in batches padded to
    their own longest member, under ``torch.inference_mode``; each batch's first-subword logits
    are written into one array with one gather. A sentence's logits do not depend on the batch it
    ran in (padding is masked): ``tests/test_newcomer.py`` checks batched against one at a time.
    """
    import torch

    from .data import first_subword_positions

    model.eval()
    device = next(model.parameters()).device
    o_index = model.config.label2id.get("O", 0)
    sents = [list(s) for s in sentences]
    if not sents:
        return [], 0
    enc = tokenizer(sents, truncation=True, max_length=max_length, is_split_into_words=True)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    firsts = [first_subword_positions(enc.word_ids(batch_index=i), len(s)) for i, s in enumerate(sents)]
    n_words = np.array([len(s) for s in sents], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_words)])
    flat = np.full((int(offsets[-1]), model.config.num_labels), -1e4, dtype=np.float32)
    flat[:, o_index] = 0.0
    # Batches of similar subword length (dynamic padding: each batch padded to its own longest).
    order = np.argsort([len(x) for x in ids], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer.pad({"input_ids": [ids[i] for i in idx], "attention_mask": [mask[i] for i in idx]},
                                  return_tensors="pt")
            logits = model(**{k: v.to(device) for k, v in batch.items()}).logits.float().cpu().numpy()
            pos = np.concatenate([firsts[i] for i in idx])
            row = np.repeat(np.arange(len(idx)), n_words[idx])
            dst = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in idx])
            kept = pos >= 0
            flat[dst[kept]] = logits[row[kept], pos[kept]]
    truncated = int(sum(int((f < 0).sum()) for f in firsts))
    return [flat[offsets[i]:offsets[i + 1]] for i in range(len(sents))], truncated


def predict_tags(model, tokenizer, sentences: Sequence[Sequence[str]], **kw) -> tuple[list[list[str]], int]:
    """Tag pre-split sentences with a token classification model (argmax per word)."""
    logits, truncated = word_logits(model, tokenizer, sentences, **kw)
    id2label = model.config.id2label
    return [[id2label[int(j)] for j in row.argmax(-1)] for row in logits], truncated


def score_tags(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """:func:`nerxl_data.evaluation.evaluate_tags` (the one scorer: strict IOB2, ``(gold, pred)``)
    with the Hub seqeval metric's keys: ``overall_precision/recall/f1`` as fractions,
    ``overall_accuracy`` (token accuracy) and per type ``{precision, recall, f1, number}``.

    >>> score_tags([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])["overall_f1"]
    1.0
    """
    from ..evaluation import evaluate_tags

    res = evaluate_tags(gold, pred)
    m = res["micro"]
    tokens = sum(len(g) for g in gold)
    correct = sum(a == b for g, p in zip(gold, pred, strict=True) for a, b in zip(g, p, strict=True))
    out: dict = {t: {"precision": v["precision"] / 100, "recall": v["recall"] / 100, "f1": v["f1"] / 100,
                     "number": v["support"]} for t, v in res["per_type"].items()}
    out.update(overall_precision=m["precision"] / 100, overall_recall=m["recall"] / 100, overall_f1=m["f1"] / 100,
               overall_accuracy=correct / tokens if tokens else 0.0)
    return out


def evaluate_model(model_dir: str | os.PathLike, dataset: datasets.Dataset, *, max_length: int = 128, batch_size: int = 32,
                   device: str | None = None, dtype: str = "float32") -> dict:
    """Score a saved token classification model on a dataset with string or ClassLabel tags.

    ``device``: default cuda when available (:func:`nerxl_data.align.encoders.pick_device`);
    ``dtype="bfloat16"`` runs the model under bfloat16 autocast (faster on CPUs with bf16
    instructions and on GPUs; logits move by rounding, so a score may differ slightly).
    """
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from ..align.encoders import pick_device

    if dtype not in ("float32", "bfloat16"):
        raise ConfigError(f"dtype must be float32 or bfloat16, got {dtype!r}")
    device = pick_device(device)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(model_dir).to(device)
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=dtype == "bfloat16"):
        return evaluate_loaded(model, tokenizer, dataset, max_length=max_length, batch_size=batch_size)


def gold_tags(dataset: datasets.Dataset) -> list[list[str]]:
    inner = getattr(dataset.features["ner_tags"], "feature", None)
    if isinstance(inner, datasets.ClassLabel):
        return [[inner.names[i] for i in t] for t in dataset["ner_tags"]]
    return [list(t) for t in dataset["ner_tags"]]


def evaluate_loaded(model, tokenizer, dataset: datasets.Dataset, *, max_length: int = 128, batch_size: int = 32) -> dict:
    """:func:`score_tags` of the model's predictions, plus ``n_sentences``, ``truncated_words`` and
    the entity counts ``predicted_entities`` / ``gold_entities`` (the scorer's strict IOB2 reading)."""
    return predict_and_score(model, tokenizer, dataset, max_length=max_length, batch_size=batch_size)[0]


def predict_and_score(model, tokenizer, dataset: datasets.Dataset, *, max_length: int = 128,
                      batch_size: int = 32) -> tuple[dict, list[list[str]]]:
    """:func:`evaluate_loaded`'s result and the predicted tags it scored (one list per sentence,
    one tag per word: what run_ner.py writes to ``predictions.txt``)."""
    from ..evaluation import sentence_counts

    preds, truncated = predict_tags(model, tokenizer, dataset["tokens"], max_length=max_length, batch_size=batch_size)
    gold = gold_tags(dataset)
    res = score_tags(gold, preds)
    res["n_sentences"] = len(dataset)
    res["truncated_words"] = truncated
    _, res["predicted_entities"], res["gold_entities"] = (int(x) for x in sentence_counts(gold, preds).sum(0))
    return res, preds
