"""JSON Schema validation of one document, with errors mapped to file:line:column.

The schemas are written once, in the top-level `schemas/` (for readers and editors); the package
reads them as package data through `controller/schemas`, a link to that directory, and wheels
(hence the image) hold them as files.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from controller.model.errors import Diagnostic
from controller.model.yamlsafe import Document, PathT, dotted

API_VERSION = "presencectl.io/v1"
KINDS = ("PresencePolicy", "PresenceMapping", "EventSubscription", "ControllerConfig")
REDACTED = "<redacted>"


@cache
def schema(kind: str) -> dict[str, Any]:
    text = resources.files("controller").joinpath("schemas", f"{kind}.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    options = list(choices)
    folded = {c.casefold(): c for c in options}
    if word.casefold() in folded:
        return folded[word.casefold()]
    # A word written short ('grace' for 'graceSeconds') is too short for difflib's ratio.
    prefixed = [c for c in options if len(word) >= 4 and c.casefold().startswith(word.casefold())]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return close[0] if close else None


def choice_hint(word: str, choices: Iterable[str], what: str = "expected one of") -> str:
    options = list(choices)
    guess = did_you_mean(word, options)
    listed = f"{what}: {', '.join(options)}"
    return f"did you mean '{guess}'? {listed}" if guess else listed


def shown(value: Any) -> Any:
    """The offending value for a diagnostic: scalars as written, containers left out."""
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value if value is None or isinstance(value, str | int | float | bool) else None


def check_document(doc: Document) -> tuple[str | None, list[Diagnostic]]:
    """The document's kind (None when unusable) and its schema errors."""
    value = doc.value
    if not isinstance(value, dict):
        return None, [
            Diagnostic(
                doc.at(()),
                "a document must be a mapping with apiVersion, kind, metadata and spec",
                f"start from: apiVersion: {API_VERSION}",
                shown(value),
            )
        ]
    kind = value.get("kind")
    if kind is None:
        return None, [
            Diagnostic(doc.at(()), "missing required field 'kind'", f"add kind: one of {', '.join(KINDS)}")
        ]
    if not isinstance(kind, str) or kind not in KINDS:
        return None, [
            Diagnostic(
                doc.at(("kind",)), f"unknown kind {kind!r}", choice_hint(str(kind), KINDS), shown(kind)
            )
        ]
    secrets = _inline_secrets(doc) if kind == "ControllerConfig" else []
    hidden = [path for path, _ in secrets]
    found: dict[tuple[str, int, int, str], Diagnostic] = {}
    for error in _validator(kind).iter_errors(value):
        for path, diagnostic in _diagnostics(doc, error):
            if any(path[: len(h)] == h for h in hidden):
                continue  # never echo a secret; the inline-secret error says what to do
            found.setdefault(diagnostic.sort_key(), diagnostic)
    return kind, [d for _, d in secrets] + list(found.values())


def without_unknown_fields(doc: Document, kind: str) -> Document | None:
    """`doc` without the fields its schema does not know when those are its only schema errors,
    so its other checks run in the same pass; None when anything else is wrong with it."""
    unknown: list[PathT] = []
    for error in _validator(kind).iter_errors(doc.value):
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            return None
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unknown += [(*error.absolute_path, key) for key in error.instance if key not in allowed]
    value = copy.deepcopy(doc.value)
    for path in unknown:
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        parent.pop(path[-1], None)
    if any(True for _ in _validator(kind).iter_errors(value)):
        return None
    return replace(doc, value=value)


