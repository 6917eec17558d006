"""One entry point for every projection method, a registry of their names, and a batched form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError, InputError, unknown_name
from ..registry import Registry
from ..schema import Link, Span, tags_to_spans
from .alignment import HeuristicConfig, HullConfig, project_heuristic, project_hull
from .base import Projection, check_links, check_spans
from .candidates import CandidatesConfig, project_candidates
from .easyproject import EasyProjectConfig, project_easyproject
from .links import COMBINE_MODES, Combine, combine_links


@dataclass(frozen=True)
class LinkCombination:
    """How forward links are combined with back-translation links (see :mod:`.links`)."""

    how: Combine = "intersection"
    weight: float = 0.5
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.how not in COMBINE_MODES:
            raise unknown_name("link combination", self.how, COMBINE_MODES)


@dataclass(frozen=True)
class Method:
    """A registered projection method: its function, config class and defaults.

    ``fn(src_tokens, src_spans, tgt_tokens, links, config, **extra) -> Projection``; ``extra``
    holds ``candidates``/``candidate_scores`` (``candidates-ner``) and ``entity_translations``
    (``easyproject``). ``bibtex``: the paper to cite on a dataset card, where known.
    """

    name: str
    fn: Callable[..., Projection]
    config_cls: type
    defaults: dict[str, Any]
    uses_links: bool = True
    bibtex: str | None = None

    def make_config(self, **options: Any) -> Any:
        """The method's config from ``options`` (unknown option names raise ConfigError)."""
        known = {f.name for f in fields(self.config_cls)}
        bad = sorted(set(options) - known)
        if bad:
            raise ConfigError(
                f"method {self.name!r} has no option {', '.join(map(repr, bad))}; "
                f"options: {', '.join(sorted(known))}"
            )
        return self.config_cls(**{**self.defaults, **options})


def _hull(src_tokens, src_spans, tgt_tokens, links, config, **_):
    return project_hull(src_spans, tgt_tokens, links, config, src_tokens)


def _heuristic(src_tokens, src_spans, tgt_tokens, links, config, **_):
    return project_heuristic(src_spans, tgt_tokens, links, config, src_tokens)


def _candidates(src_tokens, src_spans, tgt_tokens, links, config, *, candidates=None, candidate_scores=None, **_):
    return project_candidates(src_tokens, src_spans, tgt_tokens, links, config, candidates, candidate_scores)


def _easyproject(src_tokens, src_spans, tgt_tokens, links, config, *, entity_translations=None, **_):
    return project_easyproject(src_tokens, src_spans, tgt_tokens, config, entity_translations)


_POLITOV_BIBTEX = """@inproceedings{politov-etal-2025-revisiting,
  title = "Revisiting Projection-based Data Transfer for Cross-Lingual Named Entity Recognition in Low-Resource Languages",
  author = "Politov, Andrei and Shkalikov, Oleh and J{\\"a}kel, Rene and F{\\"a}rber, Michael",
  booktitle = "Proceedings of the Joint 25th Nordic Conference on Computational Linguistics and 11th Baltic Conference on Human Language Technologies (NoDaLiDa/Baltic-HLT 2025)",
  year = "2025",
  pages = "499--507",
  url = "https://aclanthology.org/2025.nodalida-1.54"
}"""
"""Candidate extraction + matching; ``heuristic`` as reimplemented and compared there."""

METHODS: Registry[Method] = Registry("projection method", {
    m.name: m
    for m in (
        Method("hull", _hull, HullConfig, {}),
        Method("heuristic", _heuristic, HeuristicConfig, {}, bibtex=_POLITOV_BIBTEX),
        Method("candidates-ngram", _candidates, CandidatesConfig, {"extract": "ngram"}, bibtex=_POLITOV_BIBTEX),
        Method("candidates-ner", _candidates, CandidatesConfig, {"extract": "ner"}, bibtex=_POLITOV_BIBTEX),
        Method("easyproject", _easyproject, EasyProjectConfig, {}, uses_links=False),
    )
})
"""Projection methods by their readable names."""


def get_method(name: str) -> Method:
    """The registered method ``name``; an unknown name lists the known ones."""
    return METHODS.get(name)


def project(
    src_tokens: Sequence[str],
    src_spans: Sequence[Span],
    tgt_tokens: Sequence[str],
    links: Sequence[Link] = (),
    method: str = "heuristic",
    config: Any = None,
    *,
    back_links: Sequence[Link] | None = None,
    combination: LinkCombination | None = None,
    candidates: Sequence[Span] | None = None,
    candidate_scores: Sequence[float] | None = None,
    entity_translations: Sequence[str] | None = None,
    check: bool = True,
    row: int | None = None,
) -> Projection:
    """Project the source entities ``src_spans`` onto the target sentence.

    Args:
        links: word links source -> target (ignored by ``easyproject``).
        method: a name from :data:`METHODS`.
        config: that method's config dataclass (default: its defaults).
        back_links: links from back-translation (source -> target, see :mod:`.links`),
            combined with ``links`` as ``combination`` says (default: intersection).
        candidates, candidate_scores: the target's NER spans and probabilities (``candidates-ner``).
        entity_translations: each entity translated alone (``easyproject``).
        check: check that links and spans fall inside the sentences.
        row: the sentence index, named in errors.

    >>> p = project(["Mr", "Prodi", "said"], [Span(1, 2, "PER")], ["Herr", "Prodi", "sagte"],
    ...             [Link(0, 0), Link(1, 1), Link(2, 2)], "heuristic")
    >>> p.tags(3)
    ['O', 'B-PER', 'O']

    Raises:
        ConfigError: an unknown method, or a config of the wrong type.
        InputError: links or spans outside the sentences.
    """
    m = get_method(method)
    if config is None:
        config = m.make_config()
    elif not isinstance(config, m.config_cls):
        raise ConfigError(f"method {method!r} takes a {m.config_cls.__name__}, got {type(config).__name__}")
    if check:
        check_spans(src_spans, len(src_tokens), row=row)
    if not m.uses_links:
        return m.fn(src_tokens, src_spans, tgt_tokens, (), config, entity_translations=entity_translations)
    if check:
        links = check_links(links, len(src_tokens), len(tgt_tokens), row=row)
        if back_links is not None:
            back_links = check_links(back_links, len(src_tokens), len(tgt_tokens), row=row)
    if back_links is not None:
        c = combination or LinkCombination()
        links = combine_links(links, back_links, c.how, c.weight, c.threshold)
    return m.fn(src_tokens, src_spans, tgt_tokens, links, config,
                candidates=candidates, candidate_scores=candidate_scores)


