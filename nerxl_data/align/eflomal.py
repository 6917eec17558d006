"""eflomal: a statistical (Bayesian HMM + fertility) word aligner, no model weights.

``eflomal`` (Östling & Tiedemann 2016) is **GPL-3.0** licensed: it is an optional extra
(``pip install 'nerxl-data[eflomal]'``), imported only when this aligner is used, and never
bundled. The aligner trains on the pairs being aligned plus any extra parallel text you give
(e.g. LAFAND-MT, or the rest of a corpus): statistical alignment gets better with more text.

>>> with get_aligner("eflomal", symmetrize="intersection") as al:       # doctest: +SKIP
...     al.align_batch([["the", "house"]], [["das", "Haus"]])
[[Link(src=0, tgt=0, score=1.0), Link(src=1, tgt=1, score=1.0)]]
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError, require, unknown_name
from ..schema import Link
from .pharaoh import parse_links
from .symmetrize import SYMMETRIZATIONS, symmetrize

log = logging.getLogger(__name__)


@dataclass
class EflomalConfig:
    """Options of :class:`EflomalAligner`.

    Args:
        symmetrize: ``forward``, ``reverse``, ``intersection``, ``union``, ``grow-diag-final``
            (default) or ``grow-diag-final-and``.
        extra_src, extra_tgt: extra parallel text (files, one sentence a line, split on
            whitespace; both or neither), aligned together with each batch to improve the
            statistics, e.g. LAFAND-MT ``train.en`` / ``train.hau``.
        extra_limit: use at most this many extra lines (None: all).
        model: 1 = IBM1, 2 = HMM, 3 = HMM + fertility (eflomal's default).
        n_samplers: independent samplers (eflomal's default 3).
        rel_iterations: number of iterations relative to eflomal's default.
    """

    symmetrize: str = "grow-diag-final"
    extra_src: str | None = None
    extra_tgt: str | None = None
    extra_limit: int | None = None
    model: int = 3
    n_samplers: int = 3
    rel_iterations: float = 1.0

    def __post_init__(self) -> None:
        if self.symmetrize not in SYMMETRIZATIONS:
            raise unknown_name("symmetrization", self.symmetrize, SYMMETRIZATIONS)
        if (self.extra_src is None) != (self.extra_tgt is None):
            raise ConfigError("extra parallel text needs both extra_src and extra_tgt")
        if self.model not in (1, 2, 3):
            raise ConfigError(f"eflomal model must be 1, 2 or 3, got {self.model}")


def read_extra_text(src_path: str, tgt_path: str, limit: int | None = None) -> tuple[list[str], list[str]]:
    """The extra parallel text as eflomal lines, read by the aligners' one pair reader
    (:func:`~nerxl_data.corpora.parallel.read_pair_files`: gzip, any line ending, a BOM, the line
    of a bad byte named).

    Raises:
        InputError: the files have different numbers of lines (naming both counts).
    """
    from ..corpora.parallel import read_pair_files

    src, tgt = read_pair_files(src_path, tgt_path)
    src, tgt = (src[:limit], tgt[:limit]) if limit is not None else (src, tgt)
    return [_line(s) for s in src], [_line(t) for t in tgt]


_SPACE = re.compile(r"\s+")


def _line(words: Sequence[str]) -> str:
    # eflomal reads whitespace-separated lines: a word with inner spaces (or an empty word) would
    # shift every later index, so it is kept as one token
    return " ".join(_SPACE.sub("_", w) or "_" for w in words)


class EflomalAligner:
    """eflomal behind the common interface: ``align_batch(src_words, tgt_words)``.

    Link scores are 1.0 (eflomal scores sentences, not links). A context manager only for
    symmetry with the neural aligners (it reads the extra parallel text on enter).
    """

    name = "eflomal"

    def __init__(self, config: EflomalConfig | None = None) -> None:
        self.config = config or EflomalConfig()
        self._extra: tuple[list[str], list[str]] | None = None

    def __enter__(self) -> EflomalAligner:
        self.load()
        return self

    def __exit__(self, *exc) -> None:
        self._extra = None

    def load(self) -> None:
        require("eflomal", "eflomal", "the eflomal aligner")
        c = self.config
        if self._extra is None:
            self._extra = read_extra_text(c.extra_src, c.extra_tgt, c.extra_limit) if c.extra_src else ([], [])

    def align_directions(
        self, src_words: Sequence[Sequence[str]], tgt_words: Sequence[Sequence[str]]
    ) -> tuple[list[list[Link]], list[list[Link]]]:
        """Forward and reverse links (both as source-target pairs) for each sentence pair."""
        if len(src_words) != len(tgt_words):
            raise ConfigError(f"{len(src_words)} source sentences but {len(tgt_words)} target sentences")
        self.load()
        eflomal = require("eflomal", "eflomal", "the eflomal aligner")
        n = len(src_words)
        if n == 0:
            return [], []
        extra_src, extra_tgt = self._extra
        src_lines = [_line(s) for s in src_words] + extra_src
        tgt_lines = [_line(t) for t in tgt_words] + extra_tgt
        c = self.config
        aligner = eflomal.Aligner(model=c.model, n_samplers=c.n_samplers, rel_iterations=c.rel_iterations)
        with tempfile.TemporaryDirectory(prefix="nerxl-eflomal-") as tmp:
            fwd_path, rev_path = os.path.join(tmp, "fwd"), os.path.join(tmp, "rev")
            aligner.align(src_lines, tgt_lines, links_filename_fwd=fwd_path, links_filename_rev=rev_path, quiet=True)
            out = []
            for path in (fwd_path, rev_path):
                with open(path, encoding="utf-8") as f:
                    rows = f.read().splitlines()[:n]
                rows += [""] * (n - len(rows))
                out.append([
                    parse_links(row, len(s), len(t), source=path, lineno=k + 1)
                    for k, (row, s, t) in enumerate(zip(rows, src_words, tgt_words, strict=True))
                ])
        return out[0], out[1]

    def align_batch(self, src_words: Sequence[Sequence[str]], tgt_words: Sequence[Sequence[str]]) -> list[list[Link]]:
        """Symmetrised links (``config.symmetrize``) for each sentence pair."""
        fwd, rev = self.align_directions(src_words, tgt_words)
        method = self.config.symmetrize
        return [
            [Link(i, j) for i, j in sorted(symmetrize(((x.src, x.tgt) for x in f), ((x.src, x.tgt) for x in r), method))]
            for f, r in zip(fwd, rev, strict=True)
        ]
