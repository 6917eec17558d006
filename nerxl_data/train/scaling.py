"""The source-scaling experiment: target F1 as source languages are added, per transfer method,
over several targets, seeds and source orders, with 95% intervals.

For every target T and k = 1..K (K = the sources other than T), on T's gold test set:

* ``direct``: one model trained on the union of the first k sources of an order, zero-shot on T;
* ``ts-uniform`` / ``ts-similarity`` / ``ts-agreement`` / ``ts-lid``: teacher-student (Wu et al.
  2020): one teacher per source (the k=1 direct model of that source), a student trained on T's
  unlabeled train sentences to match the teachers' combined distributions (uniform average;
  weighted by e5 sentence-embedding similarity, by teacher agreement, or by a character n-gram
  language-identification model over the source training sentences, Wu et al.'s weighting:
  :func:`nerxl_data.train.distill.lid_weights`);
* ``projection``: silver T data built by the MasakhaNER 2.0 builder (``nerxl build masakhaner2``:
  LAFAND parallel text with T's pivot, English or French, tagged by spaCy, projected with the
  builder's default method) into ``<out>/silver`` (a Hub-layout folder ``nerxl list`` shows);
  LAFAND pairs T with its pivot only, so this is one reference row per target, not a curve in k;
  a target without parallel text says so;
* reference rows: ``in-language`` (trained on T's gold train split, capped like a source: the
  ceiling) and ``best-single-source`` (the k=1 source with the best mean F1 on T; picked on T's
  test, an oracle, shown next to English).

Orders: the given order, ``orders`` seeded random permutations (their mean is the headline), and
a similarity-ranked order (sources by decreasing e5 centroid cosine to T), the last two reported
apart. ``budget_sentences`` B makes the k sources of a cell share B training sentences (B // k
each), so that "more sources" is separated from "more data".

Sharing: a model that does not depend on the target (a direct model per source subset and seed;
a teacher is the one-source direct model) is trained once, evaluated once on every target
(and on its own language: that is the in-language cell), and shared across targets and orders;
teachers' distributions on a target's unlabeled text are computed once per teacher and target.

Intervals: for each cell the F1 values of R runs (seeds x orders) are averaged; the 95% interval
is a two-level bootstrap: each of 1,000 replicates resamples the test sentences (with
replacement, one draw shared by the runs, micro F1 recomputed from per-sentence counts) *and*
the runs (with replacement), and averages the runs' F1; the interval is the 2.5-97.5
percentiles. It therefore holds both the test-sample noise and the seed/order spread.

Training rule (never looks at a test set): silver and soft-labelled training sentences without
an entity are down-sampled to ``empty_ratio`` per entity sentence
(:func:`nerxl_data.train.distill.select_sentences`), and every model trains for
``max(epochs x sentences / batch, min_steps)`` optimiser steps, so a small or filtered set is
not under-trained. A model that predicts no entity on its target is flagged in the table.

Resumption: every trained model writes ``models/<key>/done.json`` (its evaluations, per-sentence
counts, statistics) when it finishes; a rerun reads it back. Outputs after each stage:
``results.csv`` (one row per target, method, order, k and seed), ``results.md``, ``scaling.png``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..errors import ConfigError, unknown_name

logger = logging.getLogger(__name__)

TS_METHODS = ("ts-uniform", "ts-similarity", "ts-agreement", "ts-lid")
METHODS = ("direct", *TS_METHODS, "projection", "in-language")
REFERENCE_ORDERS = ("given", "similarity")
CONLL = {"en": "conll2003", "de": "conll2003", "es": "conll2002", "nl": "conll2002"}


def source_spec(lang: str) -> str:
    """``en``/``de`` -> ``conll2003:<l>``, ``es``/``nl`` -> ``conll2002:<l>``, other codes ->
    ``masakhaner2:<code>``; ``NAME:lang`` specs pass through."""
    if ":" in lang:
        return lang
    return f"{CONLL[lang]}:{lang}" if lang in CONLL else f"masakhaner2:{lang}"


def _lang(spec: str) -> str:
    return spec.split(":", 1)[-1]


@dataclass
class ExperimentConfig:
    """Options of one run (all recorded in ``config.json``; caps None = everything)."""

    targets: list[str]
    sources: list[str]
    model: str = "e5-small"
    out: str = "scaling-out"
    seeds: int = 3
    orders: int = 2
    order_seed: int = 0
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    reference_orders: list[str] = field(default_factory=lambda: list(REFERENCE_ORDERS))  # reported apart
    reference_methods: list[str] | None = None  # the methods run on the reference orders (None: all)
    max_sentences: int | None = None  # per source (and in-language) train
    max_unlabeled: int | None = None  # student sentences per target
    max_test_sentences: int | None = None
    max_silver: int | None = 2000  # LAFAND sentence pairs the builder projects
    budget_sentences: int | None = None
    epochs: float = 3.0
    min_steps: int = 0
    max_length: int = 128
    batch_size: int = 16
    learning_rate: float = 5e-5
    freeze_embeddings: bool = False
    num_layers: int | None = None
    trim_vocab: bool = True
    empty_ratio: float = 0.0
    bootstrap: int = 1000
    missing_type_policy: str = "drop"
    aligner_model: str | None = None  # the builder's aligner model (None: its default method's, e5-small)
    align_layer: int | None = None  # the aligner's layer (None: the builder's default)
    data_dir: str | None = None

    def __post_init__(self) -> None:
        for m in self.methods:
            if m not in METHODS:
                raise unknown_name("scaling method", m, METHODS)
        if not self.targets:
            raise ConfigError("give at least one target language")
        for t in self.targets:
            if not self.sources_for(t):
                raise ConfigError(f"target {t!r} has no source other than itself")
        for o in self.reference_orders:
            if o not in REFERENCE_ORDERS:
                raise unknown_name("reference order", o, REFERENCE_ORDERS)
        for m in self.reference_methods or ():
            if m not in METHODS:
                raise unknown_name("scaling method", m, METHODS)
        if self.seeds < 1 or self.orders < 0:
            raise ConfigError("--seeds must be >= 1 and --orders >= 0")

    def sources_for(self, target: str) -> list[str]:
        """The sources of ``target`` in the given order (the target itself left out)."""
        return [s for s in self.sources if _lang(source_spec(s)) != _lang(source_spec(target))]


# Options that change no trained model: a resumed run may change them.
_FREE_KEYS = ("out", "methods", "targets", "bootstrap", "orders", "seeds", "max_silver", "reference_orders", "reference_methods")


def _write_json(path: Path, obj) -> None:
    """Write atomically: a half-written file never looks finished."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # processes sharing a run folder write apart
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def f1_from_counts(c: np.ndarray) -> np.ndarray:
    """Micro F1 (0-1) from summed ``[..., 3]`` counts (tp, predicted, gold)."""
    tp, npred, ngold = c[..., 0], c[..., 1], c[..., 2]
    denom = npred + ngold
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def _sentence_weights(n: int, n_boot: int, rng) -> np.ndarray:
    """``[n_boot, n]`` multiplicities of one bootstrap resample of n test sentences each."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def _run_means(arr: np.ndarray, w: np.ndarray, rng) -> np.ndarray:
    """Per replicate: micro F1 of each run on the resampled sentences (``w``), then the mean over
    a resample of the runs. ``arr`` is ``[R, n, 3]`` counts; returns ``[n_boot]`` (0-1)."""
    f1 = f1_from_counts(np.einsum("bn,rnc->brc", w, arr))  # [B, R]
    pick = rng.integers(arr.shape[0], size=(w.shape[0], arr.shape[0]))
    return np.take_along_axis(f1, pick, axis=1).mean(1)


def _mean_f1(runs: list[np.ndarray]) -> tuple[np.ndarray, float]:
    arr = np.stack(runs).astype(np.float64)
    return arr, float(f1_from_counts(arr.sum(1)).mean())


def mean_interval(runs: list[np.ndarray], n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """Mean F1 of the runs (each ``[n_sentences, 3]`` counts on one test set) and its 95%
    two-level bootstrap interval (test sentences and runs resampled), all x 100."""
    arr, mean = _mean_f1(runs)
    if n_boot <= 0:
        return 100 * mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    lo, hi = np.percentile(_run_means(arr, _sentence_weights(arr.shape[1], n_boot, rng), rng), [2.5, 97.5])
    return 100 * mean, 100 * float(lo), 100 * float(hi)


def difference_interval(a_runs: list[np.ndarray], b_runs: list[np.ndarray], n_boot: int = 1000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Mean F1 of runs ``a`` minus that of runs ``b`` (both on one test set) with a paired 95%
    two-level bootstrap interval: each replicate draws one resample of the test sentences shared
    by both sides (the pairing) and resamples each side's runs apart. x 100."""
    return mean_difference([(a_runs, b_runs)], n_boot, seed)


