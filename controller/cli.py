"""Command line: argument parsing only. Each command lives in its own module, imported lazily
so that `presencectl validate` does not pay for the emulator or the engine."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")
# Commands a person runs at a terminal: there, logs are quiet human lines unless asked for.
INTERACTIVE = frozenset({"validate", "plan", "apply", "audit", "simulate", "adherence"})

DESCRIPTION = """\
Keep agent presence in Genesys Cloud as desired/ says: commit YAML saying what presence each
agent should have over time, which rules apply and which event subscriptions must exist;
presencectl plans the corrections, applies them under one rate budget and audits every change.

typical use:
  presencectl validate desired/          check the files (exit 0 valid, 2 invalid)
  presencectl plan desired/              what would change (exit 0 none, 1 changes, 2 error)
  presencectl apply desired/             make one reconcile pass (asks first on a terminal)
  presencectl run desired/               the daemon: reconcile until SIGTERM
  presencectl audit --agent EMAIL        what was written, when and why

Connection settings come from flags or GENESYS_* variables (flags win); the OAuth client from
GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET or --client-id-file / --client-secret-file.
`presencectl emulator` serves a Genesys Cloud emulator to try all of this without an org.
"""

EPILOG = "Run `presencectl COMMAND --help` for a command's options. Documentation: README.md."

# command name -> "module:function"; the function takes the parsed namespace and returns the exit code.
_HANDLERS = {
    "emulator": "controller.commands.emulator:run",
    "validate": "controller.commands.validate:run",
    "plan": "controller.commands.reconcile:run_plan",
    "apply": "controller.commands.reconcile:run_apply",
    "run": "controller.commands.reconcile:run_daemon",
    "audit": "controller.commands.audit:run",
    "adherence": "controller.commands.adherence:run",
    "demo": "controller.commands.demo:run",
    "simulate": "controller.commands.simulate:run",
}


_Commands = argparse._SubParsersAction  # the type of add_subparsers()'s result


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks; every option with a meaningful default says it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS, [])
        if shown and "%(default)" not in text and "default:" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def _parser(sub: _Commands[argparse.ArgumentParser], name: str, text: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name, help=text, description=text[0].upper() + text[1:] + ".", formatter_class=_HelpFormatter
    )


def _add_logging_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """On the top-level parser (with defaults) and again on every command (without, so an option
    given after the command name counts and one given before it is not reset)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("logging (stderr)")
    group.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=default(os.environ.get("PRESENCECTL_LOG_LEVEL") or None),
        help=f"the least severe records shown, one of {', '.join(LOG_LEVELS)} (default: "
        "$PRESENCECTL_LOG_LEVEL, else WARNING for "
        "validate/plan/apply/audit/simulate/adherence on a terminal, else INFO)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default(0),
        help="more log detail: -v shows INFO, -vv DEBUG (when --log-level is not given)",
    )
    group.add_argument(
        "--log-format",
        metavar="FORMAT",
        default=default(os.environ.get("PRESENCECTL_LOG_FORMAT") or None),
        help="json (one JSON object a line, what log collectors read) or text (one readable line) "
        "(default: $PRESENCECTL_LOG_FORMAT, else text for those commands on a terminal, else json; "
        "the daemon logs JSON)",
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach Genesys Cloud (or the emulator); flags override the environment."""
    group = parser.add_argument_group("connection (flags override GENESYS_* environment variables)")
    group.add_argument(
        "--region",
        default=os.environ.get("GENESYS_REGION"),
        help="Genesys Cloud region, e.g. us_east_1, eu_west_1 (default: $GENESYS_REGION, else desired/'s "
        "ControllerConfig)",
    )
    group.add_argument(
        "--api-base",
        default=os.environ.get("GENESYS_API_BASE"),
        help="API base URL, e.g. an emulator's http://127.0.0.1:8080 (default: $GENESYS_API_BASE, else "
        "from the region)",
    )
    group.add_argument(
        "--login-base",
        default=os.environ.get("GENESYS_LOGIN_BASE"),
        help="OAuth login base URL (default: $GENESYS_LOGIN_BASE, else from the region)",
    )
    group.add_argument(
        "--client-id-file",
        metavar="FILE",
        help="file holding the OAuth client id, e.g. a Kubernetes secret (default: $GENESYS_CLIENT_ID)",
    )
    group.add_argument(
        "--client-secret-file",
        metavar="FILE",
        help="file holding the OAuth client secret (default: $GENESYS_CLIENT_SECRET)",
    )
    group.add_argument(
        "--rate-per-minute",
        type=int,
        metavar="N",
        help="shared request budget per minute (default: desired/'s ControllerConfig, else 300)",
    )


def add_placement_options(parser: argparse.ArgumentParser, *, http: bool) -> None:
    """Where this process keeps its state and listens: the machine decides, not desired/, so one
    Git repository serves a laptop and a container (flags win over the environment, which wins
    over desired/'s ControllerConfig)."""
    group = parser.add_argument_group("where it runs (override desired/'s ControllerConfig)")
    group.add_argument(
        "--audit-path",
        metavar="FILE",
        help="the audit log (default: $PRESENCECTL_AUDIT_PATH, else audit.path, else audit/audit.jsonl)",
    )
    group.add_argument(
        "--database",
        metavar="FILE",
        help="the adherence timeline database (default: $PRESENCECTL_DATABASE, else adherence.path, "
        "else adherence.sqlite next to the audit log)",
    )
    if http:
        group.add_argument(
            "--http-bind",
            metavar="HOST:PORT",
            help="/metrics, /healthz, /status and the webhook (default: $PRESENCECTL_HTTP_BIND, else "
            "http.bind, else 127.0.0.1:9464; 0.0.0.0:9464 in a container)",
        )


def _add_emulator(sub: _Commands[argparse.ArgumentParser]) -> None:
    emu = _parser(sub, "emulator", "serve the Genesys Cloud emulator until SIGTERM")
    emu.add_argument("--host", default="127.0.0.1", help="address to listen on")
    emu.add_argument("--port", type=int, default=0, help="API port; 0 picks a free port")
    emu.add_argument(
        "--download-port", type=int, default=0, help="port of the download host (result URLs); 0: free"
    )
    emu.add_argument("--org", metavar="FILE", help="org fixture file (YAML or JSON) (default: generated)")
    emu.add_argument("--agents", type=int, default=200, help="agents in the generated org")
    emu.add_argument("--seed", type=int, default=1, help="generator seed")
    emu.add_argument(
        "--no-shows",
        type=float,
        default=None,
        help="share of scheduled shifts whose agent never logs in (generated org; default: 0.05)",
    )
    emu.add_argument("--client-id", default="presencectl-demo", help="OAuth client id the emulator accepts")
    emu.add_argument(
        "--client-secret", default="presencectl-demo-secret", help="OAuth client secret the emulator accepts"
    )
    emu.add_argument(
        "--extra-client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="another OAuth client of the org (repeatable; e.g. one per replica of a sharded deployment)",
    )
    emu.add_argument("--rate-limit", type=int, default=300, help="requests per minute per client")
    emu.add_argument(
        "--initial-adherence",
        type=float,
        help="share (0..1) of on-shift agents that start in their scheduled presence (default: none)",
    )


def _add_reconcile(sub: _Commands[argparse.ArgumentParser]) -> None:
    for name, text in (
        ("plan", "show what would change (exit 0 none, 1 changes, 2 error)"),
        ("apply", "reconcile once and print what was done (exit 0 all done, 1 something not written)"),
        ("run", "run the reconcile daemon until SIGTERM"),
    ):
        cmd = _parser(sub, name, text)
        if name == "apply":
            cmd.add_argument(
                "directory",
                metavar="DIR|PLANFILE",
                help="desired/ directory, or a plan saved by `plan --out` (applies exactly that plan)",
            )
        else:
            cmd.add_argument("directory", metavar="DIR", help="the desired/ directory")
        if name == "plan":
            cmd.add_argument(
                "--output",
                choices=["text", "json", "markdown"],
                default="text",
                help="json: for programs (with the format's `version`); markdown: a pull-request comment "
                "(summary first, long tables folded)",
            )
            cmd.add_argument(
                "--out",
                metavar="FILE",
                help="also save the plan to FILE, for `presencectl apply FILE` to apply exactly it",
            )
        if name in ("plan", "apply"):
            cmd.add_argument(
                "--allow-blast-radius",
                metavar="N%%|N",
                help="this run only: let the plan change up to N%% of the managed agents (or N agents) "
                "instead of the configured blastRadius",
            )
            cmd.add_argument(
                "--policy", metavar="NAME", help="only the agents of this PresencePolicy (no triggers)"
            )
            cmd.add_argument(
                "--progress",
                action="store_true",
                help="report progress on stderr when it takes more than 2 s (default: only on a terminal)",
            )
        if name == "apply":
            cmd.add_argument(
                "-y",
                "--yes",
                action="store_true",
                help="do not ask for confirmation (on a terminal, apply shows the plan and asks first; "
                "elsewhere it never asks)",
            )
        if name in ("apply", "run"):
            add_placement_options(cmd, http=name == "run")
        add_connection_options(cmd)
        _add_logging_options(cmd, defaults=False)


def _add_simulate(sub: _Commands[argparse.ArgumentParser]) -> None:
    sim = _parser(
        sub, "simulate", "what a desired/ set would do over one day of published schedules (never writes)"
    )
    sim.add_argument("directory", metavar="DIR", help="the desired/ directory")
    sim.add_argument("--date", required=True, help="the day to simulate, YYYY-MM-DD (local to --timezone)")
    sim.add_argument("--compare", metavar="OTHER_DIR", help="another desired/ set to compare agent by agent")
    sim.add_argument("--output", choices=["table", "json", "svg"], default="table", help="the report's form")
    sim.add_argument("--timezone", help="IANA zone of the hours (default: the zone of most managed agents)")
    add_connection_options(sim)
    _add_logging_options(sim, defaults=False)


def _add_audit(sub: _Commands[argparse.ArgumentParser]) -> None:
    from controller.commands.audit import AUDIT_PATH_ENV, default_path

    aud = _parser(sub, "audit", "read the audit log, sorted by time")
    aud.add_argument(
        "--path",
        default=default_path(),
        metavar="FILE",
        help=f"the audit log the daemon writes (audit.path of desired/'s ControllerConfig; default: "
        f"${AUDIT_PATH_ENV}, else %(default)s)",
    )
    aud.add_argument("--agent", help="only this agent: user id or email")
    aud.add_argument("--policy", metavar="NAME", help="only records of this PresencePolicy")
    aud.add_argument("--since", metavar="TIME", help="only records at or after this ISO-8601 time")
    aud.add_argument("--until", metavar="TIME", help="only records before this ISO-8601 time")
    aud.add_argument("--limit", type=int, metavar="N", help="only the N most recent matching records")
    aud.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="then keep printing new records as they are written (Ctrl-C stops)",
    )
    aud.add_argument("--output", choices=["text", "json"], default="text", help="json: one record a line")
    aud.add_argument("--intents", action="store_true", help="also show write intents (write-ahead records)")
    _add_logging_options(aud, defaults=False)


def _add_adherence(sub: _Commands[argparse.ArgumentParser]) -> None:
    adh = _parser(sub, "adherence", "adherence per agent per local day from the recorded timeline")
    adh.add_argument("directory", metavar="DIR", help="the desired/ directory")
    adh.add_argument(
        "--from", dest="date_from", required=True, metavar="DATE", help="first local day (2026-11-24)"
    )
    adh.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last local day, inclusive")
    adh.add_argument("--agent", help="one agent: user id or email")
    adh.add_argument("--policy", metavar="NAME", help="one PresencePolicy by name")
    adh.add_argument("--output", choices=["table", "json", "csv"], default="table", help="the report's form")
    adh.add_argument(
        "--compare-genesys", action="store_true", help="also run Genesys's historical adherence and show both"
    )
    adh.add_argument("--export", action="store_true", help="send the range to adherenceExport.url now")
    adh.add_argument(
        "--database",
        metavar="FILE",
        help="timeline database (default: $PRESENCECTL_DATABASE, else adherence.path of ControllerConfig)",
    )
    add_connection_options(adh)
    _add_logging_options(adh, defaults=False)


def build_parser() -> argparse.ArgumentParser:
    from controller import __version__

    parser = argparse.ArgumentParser(
        prog="presencectl", description=DESCRIPTION, epilog=EPILOG, formatter_class=_HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_logging_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    _add_emulator(sub)
    val = _parser(sub, "validate", "validate a desired/ directory (exit 0 valid, 2 invalid)")
    val.add_argument("directory", metavar="DIR", help="the desired/ directory")
    val.add_argument(
        "--output", choices=["text", "json"], default="text", help="json: the diagnostics as a list"
    )
    val.add_argument("--offline", action="store_true", help="skip checks against the live org")
    val.add_argument("--strict", action="store_true", help="warnings (e.g. an expired override) fail too")
    add_connection_options(val)
    _add_logging_options(val, defaults=False)
    _add_reconcile(sub)
    _add_simulate(sub)
    _add_audit(sub)
    _add_adherence(sub)

    demo = _parser(sub, "demo", "emulator + daemon on the example desired/ (Ctrl-C stops)")
    demo.add_argument(
        "directory", nargs="?", default="desired", help="the desired/ directory (default: desired)"
    )
    demo.add_argument("--agents", type=int, default=300, help="agents in the emulator's generated org")
    demo.add_argument("--seed", type=int, default=1, help="generator seed")
    return parser


@dataclass(frozen=True)
class LogChoice:
    level: str
    format: str  # json | text


def log_choice(command: str, level: str | None, verbose: int, fmt: str | None, tty: bool) -> LogChoice:
    """What to log and how (pure). A person at a terminal running a one-shot command sees only
    warnings, as readable lines; anything else (the daemon, a pipe, CI) gets JSON lines at INFO.
    `-v`/`-vv` lower the level unless --log-level (or $PRESENCECTL_LOG_LEVEL) names one. The
    daemon keeps JSON whatever the terminal: its logs are for a collector."""
    interactive = tty and command in INTERACTIVE
    if level is None:
        quiet = "WARNING" if interactive or command == "demo" else "INFO"
        level = ("DEBUG" if verbose >= 2 else "INFO") if verbose else quiet
    if fmt is None:
        fmt = "text" if interactive else "json"
    return LogChoice(level, fmt)


def _log_option_problem(args: argparse.Namespace) -> str:
    """Checked here, not by argparse, so a bad $PRESENCECTL_LOG_* value gets the same one line."""
    if args.log_level and args.log_level.upper() not in LOG_LEVELS:
        return (
            f"log level {args.log_level!r} (--log-level or PRESENCECTL_LOG_LEVEL) is not one of "
            f"{', '.join(LOG_LEVELS)}"
        )
    if args.log_format and args.log_format.lower() not in LOG_FORMATS:
        return (
            f"log format {args.log_format!r} (--log-format or PRESENCECTL_LOG_FORMAT) is not one of "
            f"{', '.join(LOG_FORMATS)}"
        )
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from controller import failures
    from controller.log import setup_logging

    problem = _log_option_problem(args)
    if problem:
        print(f"configuration error: {problem}", file=sys.stderr)
        return failures.EXIT_CONFIG
    given_level = args.log_level.upper() if args.log_level else None
    fmt = args.log_format.lower() if args.log_format else None
    choice = log_choice(args.command, given_level, args.verbose, fmt, sys.stderr.isatty())
    args.log_level = choice.level
    args.log_level_given = given_level is not None or bool(args.verbose)
    setup_logging(choice.level, fmt=choice.format)
    module_name, func_name = _HANDLERS[args.command].split(":")
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
        code = int(handler(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below, not at exit
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return failures.reader_went_away()
    except Exception as exc:
        return failures.report(exc)
