"""Aligning whole corpora and files: chunked, with a progress bar and an optional on-disk cache.

>>> links = align_corpus(src_sents, tgt_sents, "simalign-itermax", cache_dir="/tmp/nerxl-steps")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import InputError
from ..schema import Link
from .aligners import ALIGNERS

log = logging.getLogger(__name__)

CHUNK = 512  # sentence pairs handed to a neural aligner at a time (it sorts/batches inside)
MAX_WORDS = 1000
"""Words of a sentence the aligners see; the rest of a longer sentence gets no links (counted).
The longest real sentence in the shared corpora has 807 words (a LAFAND line)."""
MAX_WORD_CHARS = 100
"""Characters of a word the tokenizer sees (a longer "word" is cut; its index is unchanged)."""


def clip_sentences(sents: Sequence[Sequence[str]], what: str = "") -> tuple[list[list[str]], int]:
    """Sentences cut to :data:`MAX_WORDS` words of at most :data:`MAX_WORD_CHARS` characters,
    and how many sentences were cut (logged), so one huge line cannot stall the tokenizer.

    >>> clip_sentences([["a"], ["b"] * 1200])[1]
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


def run_aligner(aligner, src: Sequence[Sequence[str]], tgt: Sequence[Sequence[str]], progress: bool = False) -> list[list[Link]]:
    """Align all pairs with an aligner (loaded on first use; the caller closes it), in chunks (a ``whole_corpus`` aligner such as
    eflomal: all at once, since its statistics come from the whole text), with a tqdm progress bar if asked."""
    from tqdm.auto import tqdm

    if len(src) != len(tgt):
        raise InputError(f"{len(src)} source sentences but {len(tgt)} target sentences")
    chunk = (len(src) or 1) if ALIGNERS.get(aligner.name).whole_corpus else CHUNK
    src, _ = clip_sentences(src, "source")
    tgt, _ = clip_sentences(tgt, "target")
    out: list[list[Link]] = []
    with tqdm(total=len(src), unit="pair", disable=not progress, desc="align") as bar:
        for start in range(0, len(src), chunk):
            out.extend(aligner.align_batch(src[start : start + chunk], tgt[start : start + chunk]))
            bar.update(min(chunk, len(src) - start))
    return out

