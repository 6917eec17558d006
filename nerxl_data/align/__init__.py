"""Word alignment: one interface, several aligners.

>>> from nerxl_data.align import get_aligner
>>> with get_aligner("simalign-itermax", model="e5-small") as aligner:    # doctest: +SKIP
...     links = aligner.align_batch([["Hello", "world"]], [["Hallo", "Welt"]])

Every aligner is a context manager (loads / frees its model) with
``align_batch(src_words, tgt_words) -> list[list[Link]]``. Names (see :data:`ALIGNERS`):
``awesome``, ``simalign-argmax``, ``simalign-itermax``, ``simalign-match``, ``eflomal``.
Links print in Pharaoh format with :mod:`nerxl_data.align.pharaoh`.
"""

from __future__ import annotations

from ..errors import ConfigError
from ..options import KINDS, fits, option_kind
from ..registry import Registry
from ..schema import Link
from .corpus import read_pair_files, run_aligner
from .pharaoh import format_links, parse_links, read_links, write_links

ALIGNERS: Registry[str] = Registry("aligner", {
    "awesome": "awesome",
    "simalign-argmax": "argmax",
    "simalign-itermax": "itermax",
    "simalign-match": "match",
    "eflomal": "eflomal",
})
"""Aligner names accepted by :func:`get_aligner` and ``nerxl align --aligner`` -> the
similarity-matrix method of :mod:`.neural` (``eflomal``: the statistical aligner)."""


def get_aligner(
    name: str,
    model: str = "e5-small",
    layer: int = 8,
    device: str | None = None,
    batch_size: int = 32,
    **opts,
):
    """Build an aligner by name (the model is loaded on ``with`` / first use, not here).

    Args:
        name: one of :data:`ALIGNERS`.
        model: encoder for the neural aligners: ``e5-small`` (built-in, offline), a local
            directory or a Hub id; ignored by ``eflomal``.
        layer, device, batch_size: encoder options (see :class:`EmbeddingAlignerConfig`).
        **opts: method options: ``threshold``, ``token_type``, ``dtype``, ``max_length`` for the
            neural aligners; see :class:`~nerxl_data.align.eflomal.EflomalConfig` for eflomal.

    Raises:
        ConfigError: unknown name (listing the known ones) or an invalid option.
    """
    method = ALIGNERS.get(name)
    if method == "eflomal":
        from .eflomal import EflomalAligner, EflomalConfig

        _check_options(name, EflomalConfig, opts)
        return EflomalAligner(EflomalConfig(**opts))
    from .neural import EmbeddingAligner, EmbeddingAlignerConfig

    _check_options(name, EmbeddingAlignerConfig, opts, exclude=("method", "model", "layer", "device", "batch_size"))
    config = EmbeddingAlignerConfig(
        method=method, model=model, layer=layer, device=device, batch_size=batch_size, **opts
    )
    return EmbeddingAligner(config)


def _check_options(name: str, config_cls, opts: dict, exclude: tuple[str, ...] = ()) -> None:
    from dataclasses import fields

    known = [f.name for f in fields(config_cls) if f.name not in exclude]
    for key, value in opts.items():
        if key not in known:
            raise ConfigError(f"aligner {name!r} has no option {key!r}; options: {', '.join(sorted(known))}")
        kind = option_kind(config_cls, key)
        if not fits(value, kind):  # checked before any model loads
            raise ConfigError(f"aligner {name!r} option {key}={value!r} is not {KINDS[kind]}")


__all__ = [
    "ALIGNERS",
    "Link",
    "format_links",
    "get_aligner",
    "parse_links",
    "read_links",
    "read_pair_files",
    "run_aligner",
    "write_links",
]
