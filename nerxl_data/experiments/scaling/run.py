"""One scaling run: the data it reads, the orders, the models it trains (through one recipe,
:mod:`.recipes`), and the rows it collects. Resumable: every trained model writes its record
(:mod:`.store`) when it finishes; a rerun reads it back."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from .config import FREE_KEYS, TS_METHODS, ExperimentConfig, lang_of, source_spec
from .plan import cells as plan_cells
from .plan import estimate_seconds
from .plan import plan as plan_counts
from .silver import Silver
from .store import (
    Store,
    direct_key,
    in_language_key,
    projection_key,
    student_key,
    weighting_of,
    write_json,
)

logger = logging.getLogger(__name__)


class Experiment:
    """One run folder; call :meth:`run`. Models already on disk are not retrained."""

    def __init__(self, config: ExperimentConfig, *, raw: dict | None = None):
        self.cfg = config
        self._raw_cache = raw  # {lang: (DatasetDict, ReadReport)}: shared by pick_caps' trial runs
        self.out = Path(config.out)
        from ...corpora.registry import data_root

        self.data_dir = data_root(config.data_dir)
        self.store = Store(self.out)
        self.silver = Silver(self)
        self.trained: list[str] = []  # model keys trained by this call (the rest were on disk)
        self._data = None
        self._recipe = None
        self._teacher_cache: dict = {}
        self._sim: dict = {}
        self._centroids = None

    # --- data --------------------------------------------------------------------------------

    @property
    def langs(self) -> list[str]:
        seen = []
        for x in [*self.cfg.sources, *self.cfg.targets]:
            if lang_of(source_spec(x)) not in seen:
                seen.append(lang_of(source_spec(x)))
        return seen

    @property
    def targets(self) -> list[str]:
        return [lang_of(source_spec(t)) for t in self.cfg.targets]

    def sources_of(self, target: str) -> list[str]:
        return [lang_of(source_spec(s)) for s in self.cfg.sources_for(target)]

    def raw(self) -> dict:
        """Every language's splits as read (string tags), with its read report (loaded once)."""
        if self._raw_cache is None:
            from ...corpora import ReadReport
            from ...train.data import load_source

            self._raw_cache = {}
            for lang in self.langs:
                rep = ReadReport()
                self._raw_cache[lang] = (load_source(source_spec(lang), data_dir=self.data_dir, report=rep), rep)
        return self._raw_cache

    def data(self) -> dict:
        """Every language mapped onto the first target's label set, capped (loaded once).

        Returns ``{"train": {lang: Dataset}, "test": {target: Dataset}, "unlabeled": {target:
        tokens}, "names": labels, "report": LabelReport}``. Caps take the first rows after a
        shuffle with a fixed seed (0), so every seed sees the same sentences.
        """
        if self._data is not None:
            return self._data
        import datasets

        from ...train.data import cap, map_labels, source_types

        c = self.cfg
        specs = {lang: source_spec(lang) for lang in self.langs}
        raw = {lang: d for lang, (d, _) in self.raw().items()}
        reads = {lang: rep for lang, (_, rep) in self.raw().items()}
        tspec = specs[lang_of(source_spec(c.targets[0]))]
        types = source_types(tspec, raw[lang_of(tspec)])
        for t in self.targets:
            if "test" not in raw[t]:
                raise ConfigError(f"target {specs[t]} has no test split (splits: {', '.join(raw[t])})")
            if sorted(source_types(specs[t], raw[t])) != sorted(types):
                raise ConfigError(f"targets have different label sets: {specs[t]} vs {tspec}; run them apart")
        for lang in self.langs:
            if "train" not in raw[lang]:
                raise ConfigError(f"{specs[lang]} has no train split")
        capped = {}
        for lang, d in raw.items():
            parts = {"train": cap(d["train"], c.max_sentences, 0)}
            if lang in self.targets:
                if c.in_language_whole and "in-language" in c.methods:
                    parts["whole"] = d["train"]
                parts["test"] = cap(d["test"], c.max_test_sentences, 0)
                parts["unlabeled"] = cap(d["train"], c.max_unlabeled, 1)
            capped[specs[lang]] = datasets.DatasetDict(parts)
        all_types = {specs[lang]: source_types(specs[lang], raw[lang]) for lang in raw}
        mapped, names, report = map_labels(capped, types, c.missing_type_policy, types=all_types)
        for lang, read in reads.items():
            report.add_read_repairs(specs[lang], read)
        self._data = {
            "train": {lang: mapped[specs[lang]]["train"] for lang in self.langs},
            "test": {t: mapped[specs[t]]["test"] for t in self.targets},
            "unlabeled": {t: mapped[specs[t]]["unlabeled"]["tokens"] for t in self.targets},
            "whole": {t: mapped[specs[t]]["whole"] for t in self.targets if "whole" in mapped[specs[t]]},
            "names": names, "report": report, "types": types,
        }
        return self._data

    def all_sentences(self) -> list:
        """Every sentence a model of this run trains on or is scored on."""
        data = self.data()
        texts = [s for ds in data["train"].values() for s in ds["tokens"]]
        texts += [s for ds in data["test"].values() for s in ds["tokens"]]
        texts += [s for u in data["unlabeled"].values() for s in u]
        texts += [s for ds in data["whole"].values() for s in ds["tokens"]]
        texts += [s for ds in self.silver.sets().values() if ds is not None for s in ds["tokens"]]
        return texts

    # --- the recipe --------------------------------------------------------------------------

    def recipe(self):
        """The run's trainer (:mod:`.recipes`), built once."""
        if self._recipe is None:
            from ...train.models import resolve_model
            from .recipes import Cached, Finetune

            if self.cfg.recipe == "cached":
                feats = Path(self.cfg.features_dir) if self.cfg.features_dir else self.out / "features"
                self._recipe = Cached(self.cfg, resolve_model(self.cfg.model), feats)
            else:
                self._recipe = Finetune(self.cfg, self.base, self.out)
        return self._recipe

    def base(self) -> str:
        """The encoder a fine-tuned model starts from: ``model`` with its vocabulary trimmed to
        the tokens of every sentence this run reads (``models/base``), or ``model`` itself."""
        from ...train.models import resolve_model, trim_vocabulary

        path = resolve_model(self.cfg.model)
        if self.cfg.trim_vocab and self.cfg.recipe == "finetune":
            d = self.out / "models" / "base"
            if not (d / "nerxl_trim.json").exists():
                info = trim_vocabulary(path, self.all_sentences(), d)
                logger.info("vocabulary trimmed: %d of %d tokens kept", info["kept"], info["original"])
            path = str(d)
        return path

    def steps(self, n: int) -> int:
        return self.recipe().steps(n)

    # --- orders ------------------------------------------------------------------------------

    def random_orders(self) -> list[list[str]]:
        """``orders`` seeded permutations of the whole source list (a target drops itself)."""
        rng = np.random.default_rng(self.cfg.order_seed)
        srcs = [lang_of(source_spec(s)) for s in self.cfg.sources]
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
                write_json(path, sims)
                self._sim[target] = sims
        return self._sim[target]

    def centroids(self, sample: int = 200) -> dict[str, np.ndarray]:
        """Mean e5 embedding of the first ``sample`` training sentences of every language, all
        in one encoder call (the model is loaded once)."""
        if self._centroids is None:
            from ...train.distill import sentence_embeddings
            from ...train.models import resolve_model

            raw = self.raw()
            sents = {lang: raw[lang][0]["train"]["tokens"][:sample] for lang in self.langs}
            vecs = sentence_embeddings(resolve_model(self.cfg.model), [s for v in sents.values() for s in v])
            ends = np.cumsum([len(v) for v in sents.values()])
            self._centroids = {lang: part.mean(0) for lang, part in zip(sents, np.split(vecs, ends[:-1]), strict=True)}
        return self._centroids

    # --- models ------------------------------------------------------------------------------

    def n_for(self, method: str, k: int) -> int | None:
        """Sentences per source of a cell: the fixed-budget variant shares ``budget_sentences``
        among its k sources (None: each source's capped train split)."""
        b = self.cfg.budget_sentences
        if method != "direct-budget" or b is None:
            return None
        n = max(1, b // k)
        return None if self.cfg.max_sentences is not None and n >= self.cfg.max_sentences else n

    def evaluate(self, handle, target: str) -> dict:
        """Score on ``target``'s test set with the one scorer; keeps per-sentence counts."""
        from ...evaluation import evaluate_tags, sentence_counts
        from ...train.trainer import gold_tags

        test = self.data()["test"][target]
        names = self.data()["names"]
        t0 = time.time()
        logits, truncated = self.recipe().word_logits(handle, test["tokens"])
        preds = [[names[int(j)] for j in row.argmax(-1)] for row in logits]
        gold = gold_tags(test)
        m = evaluate_tags(gold, preds)["micro"]
        counts = sentence_counts(gold, preds)
        return {"f1": m["f1"], "precision": m["precision"], "recall": m["recall"],
                "n_pred": int(counts[:, 1].sum()), "n_gold": int(counts[:, 2].sum()),
                "truncated_words": truncated, "eval_seconds": round(time.time() - t0, 2), "counts": counts.tolist()}

    def _fit(self, sentences, targets, seed: int, *, hard: bool):
        return self.recipe().fit(sentences, targets, self.data()["names"], seed, hard=hard)

    def _one_hot(self, ds) -> list[np.ndarray]:
        L = len(self.data()["names"])
        out = []
        for tags in ds["ner_tags"]:
            a = np.zeros((len(tags), L), dtype=np.float32)
            a[np.arange(len(tags)), tags] = 1.0
            out.append(a)
        return out

    def _needs_teacher(self, lang: str) -> list[str]:
        """Targets whose students read ``lang``'s teacher."""
        if not any(m in TS_METHODS for m in self.cfg.methods):
            return []
        return [t for t in self.targets if lang in self.sources_of(t)]

    def direct(self, langs: list[str], seed: int, n: int | None = None) -> dict:
        """The model trained on the union of ``langs`` (``n`` sentences each, None: the cap),
        evaluated on every target it does not train on (and on its own language when that is a
        target: the in-language cell). A one-source model is a teacher: it is saved, and its
        distributions on the targets' unlabeled text are kept."""
        import datasets

        key = direct_key(langs, seed, n)
        if (rec := self.store.read(key)) is not None:
            return rec
        data = self.data()
        parts = [data["train"][s].select(range(min(n, len(data["train"][s])))) if n else data["train"][s] for s in langs]
        train = datasets.concatenate_datasets(parts).shuffle(seed=seed) if len(parts) > 1 else parts[0]
        t0 = time.time()
        handle = self._fit(train["tokens"], self._one_hot(train), seed, hard=True)
        train_s = time.time() - t0
        evals = {t: self.evaluate(handle, t) for t in self.targets
                 if list(langs) == [t] or set(langs) <= set(self.sources_of(t))}
        if len(langs) == 1 and self._needs_teacher(langs[0]):
            self.recipe().save(handle, self.store.dir(key))
            for t in self._needs_teacher(langs[0]):
                self._teacher_probs_from(handle, key, t)
        res = {"key": key, "langs": list(langs), "seed": seed, "n_train": len(train), "steps": self.steps(len(train)),
               "recipe": self.cfg.recipe, "train_seconds": round(train_s, 1), "seconds": round(time.time() - t0, 1),
               "evals": evals}
        self.store.write(key, res)
        self.trained.append(key)
        logger.info("trained %s (%d sentences, %.0f s)", key, len(train), time.time() - t0)
        return res

    def in_language(self, target: str, seed: int) -> dict:
        """The in-language reference: trained on the target's gold train split (the whole split
        with ``in_language_whole``, else capped like a source and shared with its direct model)."""
        if not self.cfg.in_language_whole:
            return self.direct([target], seed, None)
        key = in_language_key(target, seed, True)
        if (rec := self.store.read(key)) is not None:
            return rec
        train = self.data()["whole"][target]
        t0 = time.time()
        handle = self._fit(train["tokens"], self._one_hot(train), seed, hard=True)
        res = {"key": key, "langs": [target], "seed": seed, "n_train": len(train), "steps": self.steps(len(train)),
               "recipe": self.cfg.recipe, "seconds": round(time.time() - t0, 1), "evals": {target: self.evaluate(handle, target)}}
        self.store.write(key, res)
        self.trained.append(key)
        logger.info("trained %s (%d sentences, %.0f s)", key, len(train), time.time() - t0)
        return res

    def _teacher_probs_from(self, handle, key: str, target: str) -> None:
        from ...train.distill import _softmax

        path = self.store.probs_path(key, target)
        if path.exists():
            return
        logits, _ = self.recipe().word_logits(handle, self.data()["unlabeled"][target])
        probs = [_softmax(row) for row in logits]
        path.parent.mkdir(parents=True, exist_ok=True)
        from ...paths import atomic_write

        with atomic_write(path, "wb") as f:
            np.savez_compressed(f, probs=np.concatenate(probs) if probs else np.zeros((0, len(self.data()["names"]))),
                                lengths=np.array([p.shape[0] for p in probs]))

    def teacher_probs(self, lang: str, seed: int, n: int | None, target: str) -> list[np.ndarray]:
        """The teacher of ``lang``'s word distributions on ``target``'s unlabeled sentences (kept)."""
        key = direct_key([lang], seed, n)
        path = self.store.probs_path(key, target)
        if path not in self._teacher_cache:
            if not path.exists():
                self.direct([lang], seed, n)
                if not path.exists():  # trained by an earlier call that needed no teacher for target
                    self._teacher_probs_from(self.recipe().load(self.store.dir(key)), key, target)
            z = np.load(path)
            self._teacher_cache[path] = np.split(z["probs"], np.cumsum(z["lengths"])[:-1])
        return self._teacher_cache[path]

    def student(self, target: str, langs: list[str], method: str, seed: int, n: int | None) -> dict:
        """A student on ``target``'s unlabeled text from the teachers of ``langs`` (one per source)."""
        from ...train.distill import aggregate, soft_has_entity, teacher_weights

        weighting = weighting_of(method, langs)
        key = student_key(target, langs, weighting, seed, n)
        if (rec := self.store.read(key)) is not None:
            return rec
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
        keep = self.cfg.fit_recipe().select(has, seed)
        t0 = time.time()
        handle = self._fit([sents[i] for i in keep], [soft[i] for i in keep], seed, hard=False)
        ev = self.evaluate(handle, target)
        res = {"key": key, "langs": list(langs), "seed": seed, "weighting": weighting,
               "weights": {s: round(float(w), 4) for s, w in zip(langs, weights, strict=True)},
               "weight_info": {k: [round(float(x), 4) for x in v] for k, v in info.items()},
               "unlabeled": len(sents), "with_entity": int(sum(has)), "n_train": len(keep), "steps": self.steps(len(keep)),
               "recipe": self.cfg.recipe, "seconds": round(time.time() - t0, 1), "evals": {target: ev}}
        self.store.write(key, res)
        self.trained.append(key)
        logger.info("trained %s (%d of %d sentences, %.0f s)", key, len(keep), len(sents), time.time() - t0)
        return res

    def projection(self, target: str, seed: int) -> dict | None:
        """A model trained on ``target``'s silver set (after the training rule), or None when the
        target has no silver set (the reason is recorded by :class:`.silver.Silver`)."""
        silver = self.silver.mapped(target)
        if silver is None:
            return None
        key = projection_key(target, seed)
        if (rec := self.store.read(key)) is not None:
            return rec
        names = self.data()["names"]
        o = names.index("O")
        has = [any(t != o for t in tags) for tags in silver["ner_tags"]]
        keep = self.cfg.fit_recipe().select(has, seed)
        sel = silver.select(keep)
        t0 = time.time()
        handle = self._fit(sel["tokens"], self._one_hot(sel), seed, hard=True)
        ev = self.evaluate(handle, target)
        res = {"key": key, "seed": seed, "n_train": len(keep), "steps": self.steps(len(keep)),
               "silver": {**self.silver.stats(target), "kept": len(keep)}, "build": self.silver.info(target),
               "recipe": self.cfg.recipe, "seconds": round(time.time() - t0, 1), "evals": {target: ev}}
        self.store.write(key, res)
        self.trained.append(key)
        logger.info("trained %s (%d silver sentences, %.0f s)", key, len(keep), time.time() - t0)
        return res

    # --- the whole run -----------------------------------------------------------------------

    def cells(self) -> list[dict]:
        return plan_cells(self)

    def plan(self) -> dict:
        return plan_counts(self)

    def estimate_seconds(self, plan: dict | None = None, **rates) -> float:
        return estimate_seconds(plan or self.plan(), **rates)

    def check_config(self) -> None:
        """Refuse to resume a run folder whose models were trained with other options."""
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "config.json"
        cfg = asdict(self.cfg)
        if path.exists():
            old = json.loads(path.read_text())
            old.setdefault("recipe", "finetune")  # run folders written before the recipe option
            changed = sorted(k for k in cfg if k not in FREE_KEYS and old.get(k, cfg[k]) != cfg[k])
            if changed:
                raise ConfigError(f"{self.out} holds a run with other options ({', '.join(changed)}: the models "
                                  "there were trained with the old values); use another --out")
        write_json(path, cfg)

    def run(self, seeds: list[int] | None = None) -> list[dict]:
        """Train/evaluate everything missing, seed by seed (outputs rewritten after each stage).

        ``seeds``: only these seeds (default: all). Models are keyed by seed, so processes given
        different seeds can share one run folder and use one core each."""
        from .report import write_outputs

        self.check_config()
        data = self.data()
        write_json(self.out / "labels.json", {"labels": data["names"], **data["report"].to_dict()})
        self.silver.sets()
        recipe = self.recipe()
        if hasattr(recipe, "prepare"):
            recipe.prepare(self.all_sentences())
            logger.info("features of %d sentences computed in %.0f s", recipe.cache.computed, recipe.feature_seconds)
            write_json(self.out / "features.json", {"computed": recipe.cache.computed,
                                                          "seconds": round(recipe.feature_seconds, 1),
                                                          "dir": os.fspath(recipe.cache.dir)})
        cells = self.cells()
        rows: list[dict] = []
        for seed in range(self.cfg.seeds) if seeds is None else seeds:
            mine = [c for c in cells if c["seed"] == seed]
            for c in mine:  # direct models first: target-independent, shared
                if c["method"] in ("direct", "direct-budget"):
                    self.direct(c["langs"], seed, c["n"])
            if "in-language" in self.cfg.methods:
                for t in self.targets:
                    self.in_language(t, seed)
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
        for c in cells:
            langs, n, seed, t = c["langs"], c["n"], c["seed"], c["target"]
            if c["method"] in ("direct", "direct-budget"):
                r = self.store.read(direct_key(langs, seed, n))
            else:
                r = self.store.read(student_key(t, langs, weighting_of(c["method"], langs), seed, n))
            if r is None or t not in r["evals"]:
                continue
            rows.append({**{k: c[k] for k in ("target", "method", "order", "k", "seed")}, "sources": "+".join(langs),
                         "n_train": r["n_train"], **r["evals"][t], "model": r["key"],
                         **({"weights": r.get("weights"), "with_entity": r.get("with_entity"), "unlabeled": r.get("unlabeled")}
                            if c["method"] in TS_METHODS else {})})
        for t in self.targets:
            for seed in range(self.cfg.seeds):
                if "in-language" in self.cfg.methods and (r := self.store.read(in_language_key(t, seed, self.cfg.in_language_whole))):
                    rows.append({"target": t, "method": "in-language", "order": "-", "k": 0, "seed": seed,
                                 "sources": t, "n_train": r["n_train"], **r["evals"][t], "model": r["key"]})
                if "projection" in self.cfg.methods and (r := self.store.read(projection_key(t, seed))):
                    rows.append({"target": t, "method": "projection", "order": "-", "k": 0, "seed": seed,
                                 "sources": r["build"].get("source_language", ""), "n_train": r["n_train"],
                                 **r["evals"][t], "model": r["key"], "silver": r["silver"]})
        return rows


LADDER = [(None, None, None, None), (2000, 2000, None, 2000), (1000, 1000, 1000, 1000), (500, 500, 500, 800),
          (300, 300, 400, 600), (200, 200, 300, 400), (150, 150, 250, 300), (100, 100, 200, 200),
          (60, 60, 150, 150), (40, 40, 100, 100), (24, 24, 60, 60)]


def pick_caps(config: ExperimentConfig, minutes: float, rates: dict | None = None, *, user_set: set[str] = frozenset()):
    """The largest caps of a fixed ladder whose estimated time fits ``minutes``. Every option
    the user set (``user_set``: config field names, and any cap already not None) is kept as it
    is: a budget never overrides what was asked for. Returns (config, estimated seconds, plan,
    changed) where ``changed`` names the options the budget set."""
    best, raw = None, None
    for tr, un, te, si in LADDER:
        picks = {"max_sentences": tr, "max_unlabeled": un, "max_test_sentences": te, "max_silver": si}
        changes = {k: v for k, v in picks.items()
                   if k not in user_set and getattr(config, k) is None and v is not None}
        if "max_silver" not in user_set and config.max_silver is not None and si is not None and si < config.max_silver:
            changes["max_silver"] = si
        cfg = replace(config, **changes)
        exp = Experiment(cfg, raw=raw)
        raw = exp.raw()
        p = exp.plan()
        est = estimate_seconds(p, **(rates or {}))
        best = (cfg, est, p, sorted(changes))
        if est <= 60 * minutes:
            return best
    return best  # the smallest rung: may still be over the budget (the caller says so)
