"""The aligners by name (:data:`ALIGNERS`): what each is and can do, and :func:`get_aligner`."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..options import KINDS, fits, option_kind
from ..registry import Registry, load_target


@dataclass(frozen=True)
class AlignerSpec:
    """What an aligner is and can do: callers ask these, never the aligner's name.

    Attributes:
        factory: ``"module:Class"`` (in this package) built with ``Class(config)``.
        config: ``"module:ConfigClass"``: the options it accepts, checked before anything loads.
        method: the similarity-matrix method of :mod:`.neural` (``""`` for the others).
        uses_model: it encodes words with a model (``model``/``layer``/``device``/``batch_size``
            apply, the model goes into its config name and cache keys); statistical aligners don't.
        whole_corpus: its statistics come from all the text it sees, so it takes a corpus (or a
            build shard) in one call instead of in chunks.
    """

    factory: str
    config: str
    method: str = ""
    uses_model: bool = True
    whole_corpus: bool = False


_NEURAL = dict(factory="neural:EmbeddingAligner", config="neural:EmbeddingAlignerConfig")

ALIGNERS: Registry[AlignerSpec] = Registry("aligner", {
    "awesome": AlignerSpec(**_NEURAL, method="awesome"),
    "simalign-argmax": AlignerSpec(**_NEURAL, method="argmax"),
    "simalign-itermax": AlignerSpec(**_NEURAL, method="itermax"),
    "simalign-match": AlignerSpec(**_NEURAL, method="match"),
    "eflomal": AlignerSpec("eflomal:EflomalAligner", "eflomal:EflomalConfig", uses_model=False, whole_corpus=True),
})
"""Aligner names accepted by :func:`get_aligner` and ``nerxl align --aligner`` -> what each
is and can do (:class:`AlignerSpec`). A new aligner is one entry here and one module."""

_MODEL_OPTIONS = ("model", "layer", "device", "batch_size")


def _load(target: str):
    return load_target(target, __package__)


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
        model: encoder of an aligner that ``uses_model``: ``e5-small`` (built-in, offline), a
            local directory or a Hub id; ignored by the others (like ``layer``, ``device``,
            ``batch_size``).
        layer, device, batch_size: encoder options (see :class:`EmbeddingAlignerConfig`).
        **opts: method options: ``threshold``, ``token_type``, ``dtype``, ``max_length`` for the
            neural aligners; see :class:`~nerxl_data.align.eflomal.EflomalConfig` for eflomal.

    Raises:
        ConfigError: unknown name (listing the known ones) or an invalid option.
    """
    return _load(ALIGNERS.get(name).factory)(aligner_config(name, model, layer, device, batch_size, **opts))


def aligner_config(name: str, model: str = "e5-small", layer: int = 8, device: str | None = None,
                   batch_size: int = 32, **opts):
    """The config of aligner ``name`` (its options checked; nothing is built or loaded): what
    :func:`get_aligner` builds the aligner from, and what a build checks at config time.

    Raises:
        ConfigError: unknown name (listing the known ones) or an invalid option.
    """
    spec = ALIGNERS.get(name)
    config_cls = _load(spec.config)
    if not spec.uses_model:
        _check_options(name, config_cls, opts)
        return config_cls(**opts)
    _check_options(name, config_cls, opts, exclude=("method", *_MODEL_OPTIONS), also=_MODEL_OPTIONS[1:])
    return config_cls(method=spec.method, model=model, layer=layer, device=device, batch_size=batch_size, **opts)


def model_options(name: str, model: str, layer: int | None = None) -> dict:
    """The model keywords :func:`get_aligner` takes for ``name``: ``{}`` for an aligner that
    uses no model, else ``model`` (and ``layer`` when given)."""
    if not ALIGNERS.get(name).uses_model:
        return {}
    return {"model": model} if layer is None else {"model": model, "layer": layer}


def _check_options(name: str, config_cls, opts: dict, exclude: tuple[str, ...] = (), also: tuple[str, ...] = ()) -> None:
    """``opts`` of aligner ``name`` checked against its config class (less ``exclude``, which
    are given apart); ``also`` are the options taken apart, listed in the error too."""
    from dataclasses import fields

    known = [f.name for f in fields(config_cls) if f.name not in exclude]
    for key, value in opts.items():
        if key not in known:
            listed = sorted({*known, *also})
            raise ConfigError(f"aligner {name!r} has no option {key!r}; options: {', '.join(listed)}")
        kind = option_kind(config_cls, key)
        if not fits(value, kind):  # checked before any model loads
            raise ConfigError(f"aligner {name!r} option {key}={value!r} is not {KINDS[kind]}")
