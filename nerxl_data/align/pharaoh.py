"""Pharaoh link format (``0-0 1-2 2-1``), the format awesome-align, SimAlign and eflomal use.

Scores, when present, are written as ``i-j:score`` only if asked; plain Pharaoh has none.
The parser is strict: indices are plain decimal digits (``1_0-0`` is not index 10), scores are
finite numbers (no ``nan``/``inf``), and a pair appears at most once per line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from ..errors import InputError, excerpt
from ..schema import Link

_LINK = re.compile(r"([0-9]+)-([0-9]+)(?::(.*))?", re.ASCII)
_SCORE = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_NOT_FINITE = re.compile(r"[-+]?(?:nan|inf|infinity)", re.IGNORECASE)


def format_links(links: Iterable[Link], scores: bool = False) -> str:
    """``[Link(0, 1, 0.9)]`` -> ``"0-1"`` (or ``"0-1:0.9000"`` with ``scores``)."""
    if scores:
        return " ".join(f"{link.src}-{link.tgt}:{link.score:.4f}" for link in sorted(links))
    return " ".join(f"{link.src}-{link.tgt}" for link in sorted(links))


def parse_links(
    line: str,
    n_src: int | None = None,
    n_tgt: int | None = None,
    *,
    source: str | None = None,
    lineno: int | None = None,
) -> list[Link]:
    """Parse one Pharaoh line; with ``n_src``/``n_tgt`` check indices fall inside the sentences.

    >>> parse_links("0-1 2-0:0.5")
    [Link(src=0, tgt=1, score=1.0), Link(src=2, tgt=0, score=0.5)]

    Raises:
        InputError: a malformed pair (also ``1_0-0``), a score that is not a finite number, a
            pair given twice, or an index outside either sentence (naming the line).
    """
    links = []
    seen: set[tuple[int, int]] = set()
    for item in line.split():
        m = _LINK.fullmatch(item)
        if m is None:
            raise InputError(f"malformed link {excerpt(item, 40)} (expected i-j or i-j:score)",
                             source=source, line=lineno)
        text = m.group(3)
        if text is not None and not _SCORE.fullmatch(text) and not _NOT_FINITE.fullmatch(text):
            raise InputError(f"malformed link {excerpt(item, 40)} (expected i-j or i-j:score)",
                             source=source, line=lineno)
        score = float(text) if text is not None else 1.0
        if not math.isfinite(score):
            raise InputError(f"link {excerpt(item, 40)} has a score that is not a finite number",
                             source=source, line=lineno)
        link = Link(int(m.group(1)), int(m.group(2)), score)
        if (link.src, link.tgt) in seen:
            raise InputError(f"link {link.src}-{link.tgt} appears twice", source=source, line=lineno)
        seen.add((link.src, link.tgt))
        if link.src < 0 or link.tgt < 0 or (n_src is not None and link.src >= n_src) or (
            n_tgt is not None and link.tgt >= n_tgt
        ):
            raise InputError(
                f"link {excerpt(item, 40)} points outside the sentences ({n_src} source, {n_tgt} target words)",
                source=source,
                line=lineno,
            )
        links.append(link)
    return links


def read_link_lines(path: str) -> list[str]:
    """The lines of a Pharaoh file (any line ending, gzip/bz2/xz; UTF-8 checked, naming the line)."""
    from ..corpora._io import read_text

    return read_text(path)


def read_links(path: str) -> Iterator[list[Link]]:
    """Yield the links of each line of a Pharaoh file (no bounds check; see :func:`parse_links`)."""
    for lineno, line in enumerate(read_link_lines(path), 1):
        yield parse_links(line, source=str(path), lineno=lineno)


def write_links(path: str, batches: Iterable[Iterable[Link]], scores: bool = False) -> int:
    """Write one Pharaoh line per sentence (to a temp file renamed at the end); returns the
    number of lines."""
    from ..paths import atomic_write

    n = 0
    with atomic_write(path) as f:
        for links in batches:
            f.write(format_links(links, scores) + "\n")
            n += 1
    return n
