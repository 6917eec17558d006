"""Low-level text input shared by the readers: path checks and line decoding with a reported
Latin-1 fallback.

Lines are read as bytes and decoded one at a time, so a file is streamed (memory does not grow
with its size) and a bad byte is reported with its line number rather than as an offset into a
decoded buffer.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
    return path


def read_lines(
    path: Path, report: ReadReport, fallback: str | None = "latin-1"
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` (1-based, newline stripped), decoding UTF-8 line by line.

    A line that is not valid UTF-8 is decoded with ``fallback`` and counted in ``report``; with
    ``fallback=None`` it raises.

    Raises:
        InputError: undecodable bytes and no fallback, naming the line and byte.
    """
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if fallback is None:
                    raise InputError(
                        f"byte {raw[exc.start]:#04x} at column {exc.start + 1} is not valid UTF-8 "
                        "(pass an encoding fallback such as latin-1 to read it anyway)",
                        source=str(path), line=lineno,
                    ) from None
                text = raw.decode(fallback)
                report.fallback_lines += 1
                if report.first_fallback_line is None:
                    report.first_fallback_line = lineno
            yield lineno, text.rstrip("\r\n")


def count_lines(path: Path) -> int:
    """Number of lines in ``path`` (a last line without newline counts), in constant memory."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")
