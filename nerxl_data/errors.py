"""User-facing errors, in one place.

Every error the toolkit raises on bad input is a :class:`NerxlError` (or a subclass). It carries
*where* the problem is (file and line, or dataset row) and *what* is wrong, so the CLI can print
one clear line and exit with status 2 instead of a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NerxlError(Exception):
    """Base class of all user-facing errors.

    Args:
        message: what is wrong, in one sentence.
        source: the file, dataset or corpus the problem is in (optional).
        line: 1-based line number in ``source`` (optional).
        row: 0-based row (sentence) index in ``source`` (optional).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        row: int | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.row = row
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InputError(NerxlError):
    """Malformed input data (a corpus file, a links file, a dataset)."""


class TagError(InputError):
    """An invalid tag sequence under the ``strict`` policy, or an unknown tag."""


class ConfigError(NerxlError):
    """An unknown name (aligner, method, corpus, language, ...) or an invalid option."""


class MissingDependencyError(NerxlError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'nerxl-data[{extra}]'"
        )


def unknown_name(kind: str, name: str, known: Iterable[str]) -> ConfigError:
    """A :class:`ConfigError` for an unknown ``name`` of some ``kind``, listing the known ones.

    >>> str(unknown_name("aligner", "simalign-itrmax", ["awesome", "simalign-itermax"]))
    "Unknown aligner 'simalign-itrmax' (did you mean 'simalign-itermax'?). Known: awesome, simalign-itermax"
    """
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
    return ConfigError(f"Unknown {kind} {name!r}{hint}. Known: {', '.join(known)}")


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or raise :class:`MissingDependencyError` with the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc
