"""controller.genesys's own rule (its __init__ docstring): other packages import only its public
names, from `controller.genesys` or its two public submodules. Its own tests (tests/genesys/) may
reach inside; nobody else may, so the package can move its internals without breaking callers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {"controller.genesys", "controller.genesys.errors", "controller.genesys.streaming"}
INSIDE = (ROOT / "controller" / "genesys", ROOT / "tests" / "genesys")


def private_imports(source: str) -> list[str]:
    """`controller.genesys.<private module>` imports in `source`, as 'line N: module'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from controller.genesys import api` imports a submodule too
            submodules = [
                f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")
            ]
            modules = [node.module, *submodules]
        else:
            continue
        found += [f"line {node.lineno}: {m}" for m in modules if _is_genesys(m) and m not in PUBLIC]
    return found


def _is_genesys(module: str) -> bool:
    return module.startswith("controller.genesys.")


def _is_module(name: str) -> bool:
    return _is_genesys(name) and (ROOT / (name.replace(".", "/") + ".py")).exists()


def test_other_packages_import_only_public_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("controller", "tests", "bench", "deploy")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not any(path.is_relative_to(inside) for inside in INSIDE)
        and (found := private_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "import these from controller.genesys (add the name to its __all__)"


def test_the_check_sees_private_imports() -> None:
    assert private_imports("from controller.genesys.api import GenesysClient") == [
        "line 1: controller.genesys.api"
    ]
    assert private_imports("import controller.genesys.transport as t") == [
        "line 1: controller.genesys.transport"
    ]
    assert private_imports("from controller.genesys import api") == ["line 1: controller.genesys.api"]
    assert private_imports("from controller.genesys import GenesysClient, errors") == []
    assert private_imports("from controller.genesys.streaming import NotificationStream") == []