def mean_difference(pairs: list[tuple[list[np.ndarray], list[np.ndarray]]], n_boot: int = 1000,
                    seed: int = 0) -> tuple[float, float, float]:
    """The mean over targets of (a minus b), one ``(a_runs, b_runs)`` pair per target, each
    target's paired bootstrap done apart and the replicates averaged over targets. x 100."""
    points, boots = [], []
    for i, (a_runs, b_runs) in enumerate(pairs):
        (a, ma), (b, mb) = _mean_f1(a_runs), _mean_f1(b_runs)
        rng = np.random.default_rng(seed + i)
        w = _sentence_weights(a.shape[1], n_boot, rng)
        points.append(ma - mb)
        boots.append(_run_means(a, w, rng) - _run_means(b, w, rng))
    lo, hi = np.percentile(np.mean(boots, axis=0), [2.5, 97.5])
    return 100 * float(np.mean(points)), 100 * float(lo), 100 * float(hi)


def mean_of_targets(per_target: list[list[np.ndarray]], n_boot: int = 1000, seed: int = 0) -> tuple[float, float, float]:
    """The mean over targets of their mean F1, with the same bootstrap done per target."""
    means, boots = [], []
    for i, runs in enumerate(per_target):
        arr, mean = _mean_f1(runs)
        means.append(mean)
        rng = np.random.default_rng(seed + i)
        boots.append(_run_means(arr, _sentence_weights(arr.shape[1], n_boot, rng), rng))
    lo, hi = np.percentile(np.mean(boots, axis=0), [2.5, 97.5])
    return 100 * float(np.mean(means)), 100 * float(lo), 100 * float(hi)


