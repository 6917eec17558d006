"""One registry idiom: readable names -> entries, and an error that lists the known names.

Every named kind of thing (corpora, builder families, translator backends, aligners,
projection methods) is a :class:`Registry`: a read-only mapping, so ``name in REG``,
``sorted(REG)`` and ``REG[name]`` work as on a dict, plus :meth:`Registry.get` whose error
reads like spaCy's ("Unknown aligner 'fastalign'. Known: ..."). An entry may be given lazily
as ``"module:attribute"`` (relative to the registry's package) so that heavy modules are only
imported when their entry is used (:meth:`Registry.load`), or as a frozen spec dataclass that
says what the named thing can do and names its classes the same way (:func:`load_target`), so
callers ask capabilities, never names.

>>> COLOURS = Registry("colour", {"red": 1, "green": 2})
>>> COLOURS.get("red"), "blue" in COLOURS
(1, False)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from .errors import unknown_name

T = TypeVar("T")


class Registry(Mapping, Generic[T]):
    """Names of one ``kind`` -> entries (see the module docstring)."""

    def __init__(self, kind: str, entries: Mapping[str, T], package: str | None = None) -> None:
        self.kind = kind
        self._entries = dict(entries)
        self._package = package

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> T:  # type: ignore[override]
        """The entry of ``name``.

        Raises:
            ConfigError: an unknown name, listing the known ones (and the closest).
        """
        try:
            return self._entries[name]
        except KeyError:
            raise unknown_name(self.kind, name, self._entries) from None

    def load(self, name: str) -> Any:
        """Import a lazy ``"module:attribute"`` entry."""
        return load_target(str(self.get(name)), self._package)


def load_target(target: str, package: str | None = None) -> Any:
    """Import ``"module:attribute"`` (the module relative to ``package`` when given): the lazy
    entries of a registry, or the ``"module:Class"`` fields of a spec entry (an aligner's
    factory and config)."""
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module if package is None else f"{package}.{module}"), attr)
