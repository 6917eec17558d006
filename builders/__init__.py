"""One builder per benchmark family; each defines configs ``{lang}.{method}``.

Run one as a module (``python -m nerxl_data.builders.europarl_ner --lang de --out DIR``) or
through the CLI (``nerxl build europarl-ner --lang de --out DIR``); they ship in the wheel.
"""

from nerxl_data.registry import Registry

FAMILIES: Registry[str] = Registry("builder family", {
    "europarl-ner": "europarl_ner:BUILDER",
    "masakhaner2": "masakhaner2:BUILDER",
    "xtreme-panx": "xtreme_panx:BUILDER",
    "conll-generic": "conll_generic:BUILDER",
    "demo": "demo:BUILDER",
}, package="nerxl_data.builders")
"""Family name -> its builder (``FAMILIES.load(name)``), imported on use."""
