"""Line-aligned parallel text: line i of the source file translates line i of the target file.

:func:`read_parallel_text` reads a corpus (LAFAND-MT style: untokenised sentences; a pair with
a blank side is skipped and counted); :func:`read_pair_files` reads aligner input (one
whitespace-tokenised sentence a line, every line kept, so output line i answers input line i).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

from ..errors import InputError
from ._io import ReadReport, check_seekable, count_lines, read_lines, read_text

TEXT = "text (one sentence a line)"


class SentencePair(TypedDict):
    """One parallel sentence pair."""

    id: str
    src: str
    tgt: str


def read_parallel_text(
    src_path: str | Path,
    tgt_path: str | Path,
    *,
    encoding_fallback: str | None = "latin-1",
    report: ReadReport | None = None,
) -> Iterator[SentencePair]:
    """Stream sentence pairs from two line-aligned files.

    Both files are counted before the first pair is yielded (a cheap byte scan), so a
    mismatch raises before any pair is used. Pairs where either side is blank are skipped and
    counted in ``report.skipped``.

    Raises:
        InputError: the files have different line counts (naming both), or either is empty,
            missing or a directory.
    """
    src_path, tgt_path = (check_seekable(p, "parallel text (counted, then read)") for p in (src_path, tgt_path))
    report = report if report is not None else ReadReport()
    mark = report.mark()
    n_src, n_tgt = count_lines(src_path), count_lines(tgt_path)
    if n_src != n_tgt:
        raise InputError(
            f"line count mismatch: {src_path} has {n_src} lines but {tgt_path} has {n_tgt}",
            source=str(src_path),
        )
    if n_src == 0:
        raise InputError(f"empty file (and {tgt_path} too)", source=str(src_path))
    tgt_report = ReadReport()
    for (lineno, src), (_, tgt) in zip(
        read_lines(src_path, report, encoding_fallback, expect=TEXT),
        read_lines(tgt_path, tgt_report, encoding_fallback, expect=TEXT),
        strict=True,
    ):
        if not src.strip() or not tgt.strip():
            report.skip("blank line on one or both sides")
            continue
        report.sentences += 1
        yield {"id": str(lineno - 1), "src": src.strip(), "tgt": tgt.strip()}
    report.warn(str(src_path), encoding_fallback, since=mark)
    tgt_report.warn(str(tgt_path), encoding_fallback)
    if report.skipped:
        import logging

        logging.getLogger(__name__).warning(
            "%s / %s: skipped %s", src_path, tgt_path,
            ", ".join(f"{n} {why}" for why, n in report.skipped.items()),
        )


def read_tokenized(path: str | os.PathLike) -> list[list[str]]:
    """One whitespace-tokenised sentence a line (an empty line is an empty sentence).

    Any line ending (``\n``, ``\r\n``, ``\r``); gzip/bz2/xz decompressed.

    Raises:
        InputError: a missing or unreadable file, or bytes that are not UTF-8 (naming the line).
    """
    return [line.split() for line in read_text(path)]


def read_pair_files(src: str | os.PathLike, tgt: str | os.PathLike) -> tuple[list[list[str]], list[list[str]]]:
    """Read two line-aligned files.

    Raises:
        InputError: the files have different numbers of lines (naming both counts).
    """
    s, t = read_tokenized(src), read_tokenized(tgt)
    if len(s) != len(t):
        raise InputError(f"line-count mismatch: {src} has {len(s)} lines, {tgt} has {len(t)}", source=str(src))
    return s, t