def _as_links(value: Any, row: int) -> list[Link]:
    """Links from a dataset cell: a Pharaoh string, or a list of ``[i, j]``/``[i, j, s]``/dicts."""
    from ..align.pharaoh import parse_links

    if value is None:
        return []
    if isinstance(value, str):
        return parse_links(value, source="links column", lineno=row + 1)
    out = []
    for item in value:
        try:
            if isinstance(item, Link):
                out.append(item)
            elif isinstance(item, dict):
                out.append(Link(int(item["src"]), int(item["tgt"]), float(item.get("score", 1.0))))
            elif isinstance(item, str):
                raise ValueError
            else:
                out.append(Link(int(item[0]), int(item[1]), float(item[2]) if len(item) > 2 else 1.0))
        except (ValueError, TypeError, KeyError, IndexError):
            raise InputError(f"links column: cannot read {item!r} as a link; give one Pharaoh string per "
                             "row ('0-0 1-2:0.9') or a list of [i, j], [i, j, score] or "
                             "{'src', 'tgt', 'score'} items", row=row) from None
    return out


def project_batch(
    batch: dict[str, list],
    method: str = "heuristic",
    config: Any = None,
    *,
    src_tokens: str = "src_tokens",
    src_tags: str = "src_ner_tags",
    tgt_tokens: str = "tokens",
    links: str = "links",
    back_links: str | None = None,
    combination: LinkCombination | None = None,
    candidates: str | None = None,
    entity_translations: str | None = None,
    out_tags: str = "ner_tags",
    report: Callable[[Sequence[Span], Projection], None] | None = None,
) -> dict[str, list]:
    """Project a batch of columns; use with ``datasets.Dataset.map(batched=True)``.

    Adds ``out_tags`` (IOB2 target tags), ``projection_scores`` (one per projected span, in
    target order) and ``projection_dropped`` (``"<entity index>:<reason>"`` per dropped entity).
    Source tags are IOB2 strings. ``candidates`` names a column of target NER spans
    (``{"start", "end", "label", "score"}`` dicts) for ``candidates-ner``;
    ``entity_translations`` a column of per-entity translations for ``easyproject`` (whose
    stripped target tokens replace ``tgt_tokens``). ``report`` (e.g.
    ``ProjectionReport().update``) is called per row.

    >>> out = project_batch({"src_tokens": [["Rome"]], "src_ner_tags": [["B-LOC"]],
    ...     "tokens": [["Roma"]], "links": ["0-0"]})
    >>> out["ner_tags"], out["projection_dropped"]
    ([['B-LOC']], [[]])
    """
    m = get_method(method)
    if config is None:
        config = m.make_config()
    n = len(batch[src_tokens])
    tags_out, scores_out, dropped_out = [], [], []
    tokens_out = [] if not m.uses_links else None
    for i in range(n):
        try:
            spans = tags_to_spans(batch[src_tags][i], "IOB2", "repair")
        except InputError as exc:
            raise InputError(f"source tags: {exc.message}", row=i) from None
        fwd = _as_links(batch[links][i], i) if m.uses_links else []
        back = _as_links(batch[back_links][i], i) if back_links else None
        cands = scores = None
        if candidates is not None:
            cells = batch[candidates][i] or []
            cands = [Span(int(c["start"]), int(c["end"]), c["label"]) for c in cells]
            scores = [float(c.get("score", 1.0)) for c in cells]
        p = project(
            batch[src_tokens][i], spans, batch[tgt_tokens][i], fwd, method, config,
            back_links=back, combination=combination, candidates=cands, candidate_scores=scores,
            entity_translations=batch[entity_translations][i] if entity_translations else None,
            row=i,
        )
        length = len(p.tokens) if p.tokens is not None else len(batch[tgt_tokens][i])
        tags_out.append(p.tags(length))
        scores_out.append([s.score for s in sorted(p.spans, key=lambda s: s.span)])
        dropped_out.append([f"{d.source}:{d.reason}" for d in p.dropped])
        if tokens_out is not None:
            tokens_out.append(p.tokens)
        if report is not None:
            report(spans, p)
    out = dict(batch)
    out[out_tags] = tags_out
    out["projection_scores"] = scores_out
    out["projection_dropped"] = dropped_out
    if tokens_out is not None:
        out[tgt_tokens] = tokens_out
    return out