def _inline_secrets(doc: Document) -> list[tuple[PathT, Diagnostic]]:
    """Secret values written into ControllerConfig: an error, reported without the value."""
    spec = doc.value.get("spec")
    if not isinstance(spec, dict):
        return []
    found: list[tuple[PathT, Diagnostic]] = []

    def report(path: PathT, value: Any) -> None:
        found.append(
            (
                path,
                Diagnostic(
                    doc.at(path),
                    f"inline secret in {dotted(path)}: secrets are never written in desired state",
                    "reference it instead: webhookSecret: {env: VARIABLE} or webhookSecret: {file: /path}",
                    REDACTED,
                    secret=value if isinstance(value, str) else None,
                ),
            )
        )

    def walk(node: Any, path: PathT) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                sub = (*path, key)
                if path == ("spec", "webhookSecret"):
                    if key not in ("env", "file") and not isinstance(item, dict | list):
                        report(sub, item)
                elif any(
                    word in key.casefold() for word in ("secret", "password", "token")
                ) and not isinstance(item, dict | list):
                    report(sub, item)
                else:
                    walk(item, sub)

    walk(spec, ("spec",))
    return found


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _diagnostics(doc: Document, error: ValidationError) -> list[tuple[PathT, Diagnostic]]:
    path: PathT = tuple(error.absolute_path)
    field = dotted(path)
    rule = error.validator
    sub: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    described = str(sub.get("description", ""))
    instance = error.instance

    if "propertyNames" in error.relative_schema_path:
        key_path = (*path, str(instance))
        return [
            (
                key_path,
                Diagnostic(doc.key_at(key_path), f"invalid key {instance!r} in {field}", described, instance),
            )
        ]
    if rule == "additionalProperties":
        allowed = list(sub.get("properties", {}))
        out = []
        for key in instance if isinstance(instance, dict) else ():
            if key in allowed:
                continue
            key_path = (*path, key)
            hint = choice_hint(key, allowed, "allowed fields") if allowed else "remove it"
            out.append(
                (key_path, Diagnostic(doc.key_at(key_path), f"unknown field '{key}' in {field}", hint, key))
            )
        return out
    if rule == "required":
        props = sub.get("properties", {})
        out = []
        for name in _listed(error.validator_value):
            if isinstance(instance, dict) and name not in instance:
                what = props.get(name, {}).get("description", "")
                hint = f"add {name}: {what}" if what else f"add {name}"
                out.append(
                    (
                        (*path, name),
                        Diagnostic(doc.at(path), f"missing required field '{name}' in {field}", hint),
                    )
                )
        return out
    location = doc.at(path)
    value = shown(instance)
    if rule == "const":
        message = f"{field} must be {error.validator_value!r}, not {instance!r}"
        return [(path, Diagnostic(location, message, described, value))]
    if rule == "enum":
        options = [str(o) for o in _listed(error.validator_value)]
        return [
            (
                path,
                Diagnostic(
                    location,
                    f"invalid value {instance!r} for {field}",
                    choice_hint(str(instance), options),
                    value,
                ),
            )
        ]
    if rule == "type":
        expected = " or ".join(str(t) for t in _listed(error.validator_value))
        got = type(instance).__name__ if instance is not None else "null"
        message = f"{field} must be of type {expected}, not {got}"
        hint = described
        if expected == "string" and isinstance(instance, int | float | bool):
            quoted = f'quote the value: "{instance}"'
            hint = f"{quoted}; {described}" if described else quoted
        return [(path, Diagnostic(location, message, hint, value))]
    if rule == "pattern":
        return [(path, Diagnostic(location, f"invalid {field} {instance!r}", described, value))]
    if rule in ("minProperties", "maxProperties") and path[-1:] == ("webhookSecret",):
        return [(path, Diagnostic(location, f"{field} needs exactly one of env or file", described, None))]
    if rule in ("minItems", "minProperties") and not instance:
        return [
            (
                path,
                Diagnostic(location, f"{field} must not be empty", f"remove it or add entries; {described}"),
            )
        ]
    if rule == "uniqueItems":
        return [(path, Diagnostic(location, f"{field} lists an entry twice", "remove the duplicate", None))]
    # minimum, maximum, exclusiveMinimum, minLength, maxLength, ...: jsonschema's own words are clear.
    return [(path, Diagnostic(location, f"{field}: {error.message}", described, value))]
