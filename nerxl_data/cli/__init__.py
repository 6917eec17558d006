"""The ``nerxl`` command line: thin click commands that parse arguments and call library functions.

Each area has its own module here (``corpora``, ``align``, ``project``, ...). A :class:`NerxlError`
raised anywhere becomes one ``Error: ...`` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from ..errors import NerxlError

# Command modules, each exposing ``commands``: a list of click commands. Imported lazily so that
# `nerxl --help` does not import torch.
_COMMAND_MODULES = {
    "corpora": "corpora",
    "stats": "corpora",
    "align": "align",
    "project": "project",
    "evaluate": "project",
    "bench": "project",
    "translate": "translate",
    "build": "build",
    "publish": "build",
    "list": "build",
    "demo": "build",
    "train": "train",
    "evaluate-model": "train",
    "experiment": "train",
}


class _Group(click.Group):
    """A group that loads command modules lazily and turns NerxlError into exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMAND_MODULES.get(name)
        if module is None:
            return None
        mod = importlib.import_module(f"{__name__}.{module}")
        return {c.name: c for c in mod.commands}.get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NerxlError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="nerxl-data")
def main(verbose: int) -> None:
    """nerxl: silver NER training data for low-resource languages by annotation projection."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


if __name__ == "__main__":  # pragma: no cover
    main()
