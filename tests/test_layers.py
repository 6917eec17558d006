"""The package's layers only run down, and no module imports one that imports it back.

Read from the source (``ast``), imports inside functions included: a lazy import that runs back
up is still a dependency that runs back up. The layers follow the data flow of a build (read ->
translate/tag -> align -> project -> pipeline -> build/publish -> train -> experiment -> CLI).
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

REPO = Path(__file__).resolve().parent.parent
ROOT = REPO / "nerxl_data"
MAPPED = {REPO / "builders": "nerxl_data.builders", REPO / "cards": "nerxl_data.cards"}
"""Top-level folders installed as subpackages (pyproject.toml: package-dir)."""

LAYERS: list[set[str]] = [
    {"errors"},
    {"hubio", "options", "paths", "registry", "schema", "evaluation", "resources", "cards"},
    {"corpora", "taggers"},
    {"translate", "align"},
    {"project"},
    {"pipeline"},
    {"runners", "bench"},
    {"hub"},
    {"builders"},
    {"train"},
    {"experiments"},
    {"testing"},
    {"cli"},
    {"__main__"},
]
LAYER = {unit: i for i, units in enumerate(LAYERS) for unit in units}


def _module(path: Path) -> str:
    folder = next((f for f in MAPPED if f in path.parents), None)
    parts = (MAPPED[folder].split(".") + list(path.relative_to(folder).with_suffix("").parts) if folder
             else list(path.relative_to(REPO).with_suffix("").parts))
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The nerxl_data modules ``path`` imports (``from pkg import name``: pkg, and pkg.name too
    when that is a module)."""
    mod = _module(path)
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)  # ``from pkg import sub`` runs pkg/__init__ first: a dependency on pkg
            out.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m == "nerxl_data" or m.startswith("nerxl_data.")}


FILES = sorted(p for root in (ROOT, *MAPPED) for p in root.rglob("*.py")
               if "metrics" not in p.parts)  # metrics/: evaluate's loader
MODULES = {_module(p) for p in FILES}
GRAPH = nx.DiGraph((_module(p), t) for p in FILES for t in _imports(p) if t != _module(p))


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "nerxl_data"


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in MODULES} - {"nerxl_data"}
    assert units - set(LAYER) == set(), "a new top-level module or package needs a place in LAYERS"


def test_layers_only_run_down():
    up = sorted(f"{a} -> {b}" for a, b in GRAPH.edges
                if _unit(a) != _unit(b) and _unit(b) != "nerxl_data" and _unit(a) in LAYER
                and LAYER[_unit(b)] > LAYER[_unit(a)])
    assert up == []


def test_no_import_cycles():
    # a package __init__ re-exporting its submodules is not a cycle; a submodule importing its
    # package's __init__ (``from . import X``) while that __init__ imports it is
    cycles = [sorted(c) for c in nx.strongly_connected_components(GRAPH) if len(c) > 1]
    assert cycles == []


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The checks above can fail: on a graph with a cycle and an upward edge they report both."""
    g = nx.DiGraph([("nerxl_data.align.a", "nerxl_data.align.b"), ("nerxl_data.align.b", "nerxl_data.align.a"),
                    ("nerxl_data.align.a", "nerxl_data.cli.x")])
    assert [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1] == [
        ["nerxl_data.align.a", "nerxl_data.align.b"]]
    assert any(LAYER[_unit(b)] > LAYER[_unit(a)] for a, b in g.edges)
    assert "nerxl_data.align.corpus" in MODULES and "nerxl_data.pipeline" in GRAPH["nerxl_data.bench"]
    assert "nerxl_data.builders.base" in MODULES  # the top-level builders/ is read too
