"""The on-disk layout of a scaled-out build: parquet parts, completion markers, resume by id.

One folder per target language::

    DST/{lang}/part-<hash of the part's ids>.parquet   -- finished rows, written atomically
    DST/{lang}/_SUCCESS                               -- JSON {"rows": N, "files": K}: all done

A part is written to a hidden temporary name and renamed when complete, so a killed run never
leaves a half-written part; its name is the hash of the ids it holds, so a retried task that
writes the same rows again replaces the file instead of duplicating them. On a rerun the ids of
the existing parts are read back and only the missing ids are processed (ids are the key).
Readers of parquet folders (pyarrow, Ray, ``datasets``) skip names starting with ``_`` or ``.``.

>>> import tempfile, pyarrow as pa
>>> d = Path(tempfile.mkdtemp())
>>> write_part(pa.table({"id": ["a", "b"], "x": [1, 2]}), d).name.startswith("part-")
True
>>> sorted(read_ids(d))
['a', 'b']
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..paths import atomic_path, clean_stale_in, write_text_atomic

logger = logging.getLogger(__name__)

MARKER = "_SUCCESS"

COLUMN_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "source_lang": pa.string(),
    "source_tokens": pa.list_(pa.string()),
    "source_ner_tags": pa.list_(pa.string()),
    "tokens": pa.list_(pa.string()),
    "alignment": pa.string(),
    "ner_tags": pa.list_(pa.string()),
    "projection_score": pa.float64(),
    "projection_dropped": pa.list_(pa.string()),
}
"""Types of the pipeline's columns (``nerxl_data.pipeline``), fixed so that a batch whose lists
all happen to be empty still has the same schema as the others."""


def to_table(columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """A columnar batch (``dict[str, list]``) as an Arrow table with the pipeline's column types.

    >>> to_table({"id": ["1"], "projection_dropped": [[]]}).schema.field("projection_dropped").type
    ListType(list<item: string>)
    """
    return pa.table({k: pa.array(v, type=COLUMN_TYPES.get(k)) for k, v in columns.items()})


def part_files(folder: str | Path) -> list[Path]:
    """The finished parts of ``folder``, sorted by name (none when it does not exist)."""
    folder = Path(folder)
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def write_part(table: pa.Table, folder: str | Path) -> Path:
    """Write ``table`` as ``folder/part-<hash of its ids>.parquet``, atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256("\0".join(table.column("id").to_pylist()).encode()).hexdigest()[:20]
    path = folder / f"part-{h}.parquet"
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def clean_temporary(folder: str | Path) -> int:
    """Remove the temporary files an interrupted run left behind; returns how many."""
    return clean_stale_in(folder)


def read_ids(folder: str | Path) -> set[str]:
    """The ids of all finished parts of ``folder``.

    Raises:
        InputError: a part that is not readable parquet with an ``id`` column (naming it).
    """
    ids: set[str] = set()
    for p in part_files(folder):
        try:
            ids.update(pq.read_table(p, columns=["id"]).column("id").to_pylist())
        except (OSError, KeyError, pa.ArrowException) as exc:
            raise InputError(f"unreadable part ({exc}); delete it to recompute its rows", source=str(p)) from exc
    return ids


def is_complete(folder: str | Path) -> bool:
    return (Path(folder) / MARKER).exists()


def mark_complete(folder: str | Path, rows: int, **extra: Any) -> None:
    """Write the completion marker (atomically) once every id of the language is in a part."""
    folder = Path(folder)
    write_text_atomic(folder / MARKER, json.dumps({"rows": rows, "files": len(part_files(folder)), **extra}) + "\n")


def read_parts(folder: str | Path, order: Iterable[str] | None = None) -> pa.Table:
    """All rows of ``folder``'s parts, one row per id, in the order of ``order`` when given.

    A duplicated id (two runs writing the same rows at once) is kept once and counted in the log.

    Raises:
        InputError: an id of ``order`` that no part holds.
    """
    files = part_files(folder)
    if not files:
        raise InputError("no finished parts", source=str(folder))
    table = pa.concat_tables([pq.read_table(p) for p in files], promote_options="permissive")
    first: dict[str, int] = {}
    for i, id_ in enumerate(table.column("id").to_pylist()):
        first.setdefault(id_, i)
    if len(first) < table.num_rows:
        logger.warning("%s: %d duplicated rows dropped (same id written twice)", folder,
                       table.num_rows - len(first))
    if order is None:
        return table.take(sorted(first.values()))
    indices = []
    for id_ in order:
        if id_ not in first:
            raise InputError(f"id {id_!r} is in the input but in no part", source=str(folder))
        indices.append(first[id_])
    return table.take(indices)
