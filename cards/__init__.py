"""Dataset card templates (Jinja, rendered by ``huggingface_hub.DatasetCard``).

A top-level folder of the repository (beside ``builders/`` and ``nerxl_data/``), installed as
``nerxl_data.cards`` (``pyproject.toml``: ``package-dir``); :func:`nerxl_data.hub.card.template_path`
finds a template through this package, wherever it is installed.
"""
