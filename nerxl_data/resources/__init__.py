"""Files bundled with the package: the demo sample.

The demo sample (``demo/{en,de,es}.conll``) was written for this project: 40 short parallel
sentences, English with German and Spanish translations, gold IOB2 NER (PER/ORG/LOC/MISC) on
every side, in the Europarl-NER format (``token<TAB>tag``, blank line between sentences;
sentence i is the same sentence in all three files).
"""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from ..errors import unknown_name

DEMO_LANGUAGES: tuple[str, ...] = ("en", "de", "es")


def demo_path(lang: str) -> Path:
    """Path of the bundled demo file for ``lang`` (``en``, ``de`` or ``es``).

    >>> demo_path("de").name
    'de.conll'

    Raises:
        ConfigError: an unknown language, listing the known ones.
    """
    if lang not in DEMO_LANGUAGES:
        raise unknown_name("demo language", lang, DEMO_LANGUAGES)
    resource = files(__name__).joinpath("demo", f"{lang}.conll")
    # Installed packages (wheel or editable) are plain directories, so the path stays valid.
    with as_file(resource) as path:
        return Path(path)