class Experiment:
    """One run folder; call :meth:`run`. Models already on disk are not retrained."""

    def __init__(self, config: ExperimentConfig, *, raw: dict | None = None):
        self.cfg = config
        self._raw_cache = raw  # {lang: (DatasetDict, ReadReport)}: shared by pick_caps' trial runs
        self.out = Path(config.out)
        self.data_dir = config.data_dir or os.environ.get("NERXL_DATA_DIR")
        self.trained: list[str] = []  # model keys trained by this call (the rest were on disk)
        self.log: list[str] = []
        self._data = None
        self._base = None
        self._teacher_cache: dict = {}
        self._sim: dict = {}

    # --- data --------------------------------------------------------------------------------

    @property
    def langs(self) -> list[str]:
        seen = []
        for x in [*self.cfg.sources, *self.cfg.targets]:
            if _lang(source_spec(x)) not in seen:
                seen.append(_lang(source_spec(x)))
        return seen

    def data(self) -> dict:
        """Every language mapped onto the first target's label set, capped (loaded once).

        Returns ``{"train": {lang: Dataset}, "test": {target: Dataset}, "unlabeled": {target:
        tokens}, "names": labels, "report": LabelReport}``. Caps take the first rows after a
        shuffle with a fixed seed (0), so every seed sees the same sentences.
        """
        if self._data is not None:
            return self._data
        import datasets

        from .data import cap, map_labels, source_types

        c = self.cfg
        specs = {lang: source_spec(lang) for lang in self.langs}
        raw, reads = {}, {}
        for lang, (d, rep) in self.raw().items():
            raw[lang], reads[lang] = d, rep
        tspec = specs[_lang(source_spec(c.targets[0]))]
        types = source_types(tspec, raw[_lang(tspec)])
        for t in c.targets:
            tl = _lang(source_spec(t))
            if "test" not in raw[tl]:
                raise ConfigError(f"target {specs[tl]} has no test split (splits: {', '.join(raw[tl])})")
            if sorted(source_types(specs[tl], raw[tl])) != sorted(types):
                raise ConfigError(f"targets have different label sets: {specs[tl]} vs {tspec}; run them apart")
        for lang in self.langs:
            if "train" not in raw[lang]:
                raise ConfigError(f"{specs[lang]} has no train split")
        capped = {}
        targets = self.targets  # in the given order: the tables list them so, run after run
        for lang, d in raw.items():
            parts = {"train": cap(d["train"], c.max_sentences, 0)}
            if lang in targets:
                parts["test"] = cap(d["test"], c.max_test_sentences, 0)
                parts["unlabeled"] = cap(d["train"], c.max_unlabeled, 1)
            capped[specs[lang]] = datasets.DatasetDict(parts)
        all_types = {specs[lang]: source_types(specs[lang], raw[lang]) for lang in raw}
        mapped, names, report = map_labels(capped, types, c.missing_type_policy, types=all_types)
        for lang, read in reads.items():
            report.add_read_repairs(specs[lang], read)
        self._data = {
            "train": {lang: mapped[specs[lang]]["train"] for lang in self.langs},
            "test": {t: mapped[specs[t]]["test"] for t in targets},
            "unlabeled": {t: mapped[specs[t]]["unlabeled"]["tokens"] for t in targets},
            "names": names, "report": report, "types": types,
        }
        return self._data

    def raw(self) -> dict:
        """Every language's splits as read (string tags), with its read report (loaded once)."""
        if self._raw_cache is None:
            from ..corpora import ReadReport
            from .data import load_source

            self._raw_cache = {}
            for lang in self.langs:
                rep = ReadReport()
                self._raw_cache[lang] = (load_source(source_spec(lang), data_dir=self.data_dir, report=rep), rep)
        return self._raw_cache

    @property
    def targets(self) -> list[str]:
        return [_lang(source_spec(t)) for t in self.cfg.targets]

    def sources_of(self, target: str) -> list[str]:
        return [_lang(source_spec(s)) for s in self.cfg.sources_for(target)]

    def base(self) -> str:
        """The encoder every model starts from: ``model`` with its vocabulary trimmed to the
        tokens of every sentence this run reads (``models/base``), or ``model`` itself."""
        if self._base is not None:
            return self._base
        from .models import resolve_model, trim_vocabulary

        path = resolve_model(self.cfg.model)
        if self.cfg.trim_vocab:
            d = self.out / "models" / "base"
            if not (d / "nerxl_trim.json").exists():
                data = self.data()
                texts = [s for ds in data["train"].values() for s in ds["tokens"]]
                texts += [s for ds in data["test"].values() for s in ds["tokens"]]
                texts += [s for u in data["unlabeled"].values() for s in u]
                texts += [s for ds in self.silver_sets().values() if ds is not None for s in ds["tokens"]]
                info = trim_vocabulary(path, texts, d)
                logger.warning("vocabulary trimmed: %d of %d tokens kept", info["kept"], info["original"])
            path = str(d)
        self._base = path
        return path

    # --- orders ------------------------------------------------------------------------------

    def random_orders(self) -> list[list[str]]:
        """``orders`` seeded permutations of the whole source list (a target drops itself)."""
        rng = np.random.default_rng(self.cfg.order_seed)
        srcs = [_lang(source_spec(s)) for s in self.cfg.sources]
        return [[str(s) for s in rng.permutation(srcs)] for _ in range(self.cfg.orders)]

    def orders_for(self, target: str) -> dict[str, list[str]]:
        """Named orders of ``target``'s sources: ``given``, ``random-<i>``, ``similarity``."""
        src = self.sources_of(target)
        out = {"given": src} if "given" in self.cfg.reference_orders else {}
        for i, o in enumerate(self.random_orders()):
            out[f"random-{i}"] = [s for s in o if s in src]
        if "similarity" in self.cfg.reference_orders:
            sim = self.similarity(target)
            out["similarity"] = sorted(src, key=lambda s: -sim[s])
        return out

    def similarity(self, target: str) -> dict[str, float]:
        """e5 centroid cosine of each source's training sentences to ``target``'s unlabeled ones."""
        if target not in self._sim:
            path = self.out / "similarity" / f"{target}.json"
            if path.exists():
                self._sim[target] = json.loads(path.read_text())
            else:
                cent = self.centroids()
                tgt = cent[target]
                sims = {s: float(cent[s] @ tgt / (np.linalg.norm(cent[s]) * np.linalg.norm(tgt))) for s in self.sources_of(target)}
                _write_json(path, sims)
                self._sim[target] = sims
        return self._sim[target]

    def centroids(self, sample: int = 200) -> dict[str, np.ndarray]:
        """Mean e5 embedding of the first ``sample`` training sentences of every language, all
        in one encoder call (the model is loaded once)."""
        if getattr(self, "_centroids", None) is None:
            from .distill import sentence_embeddings
            from .models import resolve_model

            raw = self.raw()
            sents = {lang: raw[lang][0]["train"]["tokens"][:sample] for lang in self.langs}
            vecs = sentence_embeddings(resolve_model(self.cfg.model), [s for v in sents.values() for s in v])
            ends = np.cumsum([len(v) for v in sents.values()])
            self._centroids = {lang: part.mean(0) for lang, part in zip(sents, np.split(vecs, ends[:-1]), strict=True)}
        return self._centroids

    # --- training ----------------------------------------------------------------------------

    def n_per_source(self, k: int) -> int | None:
        b = self.cfg.budget_sentences
        return None if b is None else max(1, b // k)

    def steps(self, n: int) -> int:
        c = self.cfg
        return max(int(math.ceil(c.epochs * n / c.batch_size)), c.min_steps, 1)

    def training_args(self, n: int, seed: int, output_dir: Path | None = None):
        from transformers import TrainingArguments

        c = self.cfg
        return TrainingArguments(
            output_dir=str(output_dir or self.out / "tmp"), max_steps=self.steps(n), learning_rate=c.learning_rate,
            per_device_train_batch_size=c.batch_size, per_device_eval_batch_size=32, seed=seed,
            save_strategy="no", report_to="none", logging_strategy="no", disable_tqdm=True, warmup_steps=0.1,
            train_sampling_strategy="group_by_length",  # dynamic padding over batches of similar length
        )

    def _fit_kwargs(self) -> dict:
        return {"max_length": self.cfg.max_length, "freeze_embeddings": self.cfg.freeze_embeddings,
                "num_layers": self.cfg.num_layers}

    def evaluate(self, model, tokenizer, target: str) -> dict:
        """Score on ``target``'s test set with the one scorer; keeps per-sentence counts."""
        from ..evaluation import evaluate_tags, sentence_counts
        from .trainer import gold_tags, predict_tags

        test = self.data()["test"][target]
        preds, truncated = predict_tags(model, tokenizer, test["tokens"], max_length=self.cfg.max_length)
        gold = gold_tags(test)
        m = evaluate_tags(gold, preds)["micro"]
        counts = sentence_counts(gold, preds)
        return {"f1": m["f1"], "precision": m["precision"], "recall": m["recall"],
                "n_pred": int(counts[:, 1].sum()), "n_gold": int(counts[:, 2].sum()),
                "truncated_words": truncated, "counts": counts.tolist()}

    def model_dir(self, key: str) -> Path:
        return self.out / "models" / key

    def direct_key(self, langs, seed: int, n: int | None) -> str:
        return f"direct/{'+'.join(sorted(langs))}-n{n or 'all'}-s{seed}"

    def direct(self, langs: list[str], seed: int, n: int | None = None) -> dict:
        """The model trained on the union of ``langs`` (``n`` sentences each, None: the cap),
        evaluated on every target it does not train on (and on its own language when that is a
        target: the in-language cell). One-source models are saved: they are the teachers."""
        import datasets

        from .trainer import fit

        key = self.direct_key(langs, seed, n)
        d = self.model_dir(key)
        done = d / "done.json"
        if done.exists():
            return json.loads(done.read_text())
        data = self.data()
        parts = [data["train"][s].select(range(min(n, len(data["train"][s])))) if n else data["train"][s] for s in langs]
        train = datasets.concatenate_datasets(parts).shuffle(seed=seed) if len(parts) > 1 else parts[0]
        t0 = time.time()
        trainer = fit(self.base(), train, data["names"], self.training_args(len(train), seed), **self._fit_kwargs())
        train_s = time.time() - t0
        model, tok = trainer.model, trainer.processing_class
        evals = {t: self.evaluate(model, tok, t) for t in self.targets
                 if list(langs) == [t] or set(langs) <= set(self.sources_of(t))}
        if len(langs) == 1:
            trainer.save_model(str(d))
        res = {"key": key, "langs": list(langs), "seed": seed, "n_train": len(train), "steps": self.steps(len(train)),
               "train_seconds": round(train_s, 1), "seconds": round(time.time() - t0, 1), "evals": evals}
        _write_json(done, res)
        self.trained.append(key)
        logger.warning("trained %s (%d sentences, %.0f s)", key, len(train), time.time() - t0)
        return res

    def teacher_probs(self, lang: str, seed: int, n: int | None, target: str) -> list[np.ndarray]:
        """The teacher of ``lang``'s word distributions on ``target``'s unlabeled sentences (cached)."""
        from .distill import teacher_word_probs

        key = self.direct_key([lang], seed, n)
        path = self.out / "probs" / f"{key.replace('/', '_')}@{target}.npz"
        if path not in self._teacher_cache:
            if not path.exists():
                self.direct([lang], seed, n)
                data = self.data()
                probs = teacher_word_probs([self.model_dir(key)], data["unlabeled"][target], data["names"],
                                           max_length=self.cfg.max_length)[0]
                lengths = np.array([p.shape[0] for p in probs])
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npz")
                np.savez_compressed(tmp, probs=np.concatenate(probs) if probs else np.zeros((0, len(data["names"]))),
                                    lengths=lengths)
                os.replace(tmp, path)
            z = np.load(path)
            self._teacher_cache[path] = np.split(z["probs"], np.cumsum(z["lengths"])[:-1])
        return self._teacher_cache[path]

    def student(self, target: str, langs: list[str], method: str, seed: int, n: int | None) -> dict:
        """A student on ``target``'s unlabeled text from the teachers of ``langs`` (one per source)."""
        from .distill import (
            aggregate,
            select_sentences,
            soft_has_entity,
            teacher_weights,
            train_student,
        )

        weighting = method.split("-", 1)[1] if len(langs) > 1 else "uniform"
        key = f"student/{target}/{'+'.join(sorted(langs))}-{weighting}-n{n or 'all'}-s{seed}"
        d = self.model_dir(key)
        if (d / "done.json").exists():
            return json.loads((d / "done.json").read_text())
        data = self.data()
        sents = data["unlabeled"][target]
        probs = [self.teacher_probs(s, seed, n, target) for s in langs]
        if weighting == "similarity":
            sim = self.similarity(target)
            cos = np.array([sim[s] for s in langs])
            e = np.exp((cos - cos.max()) / 0.1)
            weights, info = e / e.sum(), {"cosine": cos.tolist()}
        else:
            src_sents = [data["train"][s]["tokens"] for s in langs]
            weights, info = teacher_weights(weighting, probs, source_sentences=src_sents, target_sentences=sents)
        soft = aggregate(probs, weights)
        has = soft_has_entity(soft, data["names"])
        keep = select_sentences(has, self.cfg.empty_ratio, seed)
        t0 = time.time()
        trainer = train_student(self.base(), [sents[i] for i in keep], [soft[i] for i in keep], data["names"],
                                self.training_args(len(keep), seed), **self._fit_kwargs())
        ev = self.evaluate(trainer.model, trainer.processing_class, target)
        res = {"key": key, "langs": list(langs), "seed": seed, "weighting": weighting,
               "weights": {s: round(float(w), 4) for s, w in zip(langs, weights, strict=True)},
               "weight_info": {k: [round(float(x), 4) for x in v] for k, v in info.items()},
               "unlabeled": len(sents), "with_entity": int(sum(has)), "n_train": len(keep), "steps": self.steps(len(keep)),
               "seconds": round(time.time() - t0, 1), "evals": {target: ev}}
        _write_json(d / "done.json", res)
        self.trained.append(key)
        logger.warning("trained %s (%d of %d sentences, %.0f s)", key, len(keep), len(sents), time.time() - t0)
        return res

    # --- projection: silver configs built by the MasakhaNER builder ---------------------------

    def silver_sets(self) -> dict:
        """Per target: the builder's silver ``train`` split (string tags) or None, with a reason."""
        if getattr(self, "_silver", None) is None:
            self._silver = {}
            if "projection" in self.cfg.methods:
                for t in self.targets:
                    self._silver[t], _ = self.build_silver(t)
        return self._silver

    def _silver_meta_path(self, target: str) -> Path:
        return self.out / "silver" / ".nerxl-experiment" / f"{target}.json"

    def silver_info(self, target: str) -> dict | None:
        """What the build of ``target``'s silver config recorded (config name, pivot, or why there
        is none), read from the run folder; None when it was never built."""
        path = self._silver_meta_path(target)
        return json.loads(path.read_text()) if path.exists() else None

    def build_silver(self, target: str):
        """Build (once) ``<out>/silver`` config ``<target>.<method>`` with the MasakhaNER builder."""
        meta_path = self._silver_meta_path(target)
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
        else:
            meta = self._build_silver(target)
            _write_json(meta_path, meta)
        if meta.get("config") is None:
            return None, meta
        import datasets

        ds = datasets.load_dataset(str(self.out / "silver"), meta["config"], split="train")
        names = ds.features["ner_tags"].feature.names
        ds = ds.map(lambda b: {"ner_tags": [[names[i] for i in t] for t in b["ner_tags"]]}, batched=True,
                    remove_columns=[c for c in ds.column_names if c not in ("id", "tokens", "ner_tags")],
                    features=datasets.Features({"id": datasets.Value("string"),
                                                "tokens": datasets.Sequence(datasets.Value("string")),
                                                "ner_tags": datasets.Sequence(datasets.Value("string"))}))
        return ds, meta

    def _build_silver(self, target: str) -> dict:
        spec = source_spec(target)
        if not spec.startswith("masakhaner2:"):
            return {"config": None, "why": f"{spec}: no parallel text with a pivot (only MasakhaNER 2.0 targets have LAFAND)"}
        from ..builders.base import BuildOptions
        from ..builders.masakhaner2 import BUILDER

        opts = BuildOptions(lang=target, limit=self.cfg.max_silver, data_dir=self.data_dir, aligner_model=self.cfg.aligner_model,
                            aligner_options={"layer": self.cfg.align_layer} if self.cfg.align_layer is not None else {},
                            cache_dir=str(self.out / "silver" / ".cache"))
        t0 = time.time()
        try:
            _, info = BUILDER.build(opts, self.out / "silver")
        except ConfigError as exc:
            return {"config": None, "why": str(exc).split(";")[0]}
        return {"config": info.name, "source_language": info.source_language, "method": info.method,
                "notes": list(info.notes), "seconds": round(time.time() - t0, 1)}

    def projection(self, target: str, seed: int) -> dict | None:
        """A model trained on ``target``'s silver set (after the training rule), or None with the
        reason recorded when the target has no silver set."""
        from .data import map_labels
        from .distill import select_sentences
        from .trainer import fit

        ds = self.silver_sets().get(target)
        if ds is None:
            return None
        key = f"projection/{target}-s{seed}"
        d = self.model_dir(key)
        if (d / "done.json").exists():
            return json.loads((d / "done.json").read_text())
        import datasets

        data = self.data()
        mapped, names, _ = map_labels({"silver": datasets.DatasetDict({"train": ds})}, data["types"], "drop")
        assert names == data["names"]
        silver = mapped["silver"]["train"]
        o = names.index("O")
        has = [any(t != o for t in tags) for tags in silver["ner_tags"]]
        keep = select_sentences(has, self.cfg.empty_ratio, seed)
        n_tok = sum(len(t) for t in silver["tokens"])
        n_ent = sum(sum(1 for t in tags if names[t].startswith("B-")) for tags in silver["ner_tags"])
        stats = {"sentences": len(silver), "with_entity": int(sum(has)), "entities": n_ent,
                 "entities_per_100_tokens": round(100 * n_ent / max(n_tok, 1), 2), "kept": len(keep)}
        t0 = time.time()
        trainer = fit(self.base(), silver.select(keep), names, self.training_args(len(keep), seed), **self._fit_kwargs())
        ev = self.evaluate(trainer.model, trainer.processing_class, target)
        res = {"key": key, "seed": seed, "n_train": len(keep), "steps": self.steps(len(keep)), "silver": stats,
               "build": self.silver_info(target), "seconds": round(time.time() - t0, 1), "evals": {target: ev}}
        _write_json(d / "done.json", res)
        self.trained.append(key)
        logger.warning("trained %s (%d silver sentences, %.0f s)", key, len(keep), time.time() - t0)
        return res

    # --- the plan ----------------------------------------------------------------------------

    def cells(self) -> list[dict]:
        """Every (target, order, k, method, seed) cell with the model it reads (no training)."""
        out = []
        ref_methods = self.cfg.reference_methods
        for t in self.targets:
            orders = self.orders_for(t)
            for name, order in orders.items():
                methods = [m for m in self.cfg.methods
                           if name.startswith("random-") or ref_methods is None or m in ref_methods]
                for k in range(1, len(order) + 1):
                    n = self.n_per_source(k)
                    for seed in range(self.cfg.seeds):
                        for m in methods:
                            if m in TS_METHODS:  # k=1: one teacher, the same (uniform) student for every weighting
                                out.append({"target": t, "order": name, "k": k, "method": m, "seed": seed,
                                            "langs": order[:k], "n": n})
                        if "direct" in methods:
                            out.append({"target": t, "order": name, "k": k, "method": "direct", "seed": seed,
                                        "langs": order[:k], "n": n})
        return out

    def plan(self) -> dict:
        """What the run trains and evaluates (counts of models, sentences) before any work."""
        c = self.cfg
        raw = self.raw()
        direct, students = set(), set()
        for cell in self.cells():
            langs, n, seed = cell["langs"], cell["n"], cell["seed"]
            if cell["method"] == "direct":
                direct.add((tuple(sorted(langs)), seed, n))
            else:
                w = "uniform" if len(langs) == 1 else cell["method"].split("-", 1)[1]
                students.add((cell["target"], tuple(sorted(langs)), w, seed, n))
                for s in langs:
                    direct.add(((s,), seed, n))
        if "in-language" in c.methods:
            direct |= {((t,), s, None) for t in self.targets for s in range(c.seeds)}

        def size(n, cap_):
            return n if cap_ is None else min(n, cap_)

        train = {lang: size(len(d["train"]), c.max_sentences) for lang, (d, _) in raw.items()}
        test = {t: size(len(raw[t][0]["test"]), c.max_test_sentences) for t in self.targets}
        unl = {t: size(len(raw[t][0]["train"]), c.max_unlabeled) for t in self.targets}
        train_passes = sum(self.steps(sum(min(n or 10**9, train[s]) for s in lg)) * c.batch_size for lg, _, n in direct)
        eval_sents = sum(test[t] for lg, _, _ in direct for t in self.targets
                         if list(lg) == [t] or set(lg) <= set(self.sources_of(t)))
        teacher_pairs = {(s, seed, n, t) for (t, lg, _, seed, n) in students for s in lg}
        probe_sents = sum(unl[t] for (_, _, _, t) in teacher_pairs)
        # Students keep the sentences with an entity (about a third, seen on MasakhaNER) unless empty_ratio is large.
        keep = min(1.0, 0.4 * (1 + c.empty_ratio))
        student_passes = sum(self.steps(int(keep * unl[t])) * c.batch_size for (t, *_rest) in students)
        eval_sents += sum(test[t] for (t, *_rest) in students)
        proj = [t for t in self.targets if source_spec(t).startswith("masakhaner2:")] if "projection" in c.methods else []
        silver = sum(size(len(raw[t][0]["train"]) * 3, c.max_silver) for t in proj)  # LAFAND: ~3x the NER train
        proj_passes = c.seeds * sum(self.steps(int(keep * size(10**6, c.max_silver))) * c.batch_size for _ in proj)
        eval_sents += c.seeds * sum(test[t] for t in proj)
        return {"direct_models": len(direct), "students": len(students), "projection_models": len(proj) * c.seeds,
                "train_sentence_passes": train_passes + student_passes + proj_passes, "eval_sentences": eval_sents,
                "teacher_inference_sentences": probe_sents, "silver_pairs_to_build": silver,
                "test_sentences": test, "unlabeled_sentences": unl}

    @staticmethod
    def estimate_seconds(plan: dict, train_per_s: float = 20.0, infer_per_s: float = 50.0, align_per_s: float = 8.0) -> float:
        """Seconds for ``plan`` at the given rates (defaults: e5-small, 4 layers, trimmed vocabulary,
        max_length 64, one thread of a 2-core machine running two such runs, setup included:
        measured in the committed runs, benchmarks/results/scaling.md; an unloaded machine with
        two threads is about 3x faster, train_speed.md), plus a fixed 3 s per model."""
        models = plan["direct_models"] + plan["students"] + plan["projection_models"]
        return (plan["train_sentence_passes"] / train_per_s + (plan["eval_sentences"] + plan["teacher_inference_sentences"]) / infer_per_s
                + plan["silver_pairs_to_build"] / align_per_s + 3 * models)

    # --- the whole run -----------------------------------------------------------------------

    def check_config(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "config.json"
        cfg = asdict(self.cfg)
        if path.exists():
            old = json.loads(path.read_text())
            changed = sorted(k for k in cfg if k not in _FREE_KEYS and old.get(k) != cfg[k])
            if changed:
                raise ConfigError(f"{self.out} holds a run with other options ({', '.join(changed)}); use another --out")
        _write_json(path, cfg)

    def run(self, seeds: list[int] | None = None) -> list[dict]:
        """Train/evaluate everything missing, seed by seed (outputs rewritten after each stage).

        ``seeds``: only these seeds (default: all). Models are keyed by seed, so processes given
        different seeds can share one run folder and use one core each."""
        self.check_config()
        data = self.data()
        _write_json(self.out / "labels.json", {"labels": data["names"], **data["report"].to_dict()})
        self.silver_sets()
        self.base()
        cells = self.cells()
        rows: list[dict] = []
        for seed in range(self.cfg.seeds) if seeds is None else seeds:
            mine = [c for c in cells if c["seed"] == seed]
            for c in mine:  # direct models first: target-independent, shared
                if c["method"] == "direct":
                    self.direct(c["langs"], seed, c["n"])
            if "in-language" in self.cfg.methods:
                for t in self.targets:
                    self.direct([t], seed, None)
            for t in self.targets:
                if "projection" in self.cfg.methods:
                    self.projection(t, seed)
                for c in mine:
                    if c["target"] == t and c["method"] in TS_METHODS:
                        self.student(t, c["langs"], c["method"], seed, c["n"])
            rows = self.collect(cells)
            write_outputs(self, rows)
        return rows

    def collect(self, cells: list[dict]) -> list[dict]:
        """One row per finished cell (plus the reference rows), from the models on disk."""
        rows = []

        def read(key):
            p = self.model_dir(key) / "done.json"
            return json.loads(p.read_text()) if p.exists() else None

        for c in cells:
            langs, n, seed, t = c["langs"], c["n"], c["seed"], c["target"]
            if c["method"] == "direct":
                r = read(self.direct_key(langs, seed, n))
            else:
                w = "uniform" if len(langs) == 1 else c["method"].split("-", 1)[1]
                r = read(f"student/{t}/{'+'.join(sorted(langs))}-{w}-n{n or 'all'}-s{seed}")
            if r is None or t not in r["evals"]:
                continue
            rows.append({**{k: c[k] for k in ("target", "method", "order", "k", "seed")}, "sources": "+".join(langs),
                         "n_train": r["n_train"], **r["evals"][t], "model": r["key"],
                         **({"weights": r.get("weights"), "with_entity": r.get("with_entity"), "unlabeled": r.get("unlabeled")}
                            if c["method"] != "direct" else {})})
        for t in self.targets:
            for seed in range(self.cfg.seeds):
                if "in-language" in self.cfg.methods and (r := read(self.direct_key([t], seed, None))):
                    rows.append({"target": t, "method": "in-language", "order": "-", "k": 0, "seed": seed,
                                 "sources": t, "n_train": r["n_train"], **r["evals"][t], "model": r["key"]})
                if "projection" in self.cfg.methods and (r := read(f"projection/{t}-s{seed}")):
                    rows.append({"target": t, "method": "projection", "order": "-", "k": 0, "seed": seed,
                                 "sources": r["build"].get("source_language", ""), "n_train": r["n_train"],
                                 **r["evals"][t], "model": r["key"], "silver": r["silver"]})
        return rows


# --- outputs -----------------------------------------------------------------------------------

def headline(exp: Experiment) -> str:
    """The order group the headline numbers (differences, mean panel) use: the random orders'
    mean, or the first reference order when the run has no random order."""
    return "random" if exp.cfg.orders > 0 or not exp.cfg.reference_orders else exp.cfg.reference_orders[0]


def _in_group(order: str, group: str) -> bool:
    return order.startswith("random-") if group == "random" else order == group


def format_interval(m: float, lo: float, hi: float) -> str:
    """``mean [lo, hi]`` with one decimal (the mean alone when there is no interval)."""
    return f"{m:.1f} [{lo:.1f}, {hi:.1f}]" if not math.isnan(lo) else f"{m:.1f}"


def summarise(rows: list[dict], n_boot: int = 1000) -> dict:
    """``{(target, method, order_group, k): (mean, lo, hi, n_runs, n_no_entity)}``; order_group is
    ``random`` (the mean over the random orders), ``given`` or ``similarity``; reference rows use
    order ``-`` and k 0."""
    groups: dict = {}
    for r in rows:
        g = "random" if r["order"].startswith("random-") else r["order"]
        groups.setdefault((r["target"], r["method"], g, r["k"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        runs = [np.array(r["counts"]) for r in rs]
        out[key] = (*mean_interval(runs, n_boot, seed=zlib.crc32(repr(key).encode())), len(rs), sum(r["n_pred"] == 0 for r in rs))
    return out


def write_outputs(exp: Experiment, rows: list[dict]) -> None:
    """``results.csv`` (per-seed rows), ``results.md`` and ``scaling.png``."""
    out = exp.out
    cols = ["target", "method", "order", "k", "sources", "seed", "f1", "precision", "recall", "n_pred", "n_gold",
            "n_train", "model"]
    tmp = out / f"results.csv.{os.getpid()}.tmp"  # processes sharing a run folder (run(seeds=...)) write apart
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow([r.get(c) for c in cols])
    os.replace(tmp, out / "results.csv")
    summary = summarise(rows, exp.cfg.bootstrap)
    tmp = out / f"results.md.{os.getpid()}.tmp"
    tmp.write_text(markdown(exp, rows, summary))
    os.replace(tmp, out / "results.md")
    try:
        tmp = out / f"scaling.{os.getpid()}.tmp.png"
        plot(exp, rows, summary, tmp)
        os.replace(tmp, out / "scaling.png")
    except ImportError:
        logger.warning("matplotlib is not installed: no plot (pip install 'nerxl-data[plot]')")


def header(exp: Experiment) -> str:
    c = exp.cfg
    data = exp.data()
    tests = ", ".join(f"{t} {len(d)}" for t, d in data["test"].items())
    caps = (f"test sentences per target: {tests} ({'whole gold test sets' if c.max_test_sentences is None else f'capped at {c.max_test_sentences}, seeded sample'}); "
            f"training sentences per source: {c.max_sentences or 'all'}; unlabeled student sentences per target: "
            f"{c.max_unlabeled or 'all'}; silver pairs built per target: {c.max_silver or 'all'}"
            + (f"; fixed budget: the k sources share {c.budget_sentences} sentences" if c.budget_sentences else ""))
    recipe = (f"model `{c.model}`{f', bottom {c.num_layers} layers' if c.num_layers else ''}"
              f"{', word embeddings frozen' if c.freeze_embeddings else ''}{', vocabulary trimmed to the run' if c.trim_vocab else ''}; "
              f"lr {c.learning_rate:g}, batch {c.batch_size}, max(epochs {c.epochs:g} x sentences / batch, {c.min_steps}) steps, "
              f"max_length {c.max_length}; entity-less silver/student sentences kept: {c.empty_ratio:g} per entity sentence")
    return (f"Caps: {caps}.\n\nRecipe: {recipe}. Seeds: {c.seeds}; random source orders: {c.orders} "
            f"(order seed {c.order_seed}). Scores: strict IOB2 entity-level micro F1 x 100 (`nerxl_data.evaluation`), "
            "mean over seeds (and random orders) with a 95% interval: two-level bootstrap (1,000 replicates "
            "resampling test sentences and runs).")


def markdown(exp: Experiment, rows: list[dict], summary: dict) -> str:
    methods = [m for m in METHODS if m not in ("projection", "in-language") and any(r["method"] == m for r in rows)]
    lines = [header(exp), ""]
    for t in exp.targets:
        K = len(exp.sources_of(t))
        orders = exp.orders_for(t)
        lines += [f"### Target {t} (sources {', '.join(exp.sources_of(t))})", ""]
        for group, title in (("random", f"mean over {exp.cfg.orders} random orders"), ("given", "given order"),
                             ("similarity", "similarity order")):
            if group in orders:
                title += " " + "+".join(orders[group])
            if not any((t, m, group, k) in summary for m in methods for k in range(1, K + 1)):
                continue
            lines += [f"{title}:", "", "| k | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
            for k in range(1, K + 1):
                cells = []
                for m in methods:
                    s = summary.get((t, m, group, k))
                    cells.append("" if s is None else format_interval(*s[:3]) + (f" ({s[4]}/{s[3]} predict no entity)" if s[4] else ""))
                lines.append(f"| {k} | " + " | ".join(cells) + " |")
            lines.append("")
        ref = []
        if (s := summary.get((t, "in-language", "-", 0))):
            n = next(r["n_train"] for r in rows if r["target"] == t and r["method"] == "in-language")
            ref.append(f"- in-language (gold {t} train, {n} sentences; the ceiling): {format_interval(*s[:3])}")
        k1 = {}
        for r in rows:
            if r["target"] == t and r["method"] == "direct" and r["k"] == 1:
                k1.setdefault(r["sources"], {})[(r["order"], r["seed"])] = np.array(r["counts"])
        if k1:
            best = max(k1, key=lambda s: np.mean([f1_from_counts(c.sum(0)) for c in k1[s].values()]))
            b = mean_interval(list(k1[best].values()), exp.cfg.bootstrap)
            txt = f"- best-single-source (picked on the {t} test: an oracle): {best} {format_interval(*b)}"
            if "en" in k1 and best != "en":
                txt += f"; English {format_interval(*mean_interval(list(k1['en'].values()), exp.cfg.bootstrap))}"
            ref.append(txt)
        silver = exp.silver_info(t) if "projection" in exp.cfg.methods else None
        if (s := summary.get((t, "projection", "-", 0))):
            r0 = next(r for r in rows if r["target"] == t and r["method"] == "projection")
            st = r0["silver"]
            ref.append(f"- projection (builder config `{silver['config']}`, pivot {r0['sources']}; LAFAND pairs {t} "
                       f"with its pivot only, so one row, not a curve): {format_interval(*s[:3])}"
                       + (f" ({s[4]}/{s[3]} predict no entity)" if s[4] else "")
                       + f". Silver: {st['sentences']} sentences, {st['with_entity']} with an entity, {st['entities']} entities "
                       f"({st['entities_per_100_tokens']} per 100 tokens); trained on {st['kept']}.")
        elif silver is not None and silver.get("config") is None:
            ref.append(f"- projection: none ({silver['why']})")
        studs = [r for r in rows if r["target"] == t and r["method"] in TS_METHODS and r["k"] > 1 and r.get("weights")]
        if studs:
            avg: dict = {}
            for r in studs:
                if r["method"] != "ts-uniform" and r["k"] == K:
                    for s, w in r["weights"].items():
                        avg.setdefault(r["method"], {}).setdefault(s, []).append(w)
            for m, ws in avg.items():
                ref.append(f"- {m} teacher weights at k={K}: " + ", ".join(f"{s} {np.mean(v):.2f}" for s, v in ws.items()))
            kept = [r["with_entity"] / max(r["unlabeled"], 1) for r in studs]
            ref.append(f"- students: {100 * np.mean(kept):.0f}% of the unlabeled sentences carry an entity under the combined teachers (the rest down-sampled to {exp.cfg.empty_ratio:g} per entity sentence)")
        lines += ref + [""]
        diffs = differences(exp, rows, t, K)
        if diffs:
            lines += [f"Differences on {t} (paired two-level bootstrap, 95%; *resolved* when the interval excludes 0):", ""]
            lines += [f"- {name}: {_resolved(*v)}" for name, v in diffs.items()] + [""]
    if len(exp.targets) > 1:
        lines += mean_table(exp, rows, methods)
    return "\n".join(lines) + "\n"


def _runs(rows: list[dict], target: str, method: str, k: int | None = None, *, group: str = "random",
          sources: str | None = None) -> list[np.ndarray]:
    """Per-sentence counts of the runs of one cell (reference rows: ``k=None``)."""
    out = []
    for r in rows:
        if r["target"] != target or r["method"] != method:
            continue
        if k is not None and (r["k"] != k or not _in_group(r["order"], group)):
            continue
        if sources is not None and r["sources"] != sources:
            continue
        out.append(np.array(r["counts"]))
    return out


def contrasts(exp: Experiment, rows: list[dict], target: str, K: int) -> dict[str, tuple[list, list]]:
    """The contrasts a reader asks about on ``target``: ``{name: (a_runs, b_runs)}`` (headline
    orders), those with runs on both sides."""
    g = headline(exp)
    pairs = {}
    for m in ("direct", *TS_METHODS):
        pairs[f"{m}: k={K} minus k=1"] = (_runs(rows, target, m, K, group=g), _runs(rows, target, m, 1, group=g))
    for m in TS_METHODS[1:]:
        pairs[f"{m} minus ts-uniform at k={K}"] = (_runs(rows, target, m, K, group=g), _runs(rows, target, "ts-uniform", K, group=g))
    for m in TS_METHODS:
        for k in sorted({1, K}):
            if k == 1 and m != "ts-uniform":
                continue  # k=1: every weighting is the same one-teacher student
            pairs[f"{m} minus direct at k={k}"] = (_runs(rows, target, m, k, group=g), _runs(rows, target, "direct", k, group=g))
    en = [np.array(r["counts"]) for r in rows if r["target"] == target and r["method"] == "direct" and r["k"] == 1
          and r["sources"] == "en"]
    pairs["projection minus direct from English alone"] = (_runs(rows, target, "projection"), en)
    pairs[f"projection minus direct at k={K}"] = (_runs(rows, target, "projection"), _runs(rows, target, "direct", K, group=g))
    pairs[f"in-language minus direct at k={K}"] = (_runs(rows, target, "in-language"), _runs(rows, target, "direct", K, group=g))
    return {name: (a, b) for name, (a, b) in pairs.items() if a and b}


def differences(exp: Experiment, rows: list[dict], target: str, K: int) -> dict[str, tuple[float, float, float]]:
    """Each contrast on ``target`` as a paired bootstrap difference with its 95% interval."""
    return {name: difference_interval(a, b, exp.cfg.bootstrap, seed=i)
            for i, (name, (a, b)) in enumerate(contrasts(exp, rows, target, K).items())}


def _resolved(d: float, lo: float, hi: float) -> str:
    return f"{d:+.1f} [{lo:+.1f}, {hi:+.1f}]" + (" *resolved*" if lo > 0 or hi < 0 else " not resolved")


def mean_table(exp: Experiment, rows: list[dict], methods: list[str]) -> list[str]:
    """Mean over targets (headline orders), each target's bootstrap done apart."""
    K = min(len(exp.sources_of(t)) for t in exp.targets)
    g = headline(exp)
    lines = [f"### Mean over the {len(exp.targets)} targets ({'random' if g == 'random' else g} orders)", "",
             "| k | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for k in range(1, K + 1):
        cells = []
        for m in methods:
            per = [[np.array(r["counts"]) for r in rows if r["target"] == t and r["method"] == m and r["k"] == k
                    and _in_group(r["order"], g)] for t in exp.targets]
            cells.append(format_interval(*mean_of_targets(per, exp.cfg.bootstrap)) if all(per) else "")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    for m in ("in-language", "projection"):
        per = [[np.array(r["counts"]) for r in rows if r["target"] == t and r["method"] == m] for t in exp.targets]
        if all(per):
            lines.append(f"\n{m}: {format_interval(*mean_of_targets(per, exp.cfg.bootstrap))}")
    per_target = {t: contrasts(exp, rows, t, len(exp.sources_of(t))) for t in exp.targets}
    common = [n for n in per_target[exp.targets[0]] if all(n in c for c in per_target.values())]
    if common:
        lines += ["", f"Differences, mean over the {len(exp.targets)} targets (each target's paired bootstrap apart, "
                  "replicates averaged; *resolved* when the 95% interval excludes 0):", ""]
        lines += [f"- {n}: {_resolved(*mean_difference([per_target[t][n] for t in exp.targets], exp.cfg.bootstrap, seed=i))}"
                  for i, n in enumerate(common)]
    return lines + [""]


def plot(exp: Experiment, rows: list[dict], summary: dict, path: Path) -> None:
    """One panel per target plus a mean panel: mean F1 over random orders and seeds by k, 95%
    bands; in-language and projection as dashed reference lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = exp.targets
    g = headline(exp)
    n = len(targets) + (1 if len(targets) > 1 else 0)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.4), squeeze=False, sharey=True)
    colors = dict(zip(METHODS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    methods = [m for m in METHODS if m not in ("projection", "in-language")]
    for ax, t in zip(axes[0], targets, strict=False):
        for m in methods:
            pts = sorted((k, *summary[(t, m, g, k)][:3]) for (tt, mm, gg, k) in summary if (tt, mm, gg) == (t, m, g))
            if pts:
                k, mean, lo, hi = map(np.array, zip(*pts, strict=True))
                ax.plot(k, mean, marker="o", label=m, color=colors[m])
                ax.fill_between(k, lo, hi, alpha=0.2, color=colors[m])
        for m in ("in-language", "projection"):
            if (s := summary.get((t, m, "-", 0))):
                ax.axhline(s[0], ls="--", color=colors[m], label=m)
                ax.axhspan(s[1], s[2], alpha=0.1, color=colors[m])
        ax.set_title(f"target {t}")
        ax.set_xlabel("sources k")
        ax.set_xticks(range(1, len(exp.sources_of(t)) + 1))
    if len(targets) > 1:
        ax = axes[0][-1]
        K = min(len(exp.sources_of(t)) for t in targets)
        for m in methods:
            pts = []
            for k in range(1, K + 1):
                per = [[np.array(r["counts"]) for r in rows if r["target"] == t and r["method"] == m and r["k"] == k
                        and _in_group(r["order"], g)] for t in targets]
                if all(per):
                    pts.append((k, *mean_of_targets(per, exp.cfg.bootstrap)))
            if pts:
                k, mean, lo, hi = map(np.array, zip(*pts, strict=True))
                ax.plot(k, mean, marker="o", label=m, color=colors[m])
                ax.fill_between(k, lo, hi, alpha=0.2, color=colors[m])
        ax.set_title("mean over targets")
        ax.set_xlabel("sources k")
        ax.set_xticks(range(1, K + 1))
    axes[0][0].set_ylabel("test F1 (95% interval)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pick_caps(config: ExperimentConfig, minutes: float, rates: dict | None = None) -> tuple[ExperimentConfig, float, dict]:
    """The largest caps of a fixed ladder whose estimated time fits ``minutes`` (caps the user set
    are kept). Returns (config, estimated seconds, plan)."""
    ladder = [(None, None, None, None), (2000, 2000, None, 2000), (1000, 1000, 1000, 1000), (500, 500, 500, 800),
              (300, 300, 400, 600), (200, 200, 300, 400), (150, 150, 250, 300), (100, 100, 200, 200),
              (60, 60, 150, 150), (40, 40, 100, 100), (24, 24, 60, 60)]
    best, raw = None, None
    for tr, un, te, si in ladder:
        cfg = replace(config, max_sentences=config.max_sentences or tr, max_unlabeled=config.max_unlabeled or un,
                      max_test_sentences=config.max_test_sentences or te, max_silver=min(config.max_silver or 10**9, si or 10**9))
        if cfg.max_silver == 10**9:
            cfg = replace(cfg, max_silver=None)
        if cfg.max_sentences:  # the min-steps rule never asks more steps than a full capped source gets
            cfg = replace(cfg, min_steps=min(cfg.min_steps, max(1, math.ceil(cfg.epochs * cfg.max_sentences / cfg.batch_size))))
        exp = Experiment(cfg, raw=raw)
        raw = exp.raw()
        plan = exp.plan()
        est = exp.estimate_seconds(plan, **(rates or {}))
        best = (cfg, est, plan)
        if est <= 60 * minutes:
            return best
    return best  # the smallest rung: may still be over the budget (the caller prints the estimate)
