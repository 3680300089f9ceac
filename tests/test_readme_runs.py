"""The README is executable: every `sh` block, in order, works when followed literally.

How it runs (so that a failure points at a README line):
- a fresh temporary directory holds a copy of `desired/` and links to the checkout's `.venv`,
  `Makefile` and `pyproject.toml`, as a fresh clone after `make test` would;
- the fixed ports the README uses are replaced by free ones: `8080` (the emulator) and `9464`
  (the daemon's HTTP port, also in the copied `desired/controller.yaml`), so the test never
  collides with anything on the machine;
- `make test` is not run (it is this very suite); `make demo`, which runs until Ctrl-C, is
  started, waited for until it reports its daemon, and stopped with SIGINT like Ctrl-C;
- every other command runs in order in one bash session (exports carry over), commands ending
  in `&` stay in the background until the end, then get SIGTERM;
- a command fails the test when its exit status differs from the one the README announces: 0,
  unless its comment starts with `exit N` (e.g. `presencectl plan desired/  # exit 1 here: ...`);
- a ```text block right after an `sh` block is that block's output: each of its lines must appear
  in order in what the block printed (`...` stands for any text).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
PORTS = ("8080", "9464")  # emulator, daemon HTTP: as the README and desired/controller.yaml write them
NOT_RUN = {"make test": "the test suite itself"}
UNTIL_CTRL_C = {"make demo": "daemon    desired"}  # foreground until Ctrl-C: the line that says it runs


@dataclass(frozen=True)
class Command:
    block: int
    text: str
    expected: int


@dataclass(frozen=True)
class Block:
    index: int
    commands: tuple[Command, ...]
    output: str | None  # the ```text block that follows it, if any


def _comment(line: str) -> str:
    """The trailing `# comment` of a shell line (outside quotes), or ''."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[i + 1 :]
    return ""


def blocks(text: str) -> list[Block]:
    found = list(re.finditer(r"```(\w*)\n(.*?)```\n", text, re.S))
    out: list[Block] = []
    for n, match in enumerate(found):
        if match.group(1) != "sh":
            continue
        following = found[n + 1] if n + 1 < len(found) else None
        shown = (
            following.group(2)
            if following is not None
            and following.group(1) == "text"
            and following.start() - match.end() < 200
            else None
        )
        logical = re.sub(r"\\\n", "\\\n", match.group(2)).split("\n")
        commands, pending = [], ""
        for line in logical:
            pending += line + "\n"
            if line.endswith("\\"):
                continue
            command, pending = pending.strip(), ""
            if command and not command.startswith("#"):
                announced = re.match(r"\s*exit (\d+)", _comment(command.splitlines()[-1]))
                commands.append(Command(len(out), command, int(announced.group(1)) if announced else 0))
        out.append(Block(len(out), tuple(commands), shown))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_clone(tmp: Path, ports: dict[str, str]) -> None:
    shutil.copytree(ROOT / "desired", tmp / "desired")
    config = tmp / "desired" / "controller.yaml"
    config.write_text(_with_ports(config.read_text(), ports))
    (tmp / ".venv").symlink_to(ROOT / ".venv")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copyfile(ROOT / name, tmp / name)
        os.utime(tmp / name, (0, 0))  # older than the venv's stamp: make never reinstalls from here
    # A reinstall from this directory would point the shared venv's editable install at it.
    up_to_date = subprocess.run(["make", "-q", ".venv/.installed"], cwd=tmp, capture_output=True)
    assert up_to_date.returncode == 0, "the venv is not up to date: run `make test` from the checkout"


def _with_ports(text: str, ports: dict[str, str]) -> str:
    for fixed, free in ports.items():
        text = re.sub(rf"\b{fixed}\b", free, text)
    return text


def environment() -> dict[str, str]:
    """A user's shell: no project variables, no virtualenv on PATH."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GENESYS_", "PRESENCECTL_", "VIRTUAL_ENV"))
    }
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return env


def run_until_ctrl_c(command: str, ready: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = subprocess.Popen(
        ["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if ready in line:
                break
        else:
            raise AssertionError(f"README: `{command}` ended before printing {ready!r}:\n{''.join(seen)}")
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        seen.append(process.stdout.read())
        return process.wait(timeout=60), "".join(seen)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def script(all_blocks: list[Block]) -> tuple[str, list[Command]]:
    """One bash script running every command in order, checking each exit status."""
    lines = [
        '__check() { if [ "$2" -ne "$3" ]; then echo "__failed $1 $2" >&2; kill $(jobs -p) 2>/dev/null;'
        " exit 90; fi; }"
    ]
    checked: list[Command] = []
    for block in all_blocks:
        lines.append(f"echo __block {block.index}")
        for command in block.commands:
            if any(command.text.startswith(k) for k in (*NOT_RUN, *UNTIL_CTRL_C)):
                continue
            lines += [command.text, f"__check {len(checked)} $? {command.expected}"]
            checked.append(command)
    lines += ["echo __block end", "kill $(jobs -p) 2>/dev/null", "wait"]
    return "\n".join(lines) + "\n", checked


def _appears_in_order(shown: str, printed: str) -> list[str]:
    """Lines of `shown` (with `...` as a wildcard) that do not appear, in order, in `printed`."""
    missing, at = [], 0
    for line in shown.strip().splitlines():
        fragments = [f for f in line.split("...") if f.strip()]
        start = at
        for fragment in fragments:
            found = printed.find(fragment.strip(), start)
            if found < 0:
                missing.append(line)
                break
            start = found + len(fragment.strip())
        else:
            at = start
    return missing


@pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("openssl") is None, reason="needs curl, openssl"
)
def test_every_sh_block_of_the_readme_runs_as_written(tmp_path: Path) -> None:
    all_blocks = blocks(README)
    ports = {fixed: str(free_port()) for fixed in PORTS}
    fresh_clone(tmp_path, ports)
    env = environment()
    for block in all_blocks:  # the foreground-until-Ctrl-C commands (make demo) come first
        for command in block.commands:
            ready = next((r for k, r in UNTIL_CTRL_C.items() if command.text.startswith(k)), None)
            if ready is not None:
                code, printed = run_until_ctrl_c(command.text, ready, tmp_path, env)
                # make itself dies of the SIGINT; what it ran must have stopped cleanly.
                assert code in (0, -signal.SIGINT), f"README: `{command.text}` exited {code} on Ctrl-C"
                assert "stopped" in printed.splitlines()[-1], printed[-2000:]
    text, checked = script(all_blocks)
    (tmp_path / "readme.sh").write_text(_with_ports(text, ports))
    process = subprocess.Popen(
        ["bash", "readme.sh"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    failed = re.search(r"^__failed (\d+) (\d+)$", err, re.M)
    if failed:
        command = checked[int(failed.group(1))]
        raise AssertionError(
            f"README block {command.block}: `{command.text}` exited {failed.group(2)}, "
            f"the README announces {command.expected}\n--- stdout\n{out[-3000:]}\n--- stderr\n{err[-3000:]}"
        )
    assert process.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    by_block = dict(re.findall(r"^__block (\d+)\n(.*?)(?=^__block )", out, re.M | re.S))
    for block in all_blocks:
        if block.output is not None:
            missing = _appears_in_order(_with_ports(block.output, ports), by_block.get(str(block.index), ""))
            assert not missing, f"README block {block.index} did not print:\n" + "\n".join(missing)


def test_the_readme_starts_with_the_two_set_up_commands() -> None:
    first = blocks(README)[0]
    assert [c.text.split("#")[0].strip() for c in first.commands] == ["make demo", "make test"]
