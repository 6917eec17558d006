"""Translate files: plain text (one sentence a line) or CoNLL with mark-then-translate.

The functions take a built :class:`~.base.Translator`; the CLI only parses arguments. Input is
translated in chunks so that the cache commits, and the progress bar moves, as it goes; the
output is written to a temporary file and renamed at the end, so it is never half-written (the
temporary file is removed on failure, and by the next run after a kill).

Lines end at ``\n``, ``\r\n`` or a lone ``\r``; gzip/bz2/xz input is decompressed. A line far
longer than the model can read (:func:`clip_lines`) is cut before tokenising, and counted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from .base import Translator, word_tokenize
from .easyproject import extract_marked, translate_marked

logger = logging.getLogger(__name__)

CHUNK = 1024  # sentences per translate_batch call (cache lookups, progress)
CHARS_PER_TOKEN = 8
"""A line longer than ``CHARS_PER_TOKEN * max_input_tokens`` characters is cut to that length
before tokenising: the model reads only ``max_input_tokens`` tokens of it anyway, and tokenising a
megabyte-long line takes minutes and gigabytes."""


def _write_atomic(path: str | Path, lines: list[str]) -> None:
    from ..paths import atomic_write

    with atomic_write(path) as f:
        for line in lines:
            f.write(line + "\n")


def clip_lines(lines: list[str], limit: int, source: str = "") -> tuple[list[str], int]:
    """``lines`` with each longer than ``limit`` characters cut to ``limit``; and how many were.

    >>> clip_lines(["short", "x" * 10], 6)
    (['short', 'xxxxxx'], 1)
    """
    out, n = [], 0
    for line in lines:
        if len(line) > limit:
            line, n = line[:limit], n + 1
        out.append(line)
    if n:
        logger.warning("%s: %d line(s) longer than %d characters cut to that length before "
                       "translating (the model reads only the start of them)", source, n, limit)
    return out, n


def _char_limit(translator: Translator) -> int:
    tokens = getattr(getattr(translator, "config", None), "max_input_tokens", None) or 512
    return CHARS_PER_TOKEN * int(tokens)


def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (blank lines kept: they translate to blank lines).

    Raises:
        InputError: a missing file, a directory, or bytes that are not UTF-8 (naming the line).
    """
    from ..corpora._io import check_file, iter_raw_lines

    path = Path(path)
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", source=str(path))
    check_file(path)
    lines = []
    for lineno, raw in enumerate(iter_raw_lines(path), 1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InputError(
                f"not UTF-8 ({exc.reason} at column {exc.start + 1}); convert the file to UTF-8",
                source=str(path), line=lineno,
            ) from None
    return lines


def translate_file(
    translator: Translator,
    in_path: str | Path,
    out_path: str | Path,
    src_lang: str,
    tgt_lang: str,
    *,
    tokenize: bool = False,
    progress: Callable[[int], object] | None = None,
    on_start: Callable[[int], object] | None = None,
) -> int:
    """Translate a text file line by line; return the number of lines.

    Args:
        tokenize: write each translation as space-separated words (:func:`word_tokenize`).
        on_start: called with the number of lines before translating (e.g. to size a progress bar).
    """
    from ..paths import check_output

    check_output(out_path)  # a folder as --out fails before the work, not after
    lines, clipped = clip_lines(read_text_lines(in_path), _char_limit(translator), str(in_path))
    if not hasattr(getattr(translator, "config", None), "max_input_tokens"):
        translator.stats.truncated += clipped  # (a model with a token limit counts its own)
    if on_start is not None:
        on_start(len(lines))
    out: list[str] = []
    for i in range(0, len(lines), CHUNK):
        out.extend(
            translator.translate_batch(lines[i : i + CHUNK], src_lang, tgt_lang, progress=progress)
        )
    if tokenize:
        out = [" ".join(word_tokenize(t)) for t in out]
    _write_atomic(out_path, out)
    return len(lines)


def translate_conll_marked(
    translator: Translator,
    in_path: str | Path,
    out_path: str | Path,
    src_lang: str,
    tgt_lang: str,
    *,
    progress: Callable[[int], object] | None = None,
    on_start: Callable[[int], object] | None = None,
) -> int:
    """Mark-then-translate a CoNLL file; write one JSON object per sentence; return the count.

    Each output line: ``id``, ``source`` (marked), ``translation`` (as the model wrote it),
    ``text`` (markers removed), ``marked`` (the target strings between markers), ``entities``
    (source ``text``, ``label`` and ``translation`` of each entity translated alone).
    """
    from ..corpora.conll import read_conll
    from ..paths import check_output
    from ..schema import tags_to_spans

    check_output(out_path)
    examples = list(read_conll(in_path))
    if on_start is not None:
        on_start(len(examples))
    spans = [tags_to_spans(ex["ner_tags"]) for ex in examples]
    rows: list[str] = []
    for i in range(0, len(examples), CHUNK):
        chunk = examples[i : i + CHUNK]
        chunk_spans = spans[i : i + CHUNK]
        results = translate_marked(
            translator,
            [ex["tokens"] for ex in chunk],
            chunk_spans,
            src_lang,
            tgt_lang,
            progress=progress,
        )
        for ex, sp, res in zip(chunk, chunk_spans, results, strict=True):
            text, marked = extract_marked(res.translation)
            entities = [
                {"text": src, "label": s.label, "translation": tr}
                for s, src, tr in zip(
                    sorted(sp), res.entities, res.entity_translations, strict=True
                )
            ]
            row = {
                "id": ex["id"],
                "source": res.source,
                "translation": res.translation,
                "text": text,
                "marked": marked,
                "entities": entities,
            }
            rows.append(json.dumps(row, ensure_ascii=False))
    _write_atomic(out_path, rows)
    return len(examples)
