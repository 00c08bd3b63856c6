"""The package's layers, read off its imports (those inside functions too): runtime, then training, then the command line.

The runtime (pipeline/*.py) scores; training (pipeline/training/) builds the corpus and models with it; cli.py
parses and calls either. Research (research/) sits outside the package, and nothing in it is imported by the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "pipeline"
INTERFACE = {"pipeline.cli", "pipeline.__main__"}


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every module of pipeline or research that a file imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from pipeline import config` imports the module pipeline.config; `from pipeline import load`, the package
            found.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names)
    return {m for m in found if m.split(".")[0] in ("pipeline", "research")}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> int:
    if module.startswith("research"):
        return 3
    if module in INTERFACE:
        return 2
    return 1 if module.startswith("pipeline.training") else 0


def test_every_import_points_down_or_across_never_up() -> None:
    upward = sorted((m, d) for m, deps in GRAPH.items() for d in deps if _layer(d) > _layer(m))
    assert upward == []


def test_the_runtime_needs_nothing_of_training_or_research() -> None:
    runtime = [m for m in MODULES if _layer(m) == 0]
    assert "pipeline.predict" in runtime and "pipeline.web" in runtime and "pipeline.training.train" not in runtime
    assert {d for m in runtime for d in GRAPH[m] if _layer(d) > 0} == set()


def test_no_module_imports_itself_through_others() -> None:
    cycles = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycles.append([*path[path.index(module) :], module])
            return
        if module in done or module not in GRAPH:
            return
        for dep in sorted(GRAPH[module]):
            visit(dep, [*path, module])
        done.add(module)

    for module in sorted(GRAPH):
        visit(module, [])
    assert cycles == []


def test_the_package_does_not_ship_research() -> None:
    assert not (PACKAGE / "levers.py").exists() and not (PACKAGE / "evalreport.py").exists()
    assert {d for deps in GRAPH.values() for d in deps if d.startswith("research")} == set()
