"""One builder per benchmark family; each defines configs ``{lang}.{method}``.

Run one as a script (``python builders/europarl_ner.py --lang de --out DIR``) or through the CLI
(``nerxl build europarl-ner --lang de --out DIR``). ``nerxl_data/builders`` is a symlink to this
folder, so the builders ship inside the package as ``nerxl_data.builders``.
"""

FAMILIES: dict[str, str] = {
    "europarl-ner": "europarl_ner",
    "masakhaner2": "masakhaner2",
    "xtreme-panx": "xtreme_panx",
    "conll-generic": "conll_generic",
}
"""Family name -> module name in this folder."""
