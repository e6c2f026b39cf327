"""The one-way flow, checked on every build: blueprint -> service -> adapter, nothing back up.

Read from the source (every `import` in every module of `portal`, including imports inside
functions and under TYPE_CHECKING), so a new upward import fails here instead of in review:
- services, adapters and the store never import the web layer or blueprints;
- web (request plumbing) never imports a blueprint;
- a blueprint never imports another blueprint (a package such as admin/ is one blueprint), nor
  an adapter or the store (it calls services);
- there is no import cycle between portal's modules.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[1] / "portal"


def module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every portal module `path` imports, absolute names, `from x import y` as x.y when y is a module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("portal"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("portal"):
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


MODULES = {module_name(p) for p in PORTAL.rglob("*.py")}
GRAPH = {module_name(p): set(imports(p)) - {module_name(p)} for p in PORTAL.rglob("*.py")}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def blueprint_of(module: str) -> str:
    return ".".join(module.split(".")[:3])


def edges() -> Iterator[tuple[str, str]]:
    for source, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            yield source, target


def test_services_adapters_and_the_store_never_import_the_web_layer() -> None:
    upward = [(s, t) for s, t in edges()
              if layer(s) in ("services", "adapters", "store") and layer(t) in ("web", "blueprints")]
    assert upward == []


def test_the_web_layer_never_imports_a_blueprint() -> None:
    assert [(s, t) for s, t in edges() if layer(s) == "web" and layer(t) == "blueprints"] == []


def test_no_blueprint_imports_another() -> None:
    crossing = [(s, t) for s, t in edges() if layer(s) == layer(t) == "blueprints"
                and blueprint_of(s) != blueprint_of(t) and blueprint_of(t) != "portal.blueprints"]
    assert crossing == []


def test_blueprints_reach_adapters_and_the_store_only_through_services() -> None:
    assert [(s, t) for s, t in edges() if layer(s) == "blueprints" and layer(t) in ("adapters", "store")] == []


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []
