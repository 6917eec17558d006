"""Hugging Face datasets by name (``datasets.load_dataset``), normalised to our record type."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from ..errors import InputError
from ..schema import NerExample, Policy
from ._io import ReadReport
from .tabular import normalize_record

_PACKAGED = {"json", "csv", "parquet", "text", "arrow", "pandas", "webdataset", "imagefolder", "audiofolder"}
"""``datasets``' packaged builders: local files, never fetched from the Hub."""


def load_hf(name: str, config: str | None, split: str, *, streaming: bool = True, **kwargs):
    """``datasets.load_dataset`` with failures to reach or find the dataset as one user error.

    Raises:
        HubUnreachableError: not a local folder, not cached, and the Hub cannot be reached.
        InputError: the dataset, config or split cannot be loaded (unknown, ...).
    """
    from datasets import load_dataset

    from ..hubio import resolve_repo

    if name not in _PACKAGED:
        resolve_repo(name, "dataset")  # offline and not cached: one error in about a second
    try:
        return load_dataset(name, config, split=split, streaming=streaming, **kwargs)
    except (ConnectionError, OSError, ValueError) as exc:  # FileNotFoundError is an OSError
        where = name + (f" ({config})" if config else "") + f" [{split}]"
        raise InputError(
            f"could not load the dataset: {type(exc).__name__}: {exc} "
            "(offline? NERXL_DATA_DIR makes known corpora load from local files)",
            source=where,
        ) from None


def read_hf_dataset(
    name: str,
    config: str | None = None,
    split: str = "train",
    *,
    ids: bool = False,
    policy: Policy = "strict",
    types: Collection[str] | None = None,
    report: ReadReport | None = None,
    streaming: bool = True,
    tokens_field: str = "tokens",
    tags_field: str = "ner_tags",
    **load_kwargs,
) -> Iterator[NerExample]:
    """Stream a split of a Hub dataset (or a local dataset folder) as records.

    ClassLabel ids become tag strings unless ``ids=True``. ``streaming=True`` (default) reads
    the split without downloading it whole.

    Example (needs the Hub)::

        >>> rows = read_hf_dataset("masakhane/masakhaner2", "yor", "test")  # doctest: +SKIP

    Raises:
        InputError: a bad record (naming the dataset and row).
    """
    ds = load_hf(name, config, split, streaming=streaming, **load_kwargs)
    names = None
    feature = (ds.features or {}).get(tags_field) if not ids else None
    inner = getattr(feature, "feature", None)
    if hasattr(inner, "names"):
        names = list(inner.names)
    source = f"{name}" + (f" ({config})" if config else "") + f" [{split}]"
    report = report if report is not None else ReadReport()
    mark = report.mark()
    for i, row in enumerate(ds):
        yield normalize_record(
            row, i, source=source, label_names=names, policy=policy, types=types, report=report,
            tokens_field=tokens_field, tags_field=tags_field, ids=ids,
        )
    report.warn(source, since=mark)
