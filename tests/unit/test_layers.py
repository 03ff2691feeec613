"""The layers hold: each package imports only what docs/architecture.md allows.

core/    pure identity logic: nothing of ours outside core/ (but the shared errors module),
         no neo4j, fastapi or starlette
store/   the only code that imports neo4j; of ours only core/, errors and settings
service/ use cases: core/, store/ and the shared modules; no fastapi or starlette
api/     HTTP: service/, core/ types and the shared modules; never store/
cli/     commands: service/, core/ types and the shared modules; never store/
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "converge_graph"
SHARED = {"converge_graph", "converge_graph.errors", "converge_graph.settings",
          "converge_graph.models"}
WEB = ("fastapi", "starlette", "uvicorn")

# layer -> (our packages it may import, third-party prefixes it may not import)
RULES: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "core": ({"core", "converge_graph.errors"}, ("neo4j", *WEB)),
    "store": ({"core", "store", "converge_graph.errors", "converge_graph.settings"}, WEB),
    "service": ({"core", "store", "service", *SHARED}, ("neo4j", *WEB)),
    "api": ({"core", "service", "api", *SHARED}, ("neo4j",)),
    "cli": ({"core", "service", "cli", "api", *SHARED}, ("neo4j",)),
}


def imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)]
            if node.module == "converge_graph":
                found += [(node.lineno, f"converge_graph.{a.name}") for a in node.names
                          if not a.name.startswith("__")]
    return found


def allowed(module: str, ours: set[str]) -> bool:
    if module in ours:
        return True
    parts = module.split(".")
    return len(parts) > 1 and parts[1] in ours


def violations(layer: str) -> list[str]:
    ours, banned = RULES[layer]
    bad = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            if module.startswith("converge_graph") and not allowed(module, ours):
                bad.append(where)
            elif module.split(".")[0] in banned:
                bad.append(where)
    return bad


@pytest.mark.parametrize("layer", sorted(RULES))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    assert violations(layer) == [], "see docs/architecture.md for the layers' rules"


def test_nothing_in_api_or_cli_reaches_the_graph_past_the_service() -> None:
    reached = [f"{path.relative_to(PACKAGE.parent)}:{n}"
               for layer in ("api", "cli") for path in (PACKAGE / layer).rglob("*.py")
               for n, line in enumerate(path.read_text().splitlines(), 1) if ".graph." in line]
    assert reached == []


def test_only_the_shared_modules_sit_beside_the_layers() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "errors.py", "models.py", "settings.py"]
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"
                  ) == ["api", "cli", "core", "service", "static", "store"]


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from neo4j import Driver\nfrom converge_graph.store.graph import Graph\n")
    found = [m for _, m in imports(bad)]
    assert found == ["neo4j", "converge_graph.store.graph"]
    ours, banned = RULES["api"]
    assert not allowed("converge_graph.store.graph", ours) and "neo4j" in banned
