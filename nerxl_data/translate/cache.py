"""A persistent, resumable translation cache: SQLite in WAL mode.

A key is the SHA-256 of the *namespace* (backend, model, revision, decoding parameters, language
pair, as canonical JSON) and the source text, so changing any of them misses. The translator
commits once per batch: a process killed mid-way (even SIGKILL) keeps every batch it committed,
and a rerun translates only what is missing. ``INSERT OR IGNORE`` keeps one row per key, so a
sentence is stored exactly once however many runs race or restart.

>>> cache = TranslationCache(":memory:", {"model": "m", "src": "eng", "tgt": "deu"})
>>> cache.lookup(["Hello", "Bye"])
{}
>>> cache.store({"Hello": "Hallo"})
>>> cache.lookup(["Hello", "Bye"]), (cache.hits, cache.misses)
({'Hello': 'Hallo'}, (1, 3))
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    namespace TEXT PRIMARY KEY,
    spec TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS translations (
    key TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    created REAL NOT NULL
);
"""
_CHUNK = 500  # SQLite's default limit on host parameters is 999 (older builds)


def default_cache_path() -> Path:
    """The translation cache used when none is named: ``translations.sqlite`` in
    :func:`nerxl_data.paths.cache_root`."""
    from ..paths import cache_root

    return cache_root() / "translations.sqlite"


def namespace_of(spec: Mapping[str, Any]) -> str:
    """A short hash of the namespace ``spec`` (canonical JSON)."""
    text = json.dumps(spec, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class TranslationCache:
    """Translations of one namespace in an SQLite file (or ``":memory:"``).

    Args:
        path: the database file (created with its folders if missing).
        spec: what the translations depend on: backend, model, revision, parameters, languages.

    Attributes:
        hits, misses: lookups answered and not answered, since this object was made.

    Raises:
        InputError: the file exists but is not an SQLite database.
    """

    def __init__(self, path: str | Path, spec: Mapping[str, Any]) -> None:
        self.path = str(path)
        self.spec = dict(spec)
        self.namespace = namespace_of(self.spec)
        self.hits = 0
        self.misses = 0
        if self.path != ":memory:":
            if Path(self.path).is_dir():
                raise InputError("is a directory; give the cache file's name", source=self.path)
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cannot create the cache folder ({exc.strerror or exc}); "
                                 "pass --cache PATH or --no-cache", source=self.path) from None
        try:
            self._db = sqlite3.connect(self.path, timeout=60.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed batch survives a killed process (not a power cut).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            with self._db:
                self._db.execute(
                    "INSERT OR IGNORE INTO namespaces VALUES (?, ?)",
                    (self.namespace, json.dumps(self.spec, sort_keys=True, default=str)),
                )
        except sqlite3.OperationalError as exc:
            raise InputError(f"cannot open the translation cache ({exc}); pass --cache PATH or "
                             "--no-cache", source=self.path) from None
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a translation cache ({exc})", source=self.path) from exc

    def key(self, text: str) -> str:
        return hashlib.sha256(f"{self.namespace}\x00{text}".encode()).hexdigest()

    def lookup(self, texts: Iterable[str]) -> dict[str, str]:
        """Cached translations of ``texts`` (those found), counting hits and misses per text."""
        texts = list(texts)
        found: dict[str, str] = {}
        by_key = {self.key(t): t for t in texts}
        keys = list(by_key)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, target FROM translations WHERE key IN ({marks})", chunk
            )
            for key, target in rows:
                found[by_key[key]] = target
        hits = sum(1 for t in texts if t in found)
        self.hits += hits
        self.misses += len(texts) - hits
        return found

    def store(self, translations: Mapping[str, str]) -> None:
        """Store ``{source: target}`` and commit (one transaction: all or nothing)."""
        now = time.time()
        rows = [(self.key(s), self.namespace, s, t, now) for s, t in translations.items()]
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO translations VALUES (?, ?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        (n,) = self._db.execute(
            "SELECT COUNT(*) FROM translations WHERE namespace = ?", (self.namespace,)
        ).fetchone()
        return n

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
