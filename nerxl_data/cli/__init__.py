"""The ``nerxl`` command line: thin click commands that parse arguments and call library functions.

Each area has its own module here (``corpora``, ``align``, ``project``, ...). The group is the one
error boundary: a :class:`NerxlError` raised anywhere, and the library exceptions a user can act
on (an ``OSError`` such as a read-only folder or a full disk, a decoding or parse error, a Hub or
network error; see :func:`nerxl_data.errors.describe`), become one ``Error: ...`` line on stderr
(token-like strings redacted) and exit status 2, never a traceback. Anything else is a bug and
keeps its traceback.

Library noise (transformers load reports, huggingface_hub and datasets warnings, torch
``UserWarning``\ s) is silenced unless ``-v`` is given; every log line goes through
:class:`~nerxl_data.errors.RedactFilter`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import warnings

import click

from ..errors import NerxlError, RedactFilter, describe, redact

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
    "hub": "hub",
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

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        """click's ``main``, with a usage error (a bad option value, a missing option) reported as
        one ``Error:`` line like every other bad input, not click's usage block."""
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except getattr(click.exceptions, "NoArgsIsHelpError", ()) as exc:  # `nerxl` alone: the help
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            _fail(exc.format_message() + where, exc, exc.exit_code)
        except click.exceptions.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NerxlError as exc:
            _fail(str(exc), exc)
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            message = describe(exc)
            if message is None:
                raise
            _fail(message, exc)


def _fail(message: str, exc: BaseException, code: int = 2) -> None:
    logging.getLogger(__name__).debug("error details", exc_info=exc)
    click.echo(f"Error: {redact(message)}", err=True)
    sys.exit(code)


_NOISY_LOGGERS = ("transformers", "huggingface_hub", "datasets", "httpx", "httpcore", "urllib3",
                  "filelock", "fsspec", "torch", "accelerate")


def _quiet_libraries() -> None:
    """Keep the output to progress bars and the project's own lines (no ``-v``)."""
    # errors too: the boundary reports them once, as one line
    for var in ("TRANSFORMERS_VERBOSITY", "DATASETS_VERBOSITY", "HF_HUB_VERBOSITY"):
        os.environ.setdefault(var, "critical")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    for module in ("torch", "transformers", "huggingface_hub", "datasets", "accelerate", "tqdm"):
        warnings.filterwarnings("ignore", module=module + r"(\..*)?")
    warnings.filterwarnings("ignore", message=".*pin_memory.*")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="nerxl-data")
def main(verbose: int) -> None:
    """nerxl: silver NER training data for low-resource languages by annotation projection."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactFilter) for f in handler.filters):
            handler.addFilter(RedactFilter())
    if verbose == 0:
        _quiet_libraries()


if __name__ == "__main__":  # pragma: no cover
    main()
