"""The import layers of pyproject.toml's [tool.importlinter] contract hold: no module of
`harness` imports from a layer above its own (every import counts, lazy and TYPE_CHECKING ones
included), and every module belongs to a layer."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def contract_layers() -> list[str]:
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    return contract["layers"]


def parse_layers(layers: list[str]) -> tuple[dict[str, int], set[int]]:
    """{child: layer index, 0 at the top} and the indices of layers whose siblings are
    independent (joined by `|`; `:` joins siblings that may import each other)."""
    where, independent = {}, set()
    for i, layer in enumerate(layers):
        if "|" in layer and ":" in layer:
            raise ValueError(f"layer {layer!r} mixes `|` and `:`")
        if "|" in layer:
            independent.add(i)
        for name in layer.replace("|", ":").split(":"):
            where[name.strip()] = i
    return where, independent


def imported_children(tree: ast.Module, package: str, children: set[str]) -> list[tuple[int, str]]:
    """(line, child of `package`) for every import of one of its children in a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from package import child` imports the child; `from package.child import x` too
            names = [f"{node.module}.{alias.name}" for alias in node.names] if node.module == package else [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == package and len(parts) > 1 and parts[1] in children:
                found.append((node.lineno, parts[1]))
    return found


def layer_violations(package_dir: Path, layers: list[str]) -> list[str]:
    """Every import of the package at `package_dir` that breaks `layers`, and every child module
    that no layer names, as messages naming the file, line and both layers."""
    package = package_dir.name
    children = {p.relative_to(package_dir).parts[0].removesuffix(".py") for p in package_dir.rglob("*.py")} - {"__init__"}
    where, independent = parse_layers(layers)
    problems = [f"{package}.{c}: in no layer of the contract" for c in sorted(children - set(where))]
    problems += [f"{package}.{c}: named in the contract but no such module" for c in sorted(set(where) - children)]
    for path in sorted(package_dir.rglob("*.py")):
        own = path.relative_to(package_dir).parts[0].removesuffix(".py")
        if own not in where:
            continue  # the package's own __init__, or a module reported above
        for line, child in imported_children(ast.parse(path.read_text()), package, children):
            if child == own or child not in where:
                continue
            up = where[child] < where[own]
            across = where[child] == where[own] and where[own] in independent
            if up or across:
                problems.append(
                    f"{path.relative_to(package_dir.parent)}:{line}: {package}.{own} (layer {layers[where[own]]!r}) imports "
                    f"{package}.{child} (layer {layers[where[child]]!r}), {'a layer above' if up else 'an independent sibling'}"
                )
    return problems


def test_harness_imports_only_downwards():
    assert layer_violations(ROOT / "harness", contract_layers()) == []


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A package `toy`: top -> middle (a package) -> bottom, all imports pointing down."""
    pkg = tmp_path / "toy"
    (pkg / "middle").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "top.py").write_text("import toy.middle.inner\n")
    (pkg / "middle" / "__init__.py").write_text("from toy import bottom\n")
    (pkg / "middle" / "inner.py").write_text("def f():\n    from toy.bottom import x\n")
    (pkg / "bottom.py").write_text("x = 1\n")
    return pkg


def test_a_clean_package_passes(toy: Path):
    assert layer_violations(toy, ["top", "middle", "bottom"]) == []


def test_an_upward_import_fails_naming_it(toy: Path):
    (toy / "bottom.py").write_text("x = 1\n\n\ndef g():\n    from toy.middle.inner import f\n")
    assert layer_violations(toy, ["top", "middle", "bottom"]) == [
        "toy/bottom.py:5: toy.bottom (layer 'bottom') imports toy.middle (layer 'middle'), a layer above"
    ]


def test_type_checking_and_package_imports_count(toy: Path):
    (toy / "middle" / "inner.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import top\n")
    (toy / "middle" / "__init__.py").write_text("import toy.top\n")
    assert [p.split(": ")[0] for p in layer_violations(toy, ["top", "middle", "bottom"])] == [
        "toy/middle/__init__.py:1", "toy/middle/inner.py:3",
    ]


def test_independent_siblings_and_unlisted_modules(toy: Path):
    (toy / "side.py").write_text("from toy.bottom import x\n")
    (toy / "bottom.py").write_text("from toy import side\n")
    assert layer_violations(toy, ["top", "middle", "side | bottom"]) == [
        "toy/bottom.py:1: toy.bottom (layer 'side | bottom') imports toy.side (layer 'side | bottom'), an independent sibling",
        "toy/side.py:1: toy.side (layer 'side | bottom') imports toy.bottom (layer 'side | bottom'), an independent sibling",
    ]
    assert layer_violations(toy, ["top", "middle : ghost", "bottom"]) == [
        "toy.side: in no layer of the contract",
        "toy.ghost: named in the contract but no such module",
    ]
