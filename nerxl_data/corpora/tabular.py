"""Records as rows: JSON Lines and parquet (the format the Hub serves datasets in).

Parquet is read batch by batch and written in row groups, so neither side holds a whole file.
A parquet file written by ``datasets`` (or by :func:`write_parquet` with ``label_names``) carries
its features in the schema metadata; ClassLabel ids are then turned back into tag strings.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, TagError, excerpt
from ..paths import atomic_path, atomic_write
from ..schema import NerExample, Policy, Scheme, convert_tags, validate_tags
from ._io import ReadReport, bad_token, check_file, check_seekable, read_lines
from .conll import policy_hint


def normalize_record(
    row: dict[str, Any],
    index: int,
    *,
    source: str,
    line: int | None = None,
    label_names: Sequence[str] | None = None,
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    types: Collection[str] | None = None,
    report: ReadReport | None = None,
    tokens_field: str = "tokens",
    tags_field: str = "ner_tags",
    ids: bool = False,
) -> NerExample:
    """Check one row and turn it into a record with IOB2 string tags.

    With ``label_names`` integer tags are ClassLabel ids and become strings; without, integer
    tags are an error unless ``ids`` (then they are kept as ids, only their range unchecked). ``index`` is the row's position, used
    as ``id`` when the row has none and in errors when there is no ``line``.

    >>> normalize_record({"tokens": ["Paris"], "ner_tags": [5]}, 0, source="x",
    ...                  label_names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])
    {'id': '0', 'tokens': ['Paris'], 'ner_tags': ['B-LOC']}

    Raises:
        InputError: a missing field, tokens and tags of different lengths, an id outside
            ``label_names``, or a bad tag (see :func:`~nerxl_data.schema.validate_tags`).
    """
    where: dict[str, Any] = {"source": source, "line": line} if line else {"source": source, "row": index}
    report = report if report is not None else ReadReport()
    for key in (tokens_field, tags_field):
        if not isinstance(row.get(key), (list, tuple)):
            raise InputError(f"field {key!r} is missing or not a list", **where)
    tokens = list(row[tokens_field])
    for k, token in enumerate(tokens):
        problem = bad_token(token) if isinstance(token, str) else "is not a string"
        if problem:
            raise InputError(f"token {k} ({excerpt(str(token), 40)}) {problem}", **where)
    tags = list(row[tags_field])
    if len(tokens) != len(tags):
        raise InputError(f"length mismatch: {len(tokens)} tokens but {len(tags)} tags", **where)
    if any(isinstance(t, bool) for t in tags):
        raise InputError(f"tag {next(t for t in tags if isinstance(t, bool))} is a boolean, not a tag "
                         "or a label id", **where)
    if label_names is not None:
        bad = next((t for t in tags if isinstance(t, int) and not 0 <= t < len(label_names)), None)
        if bad is not None:  # -1 would index the last label (I-MISC) and invent an entity
            raise InputError(f"tag id {bad} is not a label (there are {len(label_names)}, ids 0 to "
                             f"{len(label_names) - 1})", **where)
        tags = [label_names[t] if isinstance(t, int) else t for t in tags]
    elif not ids and any(isinstance(t, int) for t in tags):
        raise InputError("tags are integer ids but the file has no label names (no ClassLabel "
                         "metadata): write the tags as strings (B-PER, ...) or give label_names", **where)
    if tags and all(isinstance(t, str) for t in tags):
        try:
            tags = validate_tags(tags, scheme, policy, report.repairs, types)
            if scheme != "IOB2":
                tags = convert_tags(tags, scheme, "IOB2")
        except TagError as exc:
            raise InputError(exc.message + policy_hint(exc), **where) from None
    elif not all(isinstance(t, int) for t in tags):
        raise InputError("tags mix strings and ids", **where)
    rid = row.get("id")
    report.sentences += 1
    return {"id": str(index if rid is None else rid), "tokens": tokens, "ner_tags": tags}


def read_jsonl(
    path: str | Path,
    *,
    label_names: Sequence[str] | None = None,
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    types: Collection[str] | None = None,
    report: ReadReport | None = None,
    tokens_field: str = "tokens",
    tags_field: str = "ner_tags",
) -> Iterator[NerExample]:
    """Stream records from a JSON Lines file (one object a line; blank lines are skipped).

    Raises:
        InputError: naming file and line: invalid JSON, a bad record (see
            :func:`normalize_record`), an empty file.
    """
    path = check_file(path)
    report = report if report is not None else ReadReport()
    mark = report.mark()
    n = 0
    for lineno, line in read_lines(path, report, fallback=None, expect="JSON lines"):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg} at column {exc.colno}", source=str(path), line=lineno) from None
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", source=str(path), line=lineno)
        yield normalize_record(
            row, n, source=str(path), line=lineno, label_names=label_names, scheme=scheme,
            policy=policy, types=types, report=report, tokens_field=tokens_field, tags_field=tags_field,
        )
        n += 1
    if n == 0:
        raise InputError("empty file: no records", source=str(path))
    report.warn(str(path), since=mark)


def write_jsonl(examples: Iterable[NerExample], path: str | Path) -> int:
    """Write records as JSON Lines (UTF-8, not ASCII-escaped). Returns the number written."""
    n = 0
    with atomic_write(path) as f:
        for ex in examples:
            f.write(json.dumps(dict(ex), ensure_ascii=False) + "\n")
            n += 1
    return n


def parquet_label_names(schema, tags_field: str = "ner_tags") -> list[str] | None:
    """ClassLabel names of ``tags_field`` from a parquet/arrow schema written by ``datasets``."""
    if not schema.metadata or b"huggingface" not in schema.metadata:
        return None
    from datasets import Features

    feature = Features.from_arrow_schema(schema).get(tags_field)
    inner = getattr(feature, "feature", None)
    return list(inner.names) if hasattr(inner, "names") else None


def read_parquet(
    path: str | Path,
    *,
    label_names: Sequence[str] | None = None,
    ids: bool = False,
    scheme: Scheme = "IOB2",
    policy: Policy = "strict",
    types: Collection[str] | None = None,
    report: ReadReport | None = None,
    batch_size: int = 1000,
    tokens_field: str = "tokens",
    tags_field: str = "ner_tags",
) -> Iterator[NerExample]:
    """Stream records from a parquet file, one batch of rows at a time.

    ClassLabel ids become strings using ``label_names`` or, when not given, the names in the
    file's ``datasets`` metadata; ``ids=True`` keeps the ids as they are.

    Raises:
        InputError: naming file and row: a bad record, an unreadable file, an empty file.
    """
    import pyarrow.parquet as pq

    path = check_seekable(path, "parquet")
    report = report if report is not None else ReadReport()
    mark = report.mark()
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not parquet
        raise InputError(f"not a parquet file ({exc})", source=str(path)) from None
    names = None if ids else (label_names or parquet_label_names(pf.schema_arrow, tags_field))
    n = 0
    for batch in pf.iter_batches(batch_size=batch_size):
        for row in batch.to_pylist():
            yield normalize_record(
                row, n, source=str(path), label_names=names, scheme=scheme, policy=policy,
                types=types, report=report, tokens_field=tokens_field, tags_field=tags_field, ids=ids,
            )
            n += 1
    if n == 0:
        raise InputError("empty file: no rows", source=str(path))
    report.warn(str(path), since=mark)


def write_parquet(
    examples: Iterable[NerExample],
    path: str | Path,
    *,
    label_names: Sequence[str] | None = None,
    row_group_size: int = 1000,
) -> int:
    """Write records to parquet in row groups of ``row_group_size`` (constant memory).

    With ``label_names`` tags are stored as ClassLabel ids and the ``datasets`` features go into
    the schema metadata, so ``datasets.load_dataset("parquet", ...)`` sees a ClassLabel column.
    Returns the number of rows written.

    Raises:
        InputError: a tag that is not in ``label_names``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import ClassLabel, Features, List, Value

    tag_feature = ClassLabel(names=list(label_names)) if label_names is not None else Value("string")
    features = Features(
        {"id": Value("string"), "tokens": List(Value("string")), "ner_tags": List(tag_feature)}
    )
    schema = features.arrow_schema
    index = {name: i for i, name in enumerate(label_names or [])}
    n = 0
    buffer: list[dict] = []
    with atomic_path(path) as tmp, pq.ParquetWriter(str(tmp), schema) as writer:

        def flush() -> None:
            writer.write_table(pa.Table.from_pylist(buffer, schema=schema), row_group_size=row_group_size)
            buffer.clear()

        for ex in examples:
            tags = ex["ner_tags"]
            if label_names is not None:
                try:
                    tags = [t if isinstance(t, int) else index[t] for t in tags]
                except KeyError as exc:
                    raise InputError(f"tag {exc.args[0]!r} is not in the label names", source=str(path), row=n) from None
            for token in ex["tokens"]:
                problem = bad_token(token)
                if problem:
                    raise InputError(f"token {excerpt(str(token), 40)} {problem}", source=str(path), row=n)
            buffer.append({"id": str(ex["id"]), "tokens": list(ex["tokens"]), "ner_tags": tags})
            n += 1
            if len(buffer) >= row_group_size:
                flush()
        if buffer or n == 0:
            flush()
    return n
