"""The source-scaling experiment: target F1 as source languages are added, per transfer method.

For k = 1..K (sources in the given order), on the target's gold test set:

* ``direct``: one model trained on the union of the first k sources, applied zero-shot;
* ``ts-uniform`` / ``ts-weighted``: teacher-student (Wu et al. 2020): one teacher per source,
  a student trained on unlabeled target sentences (the target's train split, labels removed)
  to match the uniform / weighted average of the k teachers (``weighting``: similarity or
  agreement);
* ``projection``: silver target data from every source among the first k that has parallel
  text with the target (LAFAND), source side tagged by ``source_tagger`` (default: the spaCy
  English pipeline when installed, for English; else that source's teacher), projected with
  ``projection_method`` (default: the Europarl-best configuration,
  :data:`nerxl_data.project.bench.RECOMMENDED`) over SimAlign itermax links; sources without
  parallel text are named in the notes.

Every cell writes ``cells/<method>-k<k>.json`` when it finishes (projection cells:
``cells/projection@<key>-k<k>.json``, the key a hash of the projection options and taggers, so a
changed projection configuration never reuses stale cells or silver data); a rerun skips
finished cells and reuses trained teachers (``teachers/<source>/``). Outputs: ``results.csv``, ``results.md``,
``scaling.png``, ``config.json`` (seed and every option).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets

from ..corpora import ReadReport
from ..errors import ConfigError, unknown_name
from ..project.bench import RECOMMENDED
from .data import LabelReport, cap, load_source, map_labels, source_types
from .models import resolve_model

logger = logging.getLogger(__name__)

METHODS = ("direct", "ts-uniform", "ts-weighted", "projection")
CONLL_LANGS = ("en", "de", "es", "nl")


def source_spec(lang: str) -> str:
    """``en`` -> ``conll:en`` (CoNLL-2003), other codes -> ``masakhaner2:<code>``; specs pass through."""
    if ":" in lang or os.sep in lang:
        return lang
    return f"conll:{lang}" if lang in CONLL_LANGS else f"masakhaner2:{lang}"


def _lang(spec: str) -> str:
    return spec.split(":", 1)[-1]


@dataclass
class ScalingConfig:
    """Options of one scaling run (all recorded in ``config.json``)."""

    target: str
    sources: list[str]
    model: str = "e5-small"
    out: str = "scaling-out"
    max_sentences: int | None = 2000  # per source, per student, per projection corpus
    max_test_sentences: int | None = None  # None = the whole target test set
    epochs: float = 1.0
    max_length: int = 128
    batch_size: int = 16
    learning_rate: float = 5e-5
    seed: int = 42
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    weighting: str = "similarity"  # for ts-weighted: similarity or agreement
    missing_type_policy: str = "drop"
    align_layer: int = 8
    projection_method: str = RECOMMENDED.method  # with RECOMMENDED.options when it is that method
    source_tagger: str | None = None  # teacher | spacy:<package>; None = spaCy for English when installed
    freeze_embeddings: bool = False  # keep the word embeddings fixed (a CPU saving)
    num_layers: int | None = None  # keep only the bottom encoder layers (None = all)
    data_dir: str | None = None

    def __post_init__(self) -> None:
        for m in self.methods:
            if m not in METHODS:
                raise unknown_name("scaling method", m, METHODS)
        if self.weighting not in ("similarity", "agreement"):
            raise unknown_name("teacher weighting", self.weighting, ("similarity", "agreement"))
        if not self.sources:
            raise ConfigError("give at least one source language")
        if _lang(source_spec(self.target)) in [_lang(source_spec(s)) for s in self.sources]:
            raise ConfigError(f"the target {self.target!r} is also a source")
        if self.source_tagger is not None:
            from .taggers import parse_tagger

            parse_tagger(self.source_tagger)
        from ..project import get_method

        get_method(self.projection_method)


# Options that only change projection cells: they are part of those cells' key (not a new run).
_PROJECTION_KEYS = ("projection_method", "source_tagger")


class ScalingRun:
    """One experiment folder; call :meth:`run`. Cells already on disk are not recomputed."""

    def __init__(self, config: ScalingConfig):
        self.cfg = config
        self.out = Path(config.out)
        self.data_dir = config.data_dir or os.environ.get("NERXL_DATA_DIR")
        self.target_spec = source_spec(config.target)
        self.specs = [source_spec(s) for s in config.sources]
        self.computed: list[str] = []  # cells computed by this call (the rest were on disk)
        self._data = None
        self._model_path = None

    # --- data --------------------------------------------------------------------------------

    @property
    def model_path(self) -> str:
        if self._model_path is None:
            self._model_path = resolve_model(self.cfg.model)
        return self._model_path

    def data(self):
        """Sources and target mapped onto the target's label set (loaded once)."""
        if self._data is None:
            reads = {s: ReadReport() for s in [*self.specs, "target"]}
            target = load_source(self.target_spec, data_dir=self.data_dir, report=reads["target"])
            if "test" not in target:
                raise ConfigError(f"target {self.target_spec} has no test split (splits: {', '.join(target)})")
            raw = {s: load_source(s, data_dir=self.data_dir, report=reads[s]) for s in self.specs}
            for s, d in raw.items():
                if "train" not in d:
                    raise ConfigError(f"source {s} has no train split")
            types = source_types(self.target_spec, target)
            c, seed = self.cfg, self.cfg.seed
            # Cap before mapping, so the label report counts what is trained and scored on.
            capped = {s: datasets.DatasetDict({"train": cap(d["train"], c.max_sentences, seed)}) for s, d in raw.items()}
            capped["target"] = datasets.DatasetDict(
                {"test": cap(target["test"], c.max_test_sentences, seed)}
                | ({"train": cap(target["train"], c.max_sentences, seed)} if "train" in target else {}))
            all_types = {s: source_types(s, raw[s]) for s in raw} | {"target": types}
            mapped, names, report = map_labels(capped, types, c.missing_type_policy, types=all_types)
            for s, read in reads.items():
                report.add_read_repairs(s, read)
            test = mapped["target"]["test"]
            unlabeled = mapped["target"]["train"] if "train" in mapped["target"] else None
            trains = {s: mapped[s]["train"] for s in self.specs}
            self._data = (trains, test, unlabeled, names, report)
        return self._data

    def training_args(self, output_dir: Path):
        from transformers import TrainingArguments

        return TrainingArguments(
            output_dir=str(output_dir), num_train_epochs=self.cfg.epochs, learning_rate=self.cfg.learning_rate,
            per_device_train_batch_size=self.cfg.batch_size, per_device_eval_batch_size=32, seed=self.cfg.seed,
            save_strategy="no", report_to="none", logging_strategy="no", disable_tqdm=True, warmup_steps=0.1,
            train_sampling_strategy="group_by_length",  # less padding: a CPU saving
        )

    # --- teachers ----------------------------------------------------------------------------

    def teacher(self, spec: str) -> Path:
        """Train (once) the teacher of ``spec``; it is also the k=1 direct model of that source."""
        from .trainer import evaluate_loaded, fit

        d = self.out / "teachers" / _lang(spec)
        if (d / "done.json").exists():
            return d
        trains, test, _, names, _ = self.data()
        t0 = time.time()
        trainer = fit(self.model_path, trains[spec], names, self.training_args(d), max_length=self.cfg.max_length,
                      freeze_embeddings=self.cfg.freeze_embeddings, num_layers=self.cfg.num_layers)
        trainer.save_model(str(d))
        res = evaluate_loaded(trainer.model, trainer.processing_class, test, max_length=self.cfg.max_length)
        (d / "done.json").write_text(json.dumps({"source": spec, "n_train": len(trains[spec]), "target_test": res,
                                                 "seconds": round(time.time() - t0, 1)}, indent=2))
        return d

    def teacher_result(self, spec: str) -> dict:
        return json.loads((self.teacher(spec) / "done.json").read_text())

    # --- cells -------------------------------------------------------------------------------

    def cell_path(self, method: str, k: int) -> Path:
        if method == "projection":
            return self.out / "cells" / f"projection@{self.projection_key(self.specs[:k])}-k{k}.json"
        return self.out / "cells" / f"{method}-k{k}.json"

    # --- projection configuration ------------------------------------------------------------

    def tagger_for(self, spec: str) -> str:
        """The source tagger of ``spec``: the configured one, else spaCy for English when installed."""
        from .taggers import default_tagger

        return self.cfg.source_tagger or default_tagger(_lang(spec))

    def projection_setup(self, specs: list[str]) -> dict:
        """Everything that decides the silver data of ``specs`` (recorded, and hashed into keys)."""
        from .projection import projection_options

        return {"method": self.cfg.projection_method, "options": projection_options(self.cfg.projection_method),
                "links": f"{self.cfg.model} layer {self.cfg.align_layer} itermax",
                "taggers": {_lang(s): self.tagger_for(s) for s in specs}}

    def projection_key(self, specs: list[str]) -> str:
        import hashlib

        blob = json.dumps(self.projection_setup(specs), sort_keys=True, default=list)
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    def run_cell(self, method: str, k: int) -> dict:
        path = self.cell_path(method, k)
        if path.exists():
            return json.loads(path.read_text())
        t0 = time.time()
        specs = self.specs[:k]
        cell = {"method": method, "k": k, "sources": [_lang(s) for s in specs], "seed": self.cfg.seed}
        cell.update(getattr(self, "_" + method.replace("-", "_"))(specs))
        cell["seconds"] = round(time.time() - t0, 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cell, indent=2))
        self.computed.append(path.stem)
        return cell

    @staticmethod
    def _scores(res: dict) -> dict:
        return {"f1": res["overall_f1"], "precision": res["overall_precision"], "recall": res["overall_recall"],
                "per_type": {t: v["f1"] for t, v in res.items() if isinstance(v, dict)}}

    def _direct(self, specs: list[str]) -> dict:
        from .trainer import evaluate_loaded, fit

        if len(specs) == 1:  # the same training data and seed as the teacher: reuse it
            r = self.teacher_result(specs[0])
            return {**self._scores(r["target_test"]), "n_train": r["n_train"], "notes": "= teacher of this source"}
        trains, test, _, names, _ = self.data()
        train = datasets.concatenate_datasets([trains[s] for s in specs]).shuffle(seed=self.cfg.seed)
        trainer = fit(self.model_path, train, names, self.training_args(self.out / "tmp"), max_length=self.cfg.max_length,
                      freeze_embeddings=self.cfg.freeze_embeddings, num_layers=self.cfg.num_layers)
        res = evaluate_loaded(trainer.model, trainer.processing_class, test, max_length=self.cfg.max_length)
        return {**self._scores(res), "n_train": len(train), "notes": ""}

    def _student(self, specs: list[str], weighting: str) -> dict:
        from .distill import (
            aggregate,
            agreement_weights,
            teacher_weights,
            teacher_word_probs,
            train_student,
        )
        from .trainer import evaluate_loaded

        trains, test, unlabeled, names, _ = self.data()
        if unlabeled is None:
            raise ConfigError(f"target {self.target_spec} has no train split to take unlabeled sentences from")
        teachers = [self.teacher(s) for s in specs]
        sents = unlabeled["tokens"]
        probs = teacher_word_probs(teachers, sents, names, max_length=self.cfg.max_length)
        weights, info = teacher_weights(
            weighting, probs, encoder=self.model_path,
            source_sentences=[trains[s]["tokens"] for s in specs], target_sentences=sents,
        )
        trainer = train_student(self.model_path, sents, aggregate(probs, weights), names,
                                self.training_args(self.out / "tmp"), max_length=self.cfg.max_length,
                      freeze_embeddings=self.cfg.freeze_embeddings, num_layers=self.cfg.num_layers)
        res = evaluate_loaded(trainer.model, trainer.processing_class, test, max_length=self.cfg.max_length)
        per_teacher = {_lang(s): {"weight": round(float(w), 4), "teacher_f1": self.teacher_result(s)["target_test"]["overall_f1"]}
                       for s, w in zip(specs, weights, strict=True)}
        if len(specs) > 1:  # recorded whatever the weighting: how much each teacher agrees with the rest
            info = {**info, "agreement": agreement_weights(probs).tolist()}
        for key, vals in info.items():
            for s, v in zip(specs, vals, strict=True):
                per_teacher[_lang(s)][key] = round(float(v), 4)
        return {**self._scores(res), "n_train": len(sents), "weighting": weighting, "teachers": per_teacher,
                "notes": "unlabeled target train sentences"}

    def _ts_uniform(self, specs: list[str]) -> dict:
        return self._student(specs, "uniform")

    def _ts_weighted(self, specs: list[str]) -> dict:
        if len(specs) == 1:
            same = {k: v for k, v in self.run_cell("ts-uniform", 1).items() if k not in ("method", "k", "seconds")}
            return {**same, "notes": "k=1: one teacher, same as ts-uniform"}
        return self._student(specs, self.cfg.weighting)

    def silver(self, spec: str) -> tuple[datasets.Dataset | None, dict]:
        """Projected silver data from ``spec``'s parallel text with the target (cached)."""
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        from .projection import lafand_pair, project_silver, read_pairs, simalign_aligner
        from .taggers import SpacyTagger, TaggingReport, parse_tagger
        from .trainer import predict_tags

        setup = self.projection_setup([spec])
        d = self.out / "silver" / self.projection_key([spec])
        f, meta = d / f"{_lang(spec)}.jsonl", d / f"{_lang(spec)}.meta.json"
        if meta.exists():
            m = json.loads(meta.read_text())
            return (datasets.Dataset.from_json(str(f)) if m.get("n") else None), m
        pair = lafand_pair(_lang(spec), _lang(self.target_spec), self.data_dir) if self.data_dir else None
        d.mkdir(parents=True, exist_ok=True)
        if pair is None:
            m = {"n": 0, "why": f"no parallel text {_lang(spec)}-{_lang(self.target_spec)}"}
            meta.write_text(json.dumps(m))
            return None, m
        _, _, _, names, _ = self.data()
        src, tgt, skipped = read_pairs(*pair, self.cfg.max_sentences)
        kind, package = parse_tagger(setup["taggers"][_lang(spec)])
        tagging = TaggingReport()
        if kind == "spacy":
            tagger = SpacyTagger.load(package, sorted({n[2:] for n in names if n != "O"}))
            if tagger.lang != _lang(spec):
                raise ConfigError(f"source tagger spacy:{package} is for {tagger.lang!r}, not source {_lang(spec)!r}")
            src_tags, tagged_by = tagger.tag(src, tagging), tagger.name
        else:
            tdir = self.teacher(spec)
            model, tok = AutoModelForTokenClassification.from_pretrained(tdir), AutoTokenizer.from_pretrained(tdir)
            src_tags, _ = predict_tags(model, tok, src, max_length=self.cfg.max_length)
            tagged_by = f"teacher {_lang(spec)}"
        aligner = simalign_aligner(self.model_path, layer=self.cfg.align_layer)
        tgt_tags, reasons = project_silver(src, src_tags, tgt, aligner, method=self.cfg.projection_method)
        index = {n: i for i, n in enumerate(names)}
        rows = [{"id": str(i), "tokens": t, "ner_tags": [index[x] for x in tags]} for i, (t, tags) in enumerate(zip(tgt, tgt_tags, strict=True))]
        with open(f, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        m = {"n": len(rows), "files": [str(p) for p in pair], "skipped_empty_pairs": skipped,
             "entities": dict(reasons), "tagged_by": tagged_by, "tagging": tagging.to_dict() if kind == "spacy" else None,
             "aligner": setup["links"], "projection": setup["method"], "options": setup["options"]}
        meta.write_text(json.dumps(m, indent=2))
        return datasets.Dataset.from_json(str(f)), m

    def _projection(self, specs: list[str]) -> dict:
        from .trainer import evaluate_loaded, fit

        _, test, _, names, _ = self.data()
        parts, used, missing, metas = [], [], [], {}
        for s in specs:
            ds, m = self.silver(s)
            metas[_lang(s)] = m
            if ds is None:
                missing.append(_lang(s))
            else:
                parts.append(ds)
                used.append(_lang(s))
        how = "; ".join(f"{s} tagged by {metas[s]['tagged_by']}" for s in used)
        notes = (f"silver from {', '.join(used) or 'none'}" + (f" ({how}, {self.cfg.projection_method} projection)" if used else "")
                 + (f"; no parallel text for {', '.join(missing)}" if missing else ""))
        if not parts:
            return {"f1": None, "precision": None, "recall": None, "n_train": 0, "notes": notes, "silver": metas,
                    "projection": self.projection_setup(specs)}
        # Same silver data as a smaller k (added sources had no parallel text): reuse that cell.
        for c in range(len(specs) - 1, 0, -1):
            p = self.cell_path("projection", c)
            if p.exists():
                old = json.loads(p.read_text())
                if old.get("used") == used and old.get("f1") is not None:
                    return {**{k: old[k] for k in ("f1", "precision", "recall", "per_type", "n_train") if k in old},
                            "used": used, "notes": notes + f" (same silver data as k={c})", "silver": metas,
                            "projection": self.projection_setup(specs)}
        features = datasets.Features({"id": datasets.Value("string"), "tokens": datasets.Sequence(datasets.Value("string")),
                                      "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})
        train = datasets.concatenate_datasets([p.cast(features) for p in parts]).shuffle(seed=self.cfg.seed)
        trainer = fit(self.model_path, train, names, self.training_args(self.out / "tmp"), max_length=self.cfg.max_length,
                      freeze_embeddings=self.cfg.freeze_embeddings, num_layers=self.cfg.num_layers)
        res = evaluate_loaded(trainer.model, trainer.processing_class, test, max_length=self.cfg.max_length)
        return {**self._scores(res), "n_train": len(train), "used": used, "notes": notes, "silver": metas,
                "projection": self.projection_setup(specs)}

    # --- the whole run -----------------------------------------------------------------------

    def run(self) -> list[dict]:
        """Compute every missing cell, then write CSV, markdown and plot. Returns the cells."""
        self.out.mkdir(parents=True, exist_ok=True)
        cfg_path = self.out / "config.json"
        cfg = asdict(self.cfg)
        if cfg_path.exists():
            old = json.loads(cfg_path.read_text())
            changed = sorted(k for k in cfg if k not in ("out", "methods", *_PROJECTION_KEYS) and old.get(k) != cfg[k])
            if changed:
                raise ConfigError(f"{self.out} holds a run with other options ({', '.join(changed)}); use another --out")
        cfg_path.write_text(json.dumps(cfg, indent=2))
        _, _, _, names, report = self.data()
        (self.out / "labels.json").write_text(json.dumps({"labels": names, **report.to_dict()}, indent=2))
        cells = []
        for k in range(1, len(self.specs) + 1):
            for method in self.cfg.methods:
                logger.warning("cell %s k=%d", method, k)
                cells.append(self.run_cell(method, k))
            write_outputs(self.out, cells, self.cfg, report)  # partial results after every k
        write_outputs(self.out, cells, self.cfg, report)
        return cells


def write_outputs(out: Path, cells: list[dict], cfg: ScalingConfig, report: LabelReport) -> None:
    """``results.csv``, ``results.md`` and ``scaling.png`` (when matplotlib is installed)."""
    cols = ["method", "k", "sources", "f1", "precision", "recall", "n_train", "seconds", "notes"]
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols + ["seed"])
        for c in cells:
            w.writerow([" ".join(c[x]) if x == "sources" else c.get(x) for x in cols] + [cfg.seed])
    (out / "results.md").write_text(markdown_table(cells, cfg, report))
    try:
        plot(cells, out / "scaling.png", title=f"target {cfg.target}, model {cfg.model}")
    except ImportError:
        logger.warning("matplotlib is not installed: no plot (pip install 'nerxl-data[plot]')")


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def markdown_table(cells: list[dict], cfg: ScalingConfig, report: LabelReport) -> str:
    """F1 (x100) by k (rows) and method (columns), then per-teacher weights and notes."""
    methods = [m for m in METHODS if any(c["method"] == m for c in cells)]
    ks = sorted({c["k"] for c in cells})
    by = {(c["method"], c["k"]): c for c in cells}
    lines = [f"Target `{cfg.target}` (gold test{'' if cfg.max_test_sentences is None else f', first {cfg.max_test_sentences} after a seeded shuffle'}), "
             f"model `{cfg.model}`, {cfg.max_sentences or 'all'} sentences per source, {cfg.epochs:g} epoch(s), "
             f"max_length {cfg.max_length}, seed {cfg.seed}. Entity-level micro F1 (seqeval) x 100.", "",
             "| k | sources | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
    for k in ks:
        srcs = next(c["sources"] for c in cells if c["k"] == k)
        lines.append(f"| {k} | {'+'.join(srcs)} | " + " | ".join(_pct(by[(m, k)].get("f1")) if (m, k) in by else "" for m in methods) + " |")
    lines += ["", "Labels: " + "; ".join(report.lines()), ""]
    for c in cells:
        if c.get("teachers") and c["method"] == "ts-weighted":
            t = ", ".join(f"{s} w={v['weight']:.2f} (teacher F1 {_pct(v['teacher_f1'])})" for s, v in c["teachers"].items())
            lines.append(f"- ts-weighted k={c['k']} ({c.get('weighting')}): {t}")
        if c["method"] == "projection" and c.get("notes"):
            lines.append(f"- projection k={c['k']}: {c['notes']}")
    return "\n".join(lines) + "\n"


def plot(cells: list[dict], path: Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m in METHODS:
        pts = sorted((c["k"], 100 * c["f1"]) for c in cells if c["method"] == m and c.get("f1") is not None)
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=m)
    ax.set_xlabel("number of source languages k")
    ax.set_ylabel("target test F1")
    ax.set_xticks(sorted({c["k"] for c in cells}))
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
