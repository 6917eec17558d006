"""One builder per benchmark family; each defines configs ``{lang}.{method}``.

Run one as a module (``python -m nerxl_data.builders.europarl_ner --lang de --out DIR``) or
through the CLI (``nerxl build europarl-ner --lang de --out DIR``); they ship in the wheel.
"""

FAMILIES: dict[str, str] = {
    "europarl-ner": "europarl_ner",
    "masakhaner2": "masakhaner2",
    "xtreme-panx": "xtreme_panx",
    "conll-generic": "conll_generic",
}
"""Family name -> module name in this folder."""
