"""Translate files: plain text (one sentence a line) or CoNLL with mark-then-translate.

The functions take a built :class:`~.base.Translator`; the CLI only parses arguments. Input is
translated in chunks so that the cache commits, and the progress bar moves, as it goes; the
output is written to a temporary file and renamed at the end, so it is never half-written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from .base import Translator, word_tokenize
from .easyproject import extract_marked, translate_marked

CHUNK = 1024  # sentences per translate_batch call (cache lookups, progress)


def _write_atomic(path: str | Path, lines: list[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    os.replace(tmp, path)


def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (blank lines kept: they translate to blank lines).

    Raises:
        InputError: a missing file, a directory, or bytes that are not UTF-8 (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", source=str(path))
    lines = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                lines.append(raw.decode("utf-8").rstrip("\r\n"))
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 ({exc.reason})", source=str(path), line=lineno
                ) from exc
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
    lines = read_text_lines(in_path)
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
    from ..schema import tags_to_spans

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
