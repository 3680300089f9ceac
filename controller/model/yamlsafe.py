"""Safe, strict YAML: nodes with positions, YAML 1.2-like scalars, no aliases, no duplicate keys.

PyYAML's SafeLoader still expands aliases (alias bombs), keeps the last of duplicate keys and
reads YAML 1.1 scalars: `on`/`no` as booleans, `08:30` as the integer 510 (base 60) and dates as
`date` objects. Here the composer refuses anchors and aliases before any expansion, keys are
checked while building, and only `true`/`false`, `null`, decimal integers and plain floats are
typed; everything else stays a string for the schema to judge. Every value records the 1-based
line and column where it starts, so errors point at the exact place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from controller.model.errors import Diagnostic
from controller.model.types import SourceLocation

MAX_FILE_BYTES = 1024 * 1024

PathT = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Refused(yaml.MarkedYAMLError):
    def __init__(self, mark: yaml.Mark, problem: str, hint: str) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


class _NoAnchors(Composer):
    """Composes nodes only (values are built by _Builder); refuses anchors and aliases."""

    # Provided by the parser each loader mixes in (Python Parser or libyaml's CParser).
    peek_event: Callable[[], Any]
    dispose: Callable[[], None]

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                event.start_mark,  # type: ignore[arg-type]
                f"YAML alias '*{event.anchor}' is not allowed",
                "write the value out in full; anchors and aliases are refused to rule out alias bombs",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                event.start_mark,
                f"YAML anchor '&{anchor}' is not allowed",
                "write the value out in full; anchors and aliases are refused to rule out alias bombs",
            )
        return super().compose_node(parent, index)


class _StrictLoader(Reader, Scanner, Parser, _NoAnchors, BaseResolver):
    """Pure-Python scanner and parser."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseResolver.__init__(self)


