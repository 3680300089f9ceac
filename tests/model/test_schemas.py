"""The JSON Schemas: valid Draft 2020-12, strict, documented, written once (schemas/), read by the package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from controller.model.schema import KINDS, schema

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "schemas").glob("*.json"))


def test_one_schema_per_kind() -> None:
    assert sorted(p.stem for p in FILES) == sorted(KINDS)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_package_reads_these_files(path: Path) -> None:
    assert (ROOT / "controller" / "schemas").resolve() == (ROOT / "schemas").resolve()  # one copy
    assert schema(path.stem) == json.loads(path.read_text("utf-8"))


def _objects(node: Any, where: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            found.append((where, node))
        for key, value in node.items():
            found += _objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects(value, f"{where}/{i}")
    return found


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_strict_and_documented(kind: str) -> None:
    document = schema(kind)
    Draft202012Validator.check_schema(document)
    for where, obj in _objects(document):
        assert obj.get("additionalProperties") is False, f"{kind}{where}: not strict"
        for name, prop in obj["properties"].items():
            assert prop.get("description"), f"{kind}{where}/{name}: no description"
