"""The Europarl-NER projection benchmark: project gold English entities onto de, es, it.

Europarl-NER (Agerri et al. 2018) has gold entities on every side of 799 parallel sentences, so
projection quality is measured directly: exact span and type micro F1 of the projected tags
against the target's gold tags. Links are computed once per (aligner, model, layer, language)
and cached as Pharaoh files with scores under ``~/.cache/nerxl/links/``; two aligners may be
combined (``simalign-argmax+eflomal`` with ``combine="union"``), and an aligner may carry
options after ``@`` (``eflomal@symmetrize=intersection``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..align.pharaoh import format_links, parse_links
from ..errors import ConfigError
from ..evaluation import evaluate_tags
from ..schema import Link, tags_to_spans
from .api import get_method, project
from .links import COMBINE_MODES, combine_links
from .report import ProjectionReport

log = logging.getLogger(__name__)

LANGS: tuple[str, ...] = ("de", "es", "it")


@dataclass(frozen=True)
class BenchSetup:
    """One benchmark configuration: which links, which method, which options."""

    aligner: str = "simalign-itermax"
    model: str = "e5-small"
    layer: int = 8
    method: str = "candidates-ngram"
    options: dict[str, Any] = field(
        default_factory=lambda: {"matching": "greedy", "scorers": ("links", "surface"), "weights": (1.0, 0.5)}
    )
    combine: str = "union"

    def label(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.method}{'(' + opts + ')' if opts else ''}"


RECOMMENDED = BenchSetup()
"""The best configuration measured (see benchmarks/results/europarl.md)."""


def links_cache_dir() -> Path:
    return Path(os.environ.get("NERXL_CACHE", Path.home() / ".cache" / "nerxl")) / "links"


def parse_aligner(spec: str) -> tuple[str, dict[str, Any]]:
    """``"eflomal@symmetrize=intersection"`` -> ``("eflomal", {"symmetrize": "intersection"})``."""
    name, _, opts = spec.partition("@")
    options: dict[str, Any] = {}
    for item in filter(None, opts.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"aligner option {item!r} in {spec!r} is not KEY=VALUE")
        options[key] = value
    return name, options


def _cache_file(aligner: str, model: str, layer: int, lang: str) -> Path:
    name, _ = parse_aligner(aligner)
    key = aligner.replace("@", "-").replace("=", "-").replace(",", "-")
    if name != "eflomal":
        key = f"{key}-{model}-L{layer}"
    return links_cache_dir() / f"{key}.en-{lang}.txt"


def europarl_links(
    aligner: str, src: list[list[str]], tgt: list[list[str]], lang: str, model: str = "e5-small", layer: int = 8
) -> list[list[Link]]:
    """Links en -> ``lang`` for every sentence pair, from the cache or computed (and cached) once."""
    path = _cache_file(aligner, model, layer, lang)
    if path.is_file():
        rows = path.read_text(encoding="utf-8").splitlines()
        if len(rows) == len(src):
            return [parse_links(r, len(s), len(t), source=str(path), lineno=i + 1)
                    for i, (r, s, t) in enumerate(zip(rows, src, tgt, strict=True))]
        log.warning("%s has %d lines for %d sentences; recomputing", path, len(rows), len(src))
    from ..align import get_aligner

    name, kwargs = parse_aligner(aligner)
    if name != "eflomal":
        kwargs.update(model=model, layer=layer)
    log.info("aligning %d en-%s pairs with %s", len(src), lang, aligner)
    with get_aligner(name, **kwargs) as a:
        links = a.align_batch(src, tgt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(format_links(x, scores=True) + "\n" for x in links), encoding="utf-8")
    tmp.replace(path)
    return links


def load_europarl(lang: str, data_dir: str | Path | None = None) -> list[dict]:
    from ..corpora.registry import load_corpus

    return list(load_corpus(f"europarl-ner:{lang}", data_dir=data_dir))


def bench_europarl(
    setup: BenchSetup = RECOMMENDED, langs: tuple[str, ...] = LANGS, data_dir: str | Path | None = None
) -> dict:
    """F1 per language and the mean: ``{"de": {"f1": ..., ...}, ..., "mean": {"f1": ...}}``.

    Raises:
        ConfigError: an unknown method, option, aligner or combination.
    """
    method = get_method(setup.method)
    config = method.make_config(**setup.options)
    aligners = setup.aligner.split("+")
    if len(aligners) > 2:
        raise ConfigError(f"at most two aligners can be combined, got {setup.aligner!r}")
    if setup.combine not in COMBINE_MODES:
        raise ConfigError(f"unknown combination {setup.combine!r}; known: {', '.join(COMBINE_MODES)}")
    en = load_europarl("en", data_dir)
    src_words = [ex["tokens"] for ex in en]
    src_spans = [tags_to_spans(ex["ner_tags"]) for ex in en]
    out: dict[str, Any] = {}
    for lang in langs:
        tgt = load_europarl(lang, data_dir)
        tgt_words = [ex["tokens"] for ex in tgt]
        sets = [europarl_links(a, src_words, tgt_words, lang, setup.model, setup.layer) for a in aligners]
        links = sets[0]
        if len(sets) == 2:
            links = [combine_links(a, b, setup.combine) for a, b in zip(sets[0], sets[1], strict=True)]
        report = ProjectionReport()
        preds = []
        for i, (words, spans, t, ln) in enumerate(zip(src_words, src_spans, tgt_words, links, strict=True)):
            p = project(words, spans, t, ln, setup.method, config, row=i)
            report.update(spans, p)
            preds.append(p.tags(len(t)))
        scores = evaluate_tags([ex["ner_tags"] for ex in tgt], preds)
        out[lang] = {**scores["micro"], "per_type": scores["per_type"], "report": report.to_dict()}
    out["mean"] = {"f1": round(sum(out[lang]["f1"] for lang in langs) / len(langs), 2)}
    out["setup"] = {
        "aligner": setup.aligner, "model": setup.model, "layer": setup.layer,
        "method": setup.method, "options": dict(setup.options), "combine": setup.combine,
    }
    return out
