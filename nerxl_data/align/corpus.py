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


def read_tokenized(path: str | os.PathLike) -> list[list[str]]:
    """One whitespace-tokenised sentence a line (an empty line is an empty sentence)."""
    with open(path, encoding="utf-8") as f:
        return [line.split() for line in f]


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
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text("".join(format_links(x, scores=True) + "\n" for x in links), encoding="utf-8")
        tmp.replace(path)
    return links
