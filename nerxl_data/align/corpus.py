"""Aligning whole corpora and files: chunked, with a progress bar and an optional on-disk cache.

>>> links = align_corpus(src_sents, tgt_sents, "simalign-itermax", cache_dir="/tmp/nerxl-links")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..schema import Link
from .pharaoh import format_links, parse_links

log = logging.getLogger(__name__)

CHUNK = 512  # sentence pairs handed to a neural aligner at a time (it sorts/batches inside)
MAX_WORDS = 500
"""Words of a sentence the aligners see; the rest of a longer sentence gets no links (counted)."""
MAX_WORD_CHARS = 100
"""Characters of a word the tokenizer sees (a longer "word" is cut; its index is unchanged)."""


def read_tokenized(path: str | os.PathLike) -> list[list[str]]:
    """One whitespace-tokenised sentence a line (an empty line is an empty sentence).

    Any line ending (``\n``, ``\r\n``, ``\r``); gzip/bz2/xz decompressed.

    Raises:
        InputError: a missing or unreadable file, or bytes that are not UTF-8 (naming the line).
    """
    from ..corpora._io import read_text

    return [line.split() for line in read_text(path)]


def clip_sentences(sents: Sequence[Sequence[str]], what: str = "") -> tuple[list[list[str]], int]:
    """Sentences cut to :data:`MAX_WORDS` words of at most :data:`MAX_WORD_CHARS` characters,
    and how many sentences were cut (logged), so one huge line cannot stall the tokenizer.

    >>> clip_sentences([["a"], ["b"] * 600])[1]
    1
    """
    out, n = [], 0
    for sent in sents:
        clipped = [w[:MAX_WORD_CHARS] for w in sent[:MAX_WORDS]]
        if len(sent) > MAX_WORDS or any(len(w) > MAX_WORD_CHARS for w in sent):
            n += 1
        out.append(clipped)
    if n:
        log.warning("%s%d sentence(s) longer than %d words or with words over %d characters were cut "
                    "before aligning (words past the cut get no links)",
                    f"{what}: " if what else "", n, MAX_WORDS, MAX_WORD_CHARS)
    return out, n


def read_pair_files(src: str | os.PathLike, tgt: str | os.PathLike) -> tuple[list[list[str]], list[list[str]]]:
    """Read two line-aligned files.

    Raises:
        InputError: the files have different numbers of lines (naming both counts).
    """
    s, t = read_tokenized(src), read_tokenized(tgt)
    if len(s) != len(t):
        raise InputError(f"line-count mismatch: {src} has {len(s)} lines, {tgt} has {len(t)}", source=str(src))
    return s, t


def run_aligner(aligner, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], progress: bool = False) -> list[list[Link]]:
    """Align all pairs with an aligner (loaded on first use; the caller closes it), in chunks (eflomal: all at once, since its
    statistics come from the whole text), with a tqdm progress bar if asked."""
    from tqdm.auto import tqdm

    if len(src) != len(tgt):
        raise InputError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    chunk = (len(src) or 1) if getattr(aligner, "name", "") == "eflomal" else CHUNK
    src, _ = clip_sentences(src, "source")
    tgt, _ = clip_sentences(tgt, "target")
    out: list[list[Link]] = []
    with tqdm(total=len(src), unit="pair", disable=not progress, desc="align") as bar:
        for start in range(0, len(src), chunk):
            out.extend(aligner.align_batch(src[start : start + chunk], tgt[start : start + chunk]))
            bar.update(min(chunk, len(src) - start))
    return out


def _cache_key(name: str, model: str, layer: int, opts: dict, src, tgt) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([name, model, layer, sorted(opts.items())], default=str).encode())
    for sent in list(src) + list(tgt):
        h.update(("\u241f".join(sent) + "\n").encode())
    return h.hexdigest()[:20]


def align_corpus(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    aligner: str = "simalign-itermax",
    model: str = "e5-small",
    layer: int = 8,
    *,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = False,
    **opts,
) -> list[list[Link]]:
    """Links for every sentence pair, computed once and cached (Pharaoh with scores) if
    ``cache_dir`` is given. The cache key covers aligner, model, layer, options and the text.

    Args:
        src, tgt: sentences as word lists (same number of sentences).
        aligner, model, layer, **opts: as :func:`nerxl_data.align.get_aligner`.
        cache_dir: a folder for ``<aligner>-<key>.links`` files (e.g. ``/tmp/nerxl-links``).
        progress: show a tqdm progress bar.
    """
    from . import get_aligner

    if len(src) != len(tgt):
        raise InputError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    path = None
    if cache_dir is not None:
        key = _cache_key(aligner, model if aligner != "eflomal" else "", layer, opts, src, tgt)
        path = Path(cache_dir) / f"{aligner}-{key}.links"
        if path.is_file():
            rows = path.read_text(encoding="utf-8").splitlines()
            if len(rows) == len(src):
                log.info("links from cache %s", path)
                return [
                    parse_links(r, len(s), len(t), source=str(path), lineno=i + 1)
                    for i, (r, s, t) in enumerate(zip(rows, src, tgt, strict=True))
                ]
    kwargs = {} if aligner == "eflomal" else {"model": model, "layer": layer}
    with get_aligner(aligner, **kwargs, **opts) as al:
        links = run_aligner(al, src, tgt, progress=progress)
    if path is not None:  # temp file + rename; temp files of killed runs are removed first
        from ..paths import write_text_atomic

        write_text_atomic(path, "".join(format_links(x, scores=True) + "\n" for x in links))
    return links