_LOADERS: list[Callable[[str], _NoAnchors]] = [_StrictLoader]
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _FastStrictLoader(_NoAnchors, CParser, BaseResolver):
        """libyaml's scanner and parser (about 7x faster), the same composer and resolvers."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            BaseResolver.__init__(self)

    _LOADERS.insert(0, _FastStrictLoader)


# YAML 1.2 core schema (minus octal/hex/inf/nan, which desired state never needs).
for _resolved_tag, _pattern, _first in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        _FLOAT,
        r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9]+[eE][-+]?[0-9]+$",
        "-+.0123456789",
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
):
    for _loader in _LOADERS:
        _loader.add_implicit_resolver(_resolved_tag, re.compile(_pattern), list(_first))  # type: ignore[attr-defined]


@dataclass
class Document:
    """One YAML document: its plain value plus where every value (and mapping key) starts."""

    file: str
    value: Any
    marks: dict[PathT, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathT, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: PathT) -> SourceLocation:
        """Where the value at `path` starts (or its nearest written ancestor)."""
        for cut in range(len(path), -1, -1):
            mark = self.marks.get(path[:cut])
            if mark is not None:
                return SourceLocation(self.file, *mark)
        return SourceLocation(self.file, 1, 1)

    def key_at(self, path: PathT) -> SourceLocation:
        """Where the mapping key of `path` is written (falls back to the value)."""
        mark = self.key_marks.get(path)
        return SourceLocation(self.file, *mark) if mark else self.at(path)

    def get(self, path: PathT) -> Any:
        value = self.value
        for part in path:
            value = value[part]
        return value


def dotted(path: PathT) -> str:
    """spec.windows[1].from"""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _location(file: str, mark: yaml.Mark | None) -> SourceLocation:
    return SourceLocation(file, mark.line + 1, mark.column + 1) if mark else SourceLocation(file, 1, 1)


class _Builder:
    def __init__(self, doc: Document, diagnostics: list[Diagnostic]) -> None:
        self.doc = doc
        self.diagnostics = diagnostics

    def error(self, node: Node, message: str, hint: str, value: Any = None) -> None:
        self.diagnostics.append(Diagnostic(SourceLocation(self.doc.file, *_mark(node)), message, hint, value))

    def build(self, node: Node, path: PathT) -> Any:
        self.doc.marks[path] = _mark(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                self.error(node, f"YAML tag '{_tag(node.tag)}' is not allowed", "remove the tag")
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _mapping(self, node: MappingNode, path: PathT) -> dict[str, Any]:
        if node.tag != _MAP:
            self.error(node, f"YAML tag '{_tag(node.tag)}' is not allowed", "remove the tag")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.error(key_node, f"complex mapping key in {dotted(path)}", "keys must be plain names")
                continue
            key = str(key_node.value)
            if key in result:
                first = self.doc.key_marks[(*path, key)][0]
                self.error(
                    key_node,
                    f"duplicate key '{key}' in {dotted(path)} (first at line {first})",
                    "remove one of them; YAML would silently keep only the last",
                    key,
                )
                continue
            self.doc.key_marks[(*path, key)] = _mark(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: ScalarNode, path: PathT) -> Any:
        text = node.value
        try:
            if node.tag == _STR:
                return text
            if node.tag == _NULL:
                return None
            if node.tag == _BOOL:
                return text.lower() == "true"
            if node.tag == _INT:
                return int(text)
            if node.tag == _FLOAT:
                return float(text)
        except ValueError:
            self.error(node, f"{text!r} is not a valid {node.tag.rsplit(':', 1)[-1]}", "fix the value", text)
            return text
        self.error(
            node, f"YAML tag '{_tag(node.tag)}' is not allowed", "remove the tag; write a plain value", text
        )
        return text


def _decode(file: str, data: bytes) -> tuple[str | None, Diagnostic | None]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        return None, Diagnostic(
            SourceLocation(file, line, column),
            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        )
    return text.removeprefix("\ufeff"), None


def _char_at(text: str, where: SourceLocation) -> str:
    lines = text.split("\n")
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    return line[where.column - 1 : where.column]


def _reader_location(file: str, text: str, character: int) -> SourceLocation:
    # The C reader reports a byte offset, the Python one a character offset: find the character.
    position = max(text.find(chr(character)), 0)
    line = text.count("\n", 0, position) + 1
    return SourceLocation(file, line, position - (text.rfind("\n", 0, position) + 1) + 1)


def parse_yaml(file: str, data: bytes, *, fast: bool = True) -> tuple[list[Document], list[Diagnostic]]:
    """All non-empty documents of a file, or the reasons it cannot be read.

    `fast` uses libyaml when PyYAML has it; positions and refusals are the same either way.
    """
    if len(data) > MAX_FILE_BYTES:
        return [], [
            Diagnostic(
                SourceLocation(file, 1, 1),
                f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES} (1 MiB)",
                "split it into several files",
                len(data),
            )
        ]
    text, problem = _decode(file, data)
    if text is None:
        return [], [problem] if problem else []
    documents: list[Document] = []
    diagnostics: list[Diagnostic] = []
    loader: _NoAnchors | None = None
    try:
        loader = (_LOADERS[0] if fast else _StrictLoader)(text)
        for node in _nodes(loader):
            doc = Document(file, None)
            doc.value = _Builder(doc, diagnostics).build(node, ())
            if doc.value is not None:
                documents.append(doc)
    except _Refused as exc:
        return [], [Diagnostic(_location(file, exc.problem_mark), str(exc.problem), exc.hint)]
    except yaml.MarkedYAMLError as exc:
        where = _location(file, exc.problem_mark)
        if _char_at(text, where) == "\t":
            tab = Diagnostic(where, "YAML syntax error: a tab character", "indent with spaces, never tabs")
            return [], [tab]
        context = f" {exc.context}" if exc.context else ""
        return [], [
            Diagnostic(
                where,
                f"YAML syntax error: {exc.problem}{context}",
                "check indentation, quoting and ':' after keys",
            )
        ]
    except yaml.reader.ReaderError as exc:
        return [], [
            Diagnostic(
                _reader_location(file, text, exc.character),
                f"character U+{exc.character:04X} is not allowed in YAML",
                "remove the control character",
            )
        ]
    except RecursionError:
        return [], [
            Diagnostic(SourceLocation(file, 1, 1), "YAML nesting is too deep", "flatten the document")
        ]
    finally:
        if loader is not None:
            loader.dispose()
    return documents, diagnostics


def _nodes(loader: _NoAnchors) -> Iterator[Node]:
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node
