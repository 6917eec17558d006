"""The Europarl-NER projection benchmark: project gold English entities onto de, es, it.

Europarl-NER (Agerri et al. 2018) has gold entities on every side of 799 parallel sentences, so
projection quality is measured directly: exact span and type micro F1 of the projected tags
against the target's gold tags. The benchmark runs the build pipeline's own steps
(:mod:`nerxl_data.pipeline`: ``AlignStep`` then ``ProjectStep``), so what it measures is what
``nerxl build`` makes; the links are cached by the pipeline's step cache (keyed by the aligner
config and the sentences' content) under ``$NERXL_CACHE/steps`` (default
``~/.cache/nerxl/steps``). Two aligners may be combined (``simalign-argmax+eflomal`` with
``combine="union"``), and an aligner may carry options after ``@``
(``eflomal@symmetrize=intersection``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .evaluation import evaluate_tags
from .options import parse_pairs
from .paths import cache_root
from .project import recommended
from .project.links import COMBINE_MODES
from .project.report import ProjectionReport
from .schema import tags_to_spans

log = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("de", "es", "it")


@dataclass(frozen=True)
class BenchSetup:
    """One benchmark configuration: which links, which method, which options."""

    aligner: str = recommended.ALIGNER
    model: str = recommended.MODEL
    layer: int = recommended.LAYER
    method: str = recommended.PROJECTION
    options: dict[str, Any] = field(default_factory=lambda: dict(recommended.OPTIONS))
    combine: str = "union"

    def label(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.method}{'(' + opts + ')' if opts else ''}"


RECOMMENDED = BenchSetup()
"""The best configuration measured (:mod:`nerxl_data.project.recommended`)."""


def steps_cache_dir() -> Path:
    """The benchmark's step cache (links and projections), under :func:`nerxl_data.paths.cache_root`."""
    return cache_root() / "steps"


def parse_aligner(spec: str) -> tuple[str, dict[str, Any]]:
    """``"eflomal@symmetrize=intersection"`` -> ``("eflomal", {"symmetrize": "intersection"})``."""
    name, _, opts = spec.partition("@")
    return name, parse_pairs(filter(None, opts.split(",")), flag=f"aligner {name}:")


def pipeline_config(setup: BenchSetup, lang: str):
    """The pipeline config of ``setup`` for en -> ``lang`` (parallel text: no translator), and
    the step list (one ``AlignStep`` per aligner, then ``ProjectStep``)."""
    from .align import ALIGNERS
    from .pipeline import AlignConfig, AlignStep, PipelineConfig, ProjectConfig, ProjectStep

    aligners = setup.aligner.split("+")
    if len(aligners) > 2:
        raise ConfigError(f"at most two aligners can be combined, got {setup.aligner!r}")
    if setup.combine not in COMBINE_MODES:
        raise ConfigError(f"unknown combination {setup.combine!r}; known: {', '.join(COMBINE_MODES)}")
    configs = []
    for i, spec in enumerate(aligners):
        name, opts = parse_aligner(spec)
        uses_model = ALIGNERS.get(name).uses_model
        if uses_model:
            opts = {"layer": setup.layer, **opts}
        configs.append(AlignConfig(name, setup.model if uses_model else "", opts,
                                   "alignment" if i == 0 else f"alignment_{i}"))
    projection = ProjectConfig(setup.method, dict(setup.options),
                               "alignment_1" if len(configs) == 2 else None, setup.combine)
    config = PipelineConfig("en", lang, aligner=configs[0], projection=projection)
    for c in configs[1:]:
        c.check()
    return config, [*(AlignStep(c) for c in configs), ProjectStep(projection)]


def load_europarl(lang: str, data_dir: str | Path | None = None) -> list[dict]:
    from .corpora.registry import load_corpus

    return list(load_corpus(f"europarl-ner:{lang}", data_dir=data_dir))


def bench_europarl(
    setup: BenchSetup = RECOMMENDED, langs: tuple[str, ...] = LANGS, data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> dict:
    """F1 per language and the mean: ``{"de": {"f1": ..., ...}, ..., "mean": {"f1": ...}}``.

    Raises:
        ConfigError: an unknown method, option, aligner or combination (before anything runs).
    """
    from datasets import Dataset

    from .pipeline import run_steps, source_rows
    from .project.base import Dropped, Projection, ScoredSpan

    steps_by_lang = {lang: pipeline_config(setup, lang)[1] for lang in langs}  # every name checked first
    en = load_europarl("en", data_dir)
    out: dict[str, Any] = {}
    for lang in langs:
        tgt = load_europarl(lang, data_dir)
        rows = Dataset.from_dict(source_rows(en, "en", [ex["tokens"] for ex in tgt]))
        # one shard: eflomal's statistics come from the whole corpus, as the benchmark always had
        done = run_steps(rows, steps_by_lang[lang], cache_dir or steps_cache_dir(), shard_size=len(rows))
        report = ProjectionReport()
        for ex, scores, dropped in zip(en, done["projection_scores"], done["projection_dropped"], strict=True):
            spans = tags_to_spans(ex["ner_tags"])
            lost = {int(d.split(":", 1)[0]): d.split(":", 1)[1] for d in dropped}
            kept = [k for k in range(len(spans)) if k not in lost]
            report.update(spans, Projection([ScoredSpan(spans[k], sc, k) for k, sc in zip(kept, scores, strict=False)],
                                            [Dropped(k, r) for k, r in lost.items()]))
        scores = evaluate_tags([ex["ner_tags"] for ex in tgt], done["ner_tags"])
        out[lang] = {**scores["micro"], "per_type": scores["per_type"], "report": report.to_dict()}
    out["mean"] = {"f1": round(sum(out[lang]["f1"] for lang in langs) / len(langs), 2)}
    out["setup"] = {
        "aligner": setup.aligner, "model": setup.model, "layer": setup.layer,
        "method": setup.method, "options": dict(setup.options), "combine": setup.combine,
    }
    return out
