"""The projection cell of the scaling experiment: silver target data from parallel text.

Source side tagged by a source teacher -> word links from the aligner
(:mod:`nerxl_data.align`: ``WordEncoder`` + a SimAlign method) -> entities projected with
:func:`nerxl_data.project.project` -> IOB2 silver tags on the target side. Offline there is no
translator for these pairs, so the parallel text stands in for translate-train.

The aligner is any callable ``align(src_sentences, tgt_sentences) -> list[list[Link]]``
(:data:`Aligner`), so another aligner (awesome-align, eflomal) plugs in unchanged.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import regex

from ..errors import ConfigError
from ..project.bench import RECOMMENDED
from ..schema import Link, tags_to_spans

Aligner = Callable[[Sequence[Sequence[str]], Sequence[Sequence[str]]], list[list[Link]]]

# Word tokeniser for raw LAFAND lines, close to MasakhaNER/CoNLL tokenisation (punctuation split
# off). Hand-written (one regex): no tokenizer for these languages ships offline. The `regex`
# module's \w includes combining marks, so Yoruba tone marks stay inside words.
_WORD = regex.compile(r"\w+(?:['’\-.]\w+)*|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Words and punctuation of a raw sentence.

    >>> tokenize("Ọ̀yọ́ State's governor, Mr. Makinde.")
    ['Ọ̀yọ́', "State's", 'governor', ',', 'Mr', '.', 'Makinde', '.']
    """
    return _WORD.findall(text)


def lafand_pair(src: str, tgt: str, data_dir: str | os.PathLike) -> tuple[Path, Path] | None:
    """The LAFAND train files for (src, tgt) in either direction, or None when there are none."""
    root = Path(data_dir) / "lafand"
    for a, b in ((src, tgt), (tgt, src)):
        for name in (f"{a}-{b}", f"{a}_{b}"):
            d = root / name
            if (d / f"train.{src}").exists() and (d / f"train.{tgt}").exists():
                return d / f"train.{src}", d / f"train.{tgt}"
    return None


def read_pairs(src_file: Path, tgt_file: Path, limit: int | None) -> tuple[list[list[str]], list[list[str]], int]:
    """Tokenised sentence pairs (first ``limit``); returns (src, tgt, skipped empty pairs)."""
    from ..corpora.parallel import read_parallel_text

    src, tgt, skipped = [], [], 0
    for pair in read_parallel_text(src_file, tgt_file):
        s, t = tokenize(pair["src"]), tokenize(pair["tgt"])
        if not s or not t:
            skipped += 1
            continue
        src.append(s)
        tgt.append(t)
        if limit is not None and len(src) >= limit:
            break
    return src, tgt, skipped


def simalign_aligner(model: str, layer: int = 8, method: str = "itermax", batch_size: int = 32) -> Aligner:
    """A SimAlign-style aligner over ``model``'s layer ``layer`` (word vectors = mean of subwords)."""
    from ..align import methods as M
    from ..align.encoders import WordEncoder

    fns = {"itermax": M.itermax, "argmax": M.mutual_argmax, "match": M.max_weight_match}
    if method not in fns:
        from ..errors import unknown_name

        raise unknown_name("alignment method", method, fns)
    encoder = WordEncoder.load(model, layer=layer, batch_size=batch_size)

    def align(src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]]) -> list[list[Link]]:
        out = []
        for es, et in zip(encoder.encode(src), encoder.encode(tgt), strict=True):
            if len(es.word_ids) == 0 or len(et.word_ids) == 0:
                out.append([])
                continue
            xs, ws = M.mean_by_word(es.vectors, es.word_ids)
            xt, wt = M.mean_by_word(et.vectors, et.word_ids)
            sim = M.cosine_similarity(xs, xt)
            out.append(M.to_word_links(fns[method](sim), sim, ws, wt))
        return out

    return align


def projection_options(method: str) -> dict[str, Any]:
    """Options of ``method``: the Europarl-best ones (``RECOMMENDED``) for its method, else none.

    >>> projection_options("heuristic")
    {}
    >>> sorted(projection_options("candidates-ngram"))
    ['matching', 'scorers', 'weights']
    """
    return dict(RECOMMENDED.options) if method == RECOMMENDED.method else {}


def projection_config(method: str) -> Any:
    """The config object of ``method`` with :func:`projection_options`."""
    from ..project import get_method

    return get_method(method).make_config(**projection_options(method))


def project_silver(
    src_sentences: Sequence[Sequence[str]],
    src_tags: Sequence[Sequence[str]],
    tgt_sentences: Sequence[Sequence[str]],
    aligner: Aligner,
    *,
    method: str = RECOMMENDED.method,
    config: Any = None,
    batch_size: int = 64,
) -> tuple[list[list[str]], Counter]:
    """Project IOB2 source tags onto target sentences; returns (target tags, drop-reason counts).

    ``method``/``config``: a projection method of :mod:`nerxl_data.project` and its config
    (default: :func:`projection_config`, the configuration measured best on Europarl for the
    recommended method). Dropped entities are counted by reason (never silently turned into
    ``O`` without a count).
    """
    from ..project import project

    if not (len(src_sentences) == len(src_tags) == len(tgt_sentences)):
        raise ConfigError("source sentences, source tags and target sentences differ in number")
    if config is None:
        config = projection_config(method)
    out: list[list[str]] = []
    reasons: Counter = Counter()
    for start in range(0, len(src_sentences), batch_size):
        s = src_sentences[start:start + batch_size]
        t = tgt_sentences[start:start + batch_size]
        links = aligner(s, t)
        for i, (ss, tt, ll) in enumerate(zip(s, t, links, strict=True)):
            spans = tags_to_spans(src_tags[start + i], "IOB2", "repair")
            p = project(ss, spans, tt, ll, method, config, row=start + i)
            reasons["projected"] += len(p.spans)
            for d in p.dropped:
                reasons[d.reason] += 1
            out.append(p.tags(len(tt)))
    return out, reasons
