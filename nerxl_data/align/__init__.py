"""Word alignment: one interface, several aligners.

>>> from nerxl_data.align import get_aligner
>>> with get_aligner("simalign-itermax", model="e5-small") as aligner:    # doctest: +SKIP
...     links = aligner.align_batch([["Hello", "world"]], [["Hallo", "Welt"]])

Every aligner is a context manager (loads / frees its model) with
``align_batch(src_words, tgt_words) -> list[list[Link]]``. Names (see :data:`ALIGNERS`):
``awesome``, ``simalign-argmax``, ``simalign-itermax``, ``simalign-match``, ``eflomal``.
Links print in Pharaoh format with :mod:`nerxl_data.align.pharaoh`.
"""

from __future__ import annotations

from ..corpora.parallel import read_pair_files
from ..schema import Link
from .aligners import ALIGNERS, AlignerSpec, get_aligner, model_options
from .corpus import run_aligner
from .pharaoh import format_links, parse_links, read_links, write_links

__all__ = [
    "ALIGNERS",
    "AlignerSpec",
    "Link",
    "format_links",
    "get_aligner",
    "model_options",
    "parse_links",
    "read_links",
    "read_pair_files",
    "run_aligner",
    "write_links",
]
