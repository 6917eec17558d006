"""Pharaoh link format (``0-0 1-2 2-1``), the format awesome-align, SimAlign and eflomal use.

Scores, when present, are written as ``i-j:score`` only if asked; plain Pharaoh has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import InputError
from ..schema import Link


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
        InputError: a malformed pair, or an index outside either sentence (naming the line).
    """
    links = []
    for item in line.split():
        pair, _, score = item.partition(":")
        i, sep, j = pair.partition("-")
        try:
            if not sep:
                raise ValueError
            link = Link(int(i), int(j), float(score) if score else 1.0)
        except ValueError:
            raise InputError(f"malformed link {item!r} (expected i-j or i-j:score)", source=source, line=lineno) from None
        if link.src < 0 or link.tgt < 0 or (n_src is not None and link.src >= n_src) or (
            n_tgt is not None and link.tgt >= n_tgt
        ):
            raise InputError(
                f"link {item!r} points outside the sentences ({n_src} source, {n_tgt} target words)",
                source=source,
                line=lineno,
            )
        links.append(link)
    return links


def read_links(path: str) -> Iterator[list[Link]]:
    """Yield the links of each line of a Pharaoh file (no bounds check; see :func:`parse_links`)."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            yield parse_links(line, source=path, lineno=lineno)


def write_links(path: str, batches: Iterable[Iterable[Link]], scores: bool = False) -> int:
    """Write one Pharaoh line per sentence; returns the number of lines."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for links in batches:
            f.write(format_links(links, scores) + "\n")
            n += 1
    return n
