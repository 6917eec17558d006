"""Low-level text input shared by the readers: path checks and line decoding with a reported
Latin-1 fallback.

Lines are read as bytes and decoded one at a time, so a file is streamed (memory does not grow
with its size) and a bad byte is reported with its line number rather than as an offset into a
decoded buffer. A line ends at ``\n``, ``\r\n`` or a lone ``\r`` (old Mac files are not read
as one line). gzip, bz2 and xz files are decompressed transparently, recognised by their magic
bytes whatever their name.
"""

from __future__ import annotations

import bz2
import gzip
import json
import logging
import lzma
import os
import stat
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from ..schema import TagRepairs

logger = logging.getLogger(__name__)


@dataclass
class ReadReport:
    """What a reader did besides yielding records: filled in while the reader runs.

    Pass one to a reader to inspect it afterwards; the reader also logs a warning when something
    was repaired, skipped or decoded with the fallback encoding.
    """

    sentences: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    repairs: TagRepairs = field(default_factory=TagRepairs)
    fallback_lines: int = 0
    first_fallback_line: int | None = None

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def mark(self) -> tuple[Counter, int]:
        """Snapshot the counts, so that :meth:`warn` reports one file of a shared report."""
        self.first_fallback_line = None
        return Counter(self.repairs.counts), self.fallback_lines

    def warn(self, source: str, fallback: str | None = None, since: tuple[Counter, int] | None = None) -> None:
        """Log one warning line for everything worth a user's attention (nothing if clean)."""
        repairs, fallback_lines = since or (Counter(), 0)
        new_fallback = self.fallback_lines - fallback_lines
        if new_fallback:
            logger.warning(
                "%s: %d line(s) are not valid UTF-8 (first: line %s); decoded them as %s",
                source, new_fallback, self.first_fallback_line, fallback,
            )
        new_repairs = TagRepairs(self.repairs.counts - repairs)
        if new_repairs:
            logger.warning("%s: repaired tags: %s", source, new_repairs.summary())


def check_file(path: str | Path) -> Path:
    """``path`` as a :class:`Path` if it is a readable file, else an :class:`InputError`."""
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory, expected a file", source=str(path))
    if not path.exists():
        raise InputError("no such file", source=str(path))
    if not os.access(path, os.R_OK):
        raise InputError("permission denied: the file is not readable", source=str(path))
    mode = path.stat().st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):  # /dev/zero never ends
        raise InputError("is a device or socket, not a file: give a file, or a pipe (read once, "
                         "as a stream)", source=str(path))
    return path


def is_regular(path: str | Path) -> bool:
    """Whether ``path`` is a regular file (not a pipe or process substitution, which can be read
    only once, as a stream)."""
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except OSError:
        return False


def check_seekable(path: str | Path, reader: str) -> Path:
    """``path`` (checked by :func:`check_file`) if it is a regular file; a pipe is refused with
    a clear line for readers that need to read it twice or seek in it."""
    path = check_file(path)
    if not is_regular(path):
        raise InputError(f"is a pipe, not a regular file: {reader} needs to read it more than once; "
                         "save it to a file first", source=str(path))
    return path


def _is_bz2(head: bytes) -> bool:  # "BZh" + block size 1-9 + the block magic (a token "BZh" is text)
    return head[:3] == b"BZh" and head[3:4].isdigit() and head[3:4] != b"0" and head[4:10] == b"1AY&SY"


_MAGIC = ((lambda h: h.startswith(b"\x1f\x8b"), gzip.open, "gzip"), (_is_bz2, bz2.open, "bz2"),
          (lambda h: h.startswith(b"\xfd7zXZ\x00"), lzma.open, "xz"))


def _kind(head: bytes) -> str | None:
    return next((name for test, _, name in _MAGIC if test(head)), None)


def compression(path: str | Path) -> str | None:
    """``"gzip"``, ``"bz2"`` or ``"xz"`` when the file starts with that format's magic bytes."""
    with open(path, "rb") as f:
        return _kind(f.read(10))


def open_binary(path: str | Path) -> BinaryIO:
    """Open ``path`` for reading bytes, decompressing gzip/bz2/xz (by magic bytes).

    The file is opened once and its first bytes peeked at, so a named pipe or a process
    substitution is read whole, as a stream (opening it twice would lose what the first open
    buffered, or block)."""
    f = open(path, "rb")  # noqa: SIM115 - returned open
    try:
        kind = _kind(f.peek(10)[:10])
    except BaseException:
        f.close()
        raise
    opener = next((o for _, o, name in _MAGIC if name == kind), None)
    if opener is None:
        return f
    stream = opener(f, "rb")
    close = stream.close

    def close_both() -> None:
        try:
            close()
        finally:
            f.close()

    stream.close = close_both  # type: ignore[method-assign]
    return stream


COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")


def format_suffix(path: str | Path) -> str:
    """The lower-case suffix that names a file's format, under a compression suffix (such files
    are decompressed wherever they are read).

    >>> format_suffix("de.conll.gz"), format_suffix("x/De.CONLL"), format_suffix("a.txt.xz"), format_suffix("gz")
    ('.conll', '.conll', '.txt', '')
    """
    name = Path(path).name.lower()
    for ext in COMPRESSED_SUFFIXES:
        if name.endswith(ext) and len(name) > len(ext):
            name = name[: -len(ext)]
            break
    return Path(name).suffix


