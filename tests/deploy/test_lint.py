"""deploy/lint.py (run by `make lint`) finds what it is there to find: on a copy of the repository's
deploy files, each kind of mistake is reported by the check (and real tool) meant to catch it."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tests.deploy.conftest import ROOT


def _load_lint() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_lint", ROOT / "deploy" / "lint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The lint module pointed at a copy of the files it checks."""
    for name in ("deploy", "desired", "examples"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("Dockerfile", "kustomization.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    module = _load_lint()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "KUBERNETES", tmp_path / "deploy" / "kubernetes")
    monkeypatch.setattr(module, "SHARDED", tmp_path / "deploy" / "kubernetes-sharded")
    monkeypatch.setattr(module, "ALERTS", tmp_path / "deploy" / "prometheus" / "alerts.yaml")
    monkeypatch.setattr(module, "PROMETHEUSRULE", tmp_path / "deploy" / "kubernetes" / "prometheusrule.yaml")
    monkeypatch.setattr(module, "UNIT", tmp_path / "deploy" / "systemd" / "presencectl.service")
    monkeypatch.setattr(module, "WORKFLOWS", tmp_path / "examples" / "github-actions")
    return module


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _problems(lint: ModuleType, check: str) -> list[str]:
    findings = lint.Findings()
    getattr(lint, check)(findings)
    return list(findings.problems)


UNIT = "deploy/systemd/presencectl.service"
MISTAKES: dict[str, tuple[str, Callable[[Path], object], str]] = {
    "the image runs as root": (
        "check_dockerfile",
        lambda root: _edit(root / "Dockerfile", "USER 10001:10001", "USER root"),
        "DL3002",
    ),
    "a misspelt Deployment field": (
        "check_kubernetes",
        lambda root: _edit(
            root / "deploy/kubernetes/deployment.yaml",
            "terminationGracePeriodSeconds",
            "terminationGrace",
        ),
        "terminationGrace",
    ),
    "a manifest left out of the kustomization": (
        "check_kubernetes",
        lambda root: _edit(root / "deploy/kubernetes/kustomization.yaml", "  - networkpolicy.yaml\n", ""),
        "does not list networkpolicy.yaml",
    ),
    "a desired/ file missing from the ConfigMap": (
        "check_kubernetes",
        lambda root: shutil.copy(root / "desired/mapping-wfm.yaml", root / "desired/mapping-more.yaml"),
        "lacks desired/mapping-more.yaml",
    ),
    "a RoleBinding to another service account": (
        "check_kubernetes",
        lambda root: _edit(
            root / "deploy/kubernetes/rolebinding.yaml", "name: presencectl\n", "name: other\n"
        ),
        "ServiceAccount presencectl lacks",
    ),
    "a Lease Role without list and watch": (
        "check_kubernetes",
        lambda root: _edit(root / "deploy/kubernetes/role.yaml", "get, list, watch, create", "get, create"),
        "lacks ['list', 'watch'] on coordination.k8s.io leases",
    ),
    "a misspelt field in the sharded StatefulSet": (
        "check_kubernetes",
        lambda root: _edit(
            root / "deploy/kubernetes-sharded/statefulset.yaml", "podManagementPolicy", "podManagement"
        ),
        "podManagement",
    ),
    "a PrometheusRule behind alerts.yaml": (
        "check_kubernetes",
        lambda root: _edit(root / "deploy/prometheus/alerts.yaml", "for: 5m", "for: 6m"),
        "spec.groups differ",
    ),
    "a systemd unit without ProtectSystem=strict": (
        "check_systemd",
        lambda root: _edit(root / UNIT, "ProtectSystem=strict\n", ""),
        "ProtectSystem=strict expected",
    ),
    "a misspelt systemd setting": (
        "check_systemd",
        lambda root: _edit(
            root / "deploy/systemd/presencectl.service", "RestrictRealtime=", "RestrictRealtme="
        ),
        "Unknown key 'RestrictRealtme'",
    ),
    "a workflow key GitHub does not know": (
        "check_workflows",
        lambda root: _edit(root / "examples/github-actions/presencectl-plan.yaml", "runs-on:", "run-on:"),
        "examples/github-actions",
    ),
}


@pytest.mark.parametrize(
    "check", ["check_dockerfile", "check_kubernetes", "check_systemd", "check_workflows"]
)
def test_the_repository_files_pass(lint: ModuleType, check: str) -> None:
    assert _problems(lint, check) == []


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_found(lint: ModuleType, mistake: str) -> None:
    check, make, expected = MISTAKES[mistake]
    make(lint.ROOT)
    problems = _problems(lint, check)
    assert any(expected in p for p in problems), problems
