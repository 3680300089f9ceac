"""The strict YAML reader: positions, YAML 1.2 scalars, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.model.yamlsafe import MAX_FILE_BYTES, parse_yaml


def test_values_keep_their_positions_and_yaml11_traps_stay_strings() -> None:
    (doc,), problems = parse_yaml("f.yaml", b"a: 08:30\nb: on\nc: 2026-12-25\nd: [1, 2.5, true, null, 010]\n")
    assert problems == []
    assert doc.value == {"a": "08:30", "b": "on", "c": "2026-12-25", "d": [1, 2.5, True, None, "010"]}
    assert doc.marks[("d", 1)] == (4, 8)
    assert doc.key_marks[("c",)] == (3, 1)
    assert str(doc.at(("d", 4))) == "f.yaml:4:25"
    assert str(doc.at(("d", 9, "x"))) == "f.yaml:4:4"  # missing paths fall back to the nearest ancestor


def test_multiple_documents_and_empty_ones() -> None:
    docs, problems = parse_yaml("f.yaml", b"---\na: 1\n---\n---\nb: 2\n...\n")
    assert problems == []
    assert [d.value for d in docs] == [{"a": 1}, {"b": 2}]
    assert docs[1].marks[("b",)] == (5, 4)


def test_byte_order_mark_is_accepted() -> None:
    (doc,), problems = parse_yaml("f.yaml", b"\xef\xbb\xbfa: 1\n")
    assert problems == [] and doc.value == {"a": 1} and doc.marks[("a",)] == (1, 4)


def test_alias_bomb_is_refused_before_expansion() -> None:
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(20)
    )
    docs, (problem,) = parse_yaml("bomb.yaml", bomb)
    assert docs == []
    assert str(problem) == (
        "bomb.yaml:1:4: error: YAML anchor '&a' is not allowed "
        "(write the value out in full; anchors and aliases are refused to rule out alias bombs)"
    )


def test_file_over_one_mebibyte_is_refused_unread() -> None:
    data = b"# " + b"x" * MAX_FILE_BYTES + b"\n"
    docs, (problem,) = parse_yaml("big.yaml", data)
    assert docs == []
    assert problem.message == f"file is {len(data)} bytes; the limit is 1048576 (1 MiB)"
    assert (problem.location.line, problem.location.column) == (1, 1)


def test_exactly_one_mebibyte_is_read() -> None:
    line = b"# padding\n"
    data = b"a: 1\n" + line * ((MAX_FILE_BYTES - 5) // len(line))
    data += b"#" * (MAX_FILE_BYTES - len(data))
    assert len(data) == MAX_FILE_BYTES
    (doc,), problems = parse_yaml("f.yaml", data)
    assert problems == [] and doc.value == {"a": 1}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("depth", [500, 200_000])
def test_deep_nesting_is_refused(fast: bool, depth: int) -> None:
    docs, (problem,) = parse_yaml("deep.yaml", b"[" * depth + b"]" * depth, fast=fast)
    assert docs == [] and "nesting" in problem.message


BAD = sorted((Path(__file__).parent / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD, ids=[p.name for p in BAD])
def test_libyaml_and_python_parsers_agree(path: Path) -> None:
    """Same values, positions and problem locations with libyaml (fast) and pure Python."""
    fast_docs, fast_problems = parse_yaml(path.name, path.read_bytes(), fast=True)
    slow_docs, slow_problems = parse_yaml(path.name, path.read_bytes(), fast=False)
    assert [(d.value, d.marks, d.key_marks) for d in fast_docs] == [
        (d.value, d.marks, d.key_marks) for d in slow_docs
    ]
    assert [p.location for p in fast_problems] == [p.location for p in slow_problems]


def test_duplicate_keys_in_nested_mappings_are_each_reported() -> None:
    _, problems = parse_yaml("f.yaml", b"a:\n  x: 1\n  x: 2\nb: {y: 1, y: 2}\n")
    assert [str(p.location) for p in problems] == ["f.yaml:3:3", "f.yaml:4:11"]
    assert problems[0].message == "duplicate key 'x' in a (first at line 2)"


def test_non_utf8_position_counts_characters() -> None:
    _, (problem,) = parse_yaml(
        "f.yaml", "a: 1\nb: café \xff\n".encode("utf-8", "surrogateescape")[:-2] + b"\xff\n"
    )
    assert str(problem.location) == "f.yaml:2:9"


@pytest.mark.parametrize("fast", [True, False])
def test_columns_count_characters_not_bytes(fast: bool) -> None:
    (doc,), _ = parse_yaml("f.yaml", "a: {x: é😀, y: 1}\nb: [😀, z]\n".encode(), fast=fast)
    assert doc.marks[("a", "y")] == (1, 15) and doc.marks[("b", 1)] == (2, 8)