FORMATS = {"parquet": "parquet", "jsonl": "JSON lines"}
"""Formats a line reader recognises from a file's first line, to refuse them where another
format is expected (they would be parsed as columns or text)."""


def other_format(raw: bytes) -> str | None:
    """``"parquet"`` or ``"jsonl"`` when ``raw``, a file's first non-blank line, shows the file
    is one (parquet's magic bytes ``PAR1`` with binary data; a JSON object), else ``None``.

    >>> other_format(b'{"tokens": ["a"], "ner_tags": ["O"]}'), other_format(b"{ O"), other_format(b"PAR1 O")
    ('jsonl', None, None)
    """
    if raw.startswith(b"PAR1") and b"\x00" in raw:
        return "parquet"
    text = raw.strip()
    if text.startswith(b"{") and text.endswith(b"}"):
        try:
            if isinstance(json.loads(text), dict):
                return "jsonl"
        except ValueError:
            pass
    return None


MAX_LINE_BYTES = 64 << 20
"""The longest line a reader accepts (bytes): a file without line breaks is not read whole."""


def iter_raw_lines(path: str | Path, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The lines of ``path`` as bytes without their ending (``\n``, ``\r\n`` or ``\r``).

    A final line without an ending is yielded too; an empty file yields nothing.

    Raises:
        InputError: a compressed file that is corrupt or truncated.
    """
    pending = b""
    try:
        with open_binary(path) as f:
            while chunk := f.read(chunk_size):
                data = pending + chunk
                # a \r at the end of a chunk may be the first half of \r\n: keep it for the next
                cut = len(data) - 1 if data.endswith(b"\r") else len(data)
                body, pending = data[:cut], data[cut:]
                parts = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
                pending = parts.pop() + pending
                if len(pending) > MAX_LINE_BYTES:
                    raise InputError(f"a line longer than {MAX_LINE_BYTES >> 20} MiB: not a text corpus",
                                     source=str(path))
                yield from parts
    except (EOFError, OSError, lzma.LZMAError) as exc:
        if isinstance(exc, OSError) and exc.errno is not None:
            raise
        raise InputError(f"corrupt or truncated compressed file ({exc})", source=str(path)) from None
    if pending.endswith(b"\r"):
        pending = pending[:-1]
        yield pending
    elif pending:
        yield pending


def nfc(text: str) -> str:
    """``text`` in Unicode NFC: the same word typed on two systems can differ in code points
    (``ü`` as one, or ``u`` and a combining diaeresis, NFD) and look the same. Used where text of
    two files is matched (never to change the data written).

    >>> nfc("Mu\u0308ller") == "M\u00fcller"
    True
    """
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def bad_token(token: object) -> str | None:
    """Why ``token`` cannot be a token (empty, whitespace or a NUL byte inside), or ``None``.

    >>> bad_token("New York"), bad_token("ok"), bad_token("a\\x00b".encode().decode("unicode_escape"))
    ('contains whitespace', None, 'contains a NUL byte')
    """
    if not isinstance(token, str) or not token:
        return "is empty"
    if "\x00" in token:
        return "contains a NUL byte"
    if any(c.isspace() for c in token):
        return "contains whitespace"
    return None


def read_lines(
    path: Path, report: ReadReport, fallback: str | None = "latin-1", *, expect: str | None = None,
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` (1-based, newline stripped), decoding UTF-8 line by line.

    A line that is not valid UTF-8 is decoded with ``fallback`` and counted in ``report``; with
    ``fallback=None`` it raises. ``expect`` names the format the caller reads (``"CoNLL
    columns"``): a parquet or JSON lines file (:func:`other_format`) is then refused rather than
    parsed as that format.

    Raises:
        InputError: undecodable bytes and no fallback, naming the line and byte; a file of
            another format than ``expect``, naming it.
    """
    sniff = expect is not None
    for lineno, raw in enumerate(iter_raw_lines(path), 1):
        if raw.startswith(b"\xef\xbb\xbf"):  # also mid-file: files concatenated with cat
            raw = raw[3:]
        if sniff and raw.strip():
            sniff = False
            kind = other_format(raw)
            if kind is not None and FORMATS[kind] != expect:
                shown = f"line {lineno} is a JSON object" if kind == "jsonl" else "it starts with parquet's magic bytes"
                raise InputError(f"is a {FORMATS[kind]} file ({shown}), not {expect} (commands that read any "
                                 f"format, such as nerxl stats, take it named *.{kind})", source=str(path))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if fallback is None:
                raise InputError(
                    f"byte {raw[exc.start]:#04x} at column {exc.start + 1} is not valid UTF-8 "
                    "(convert the file to UTF-8)",
                    source=str(path), line=lineno,
                ) from None
            text = raw.decode(fallback)
            report.fallback_lines += 1
            if report.first_fallback_line is None:
                report.first_fallback_line = lineno
        yield lineno, text


def read_text(path: str | Path, expect: str | None = "text (one sentence a line)") -> list[str]:
    """All lines of a UTF-8 text file (any line ending, gzip/bz2/xz transparently).

    Raises:
        InputError: a missing or unreadable file, a directory, bytes that are not UTF-8
            (naming the line and column), or a parquet or JSON lines file (see :func:`read_lines`).
    """
    path = check_file(path)
    return [text for _, text in read_lines(path, ReadReport(), fallback=None, expect=expect)]


def count_lines(path: Path) -> int:
    """Number of lines in ``path`` (a last line without an ending counts), in constant memory."""
    return sum(1 for _ in iter_raw_lines(path))
