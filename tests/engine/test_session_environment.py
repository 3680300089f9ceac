"""$PRESENCECTL_HTTP_BIND: where the process runs decides the listen address (the image sets it)."""

from __future__ import annotations

from controller.engine.session import with_environment
from controller.model.types import ControllerConfig, DesiredState


def test_the_environment_overrides_http_bind_and_nothing_else() -> None:
    state = DesiredState(config=ControllerConfig(http_bind="127.0.0.1:9464", audit_path="audit/a.jsonl"))
    moved = with_environment(state, {"PRESENCECTL_HTTP_BIND": "0.0.0.0:9464"})
    assert moved.config.http_bind == "0.0.0.0:9464"
    assert moved.config.audit_path == "audit/a.jsonl" and moved.policies == state.policies


def test_unset_or_blank_leaves_desired_in_charge() -> None:
    state = DesiredState(config=ControllerConfig(http_bind="127.0.0.1:9464"))
    assert with_environment(state, {}) is state
    assert with_environment(state, {"PRESENCECTL_HTTP_BIND": " "}) is state
