"""Command line: argument parsing only. Each command lives in its own module, imported lazily
so that `presencectl validate` does not pay for the emulator or the engine."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# command name -> "module:function"; the function takes the parsed namespace and returns the exit code.
_HANDLERS = {
    "emulator": "controller.emulator.cli:run",
    "validate": "controller.commands.validate:run",
    "plan": "controller.commands.reconcile:run_plan",
    "apply": "controller.commands.reconcile:run_apply",
    "run": "controller.commands.reconcile:run_daemon",
    "audit": "controller.audit:run_cli",
    "adherence": "controller.commands.adherence:run",
    "demo": "controller.commands.demo:run",
    "simulate": "controller.commands.simulate:run",
}


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach Genesys Cloud (or the emulator); flags override the environment."""
    group = parser.add_argument_group("connection (flags override GENESYS_* environment variables)")
    group.add_argument("--region", default=os.environ.get("GENESYS_REGION"), help="e.g. us_east_1, eu_west_1")
    group.add_argument("--api-base", default=os.environ.get("GENESYS_API_BASE"), help="API base URL")
    group.add_argument("--login-base", default=os.environ.get("GENESYS_LOGIN_BASE"), help="login base URL")
    group.add_argument(
        "--client-id-file", help="file holding the OAuth client id (default: $GENESYS_CLIENT_ID)"
    )
    group.add_argument(
        "--client-secret-file", help="file holding the OAuth client secret (default: $GENESYS_CLIENT_SECRET)"
    )
    group.add_argument(
        "--rate-per-minute", type=int, help="shared request budget (default: desired config or 300)"
    )


def build_parser() -> argparse.ArgumentParser:
    from controller import __version__

    parser = argparse.ArgumentParser(prog="presencectl", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("PRESENCECTL_LOG_LEVEL", "INFO"),
        help=f"one of {', '.join(LOG_LEVELS)} (default: $PRESENCECTL_LOG_LEVEL or INFO)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    emu = sub.add_parser("emulator", help="serve the Genesys Cloud emulator until SIGTERM")
    emu.add_argument("--host", default="127.0.0.1")
    emu.add_argument("--port", type=int, default=0, help="0 picks a free port")
    emu.add_argument(
        "--download-port", type=int, default=0, help="port of the download host (result URLs); 0: free"
    )
    emu.add_argument("--org", help="org fixture file (YAML or JSON); default: generated")
    emu.add_argument("--agents", type=int, default=200, help="agents in the generated org")
    emu.add_argument("--seed", type=int, default=1, help="generator seed")
    emu.add_argument(
        "--no-shows",
        type=float,
        default=None,
        help="share of scheduled shifts whose agent never logs in (generated org; default 0.05)",
    )
    emu.add_argument("--client-id", default="presencectl-demo")
    emu.add_argument("--client-secret", default="presencectl-demo-secret")
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

    val = sub.add_parser("validate", help="validate a desired/ directory (exit 0 valid, 2 invalid)")
    val.add_argument("directory")
    val.add_argument("--output", choices=["text", "json"], default="text")
    val.add_argument("--offline", action="store_true", help="skip checks against the live org")
    val.add_argument("--strict", action="store_true", help="warnings (e.g. an expired override) fail too")
    add_connection_options(val)

    for name, text in (
        ("plan", "show what would change (exit 0 none, 1 changes, 2 error)"),
        ("apply", "reconcile once and print what was done"),
        ("run", "run the reconcile daemon until SIGTERM"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("directory")
        if name == "plan":
            cmd.add_argument(
                "--output",
                choices=["text", "json", "markdown"],
                default="text",
                help="markdown: a pull-request comment (summary first, long tables folded)",
            )
        if name in ("plan", "apply"):
            cmd.add_argument(
                "--allow-blast-radius",
                metavar="N%|N",
                help="this run only: let the plan change up to N%% of the managed agents (or N agents) "
                "instead of the configured blastRadius",
            )
        add_connection_options(cmd)

    sim = sub.add_parser(
        "simulate", help="what a desired/ set would do over one day of published schedules (never writes)"
    )
    sim.add_argument("directory")
    sim.add_argument("--date", required=True, help="the day to simulate, YYYY-MM-DD (local to --timezone)")
    sim.add_argument("--compare", metavar="OTHER_DIR", help="another desired/ set to compare agent by agent")
    sim.add_argument("--output", choices=["table", "json", "svg"], default="table")
    sim.add_argument("--timezone", help="IANA zone of the hours (default: the zone of most managed agents)")
    add_connection_options(sim)

    aud = sub.add_parser("audit", help="read the audit log")
    aud.add_argument("--path", default="audit/audit.jsonl")
    aud.add_argument("--agent", help="user id or email")
    aud.add_argument("--since", help="ISO-8601 time")
    aud.add_argument("--until", help="ISO-8601 time")
    aud.add_argument("--output", choices=["text", "json"], default="text")
    aud.add_argument("--intents", action="store_true", help="also show write intents (write-ahead records)")

    adh = sub.add_parser("adherence", help="adherence per agent per local day from the recorded timeline")
    adh.add_argument("directory")
    adh.add_argument(
        "--from", dest="date_from", required=True, metavar="DATE", help="first local day (2026-11-24)"
    )
    adh.add_argument("--to", dest="date_to", required=True, metavar="DATE", help="last local day, inclusive")
    adh.add_argument("--agent", help="one agent: user id or email")
    adh.add_argument("--policy", help="one PresencePolicy by name")
    adh.add_argument("--output", choices=["table", "json", "csv"], default="table")
    adh.add_argument(
        "--compare-genesys", action="store_true", help="also run Genesys's historical adherence and show both"
    )
    adh.add_argument("--export", action="store_true", help="send the range to adherenceExport.url now")
    adh.add_argument("--database", help="timeline database (default: ControllerConfig adherence.path)")
    add_connection_options(adh)

    demo = sub.add_parser("demo", help="emulator + daemon on the example desired/ (Ctrl-C stops)")
    demo.add_argument("directory", nargs="?", default="desired")
    demo.add_argument("--agents", type=int, default=300)
    demo.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from controller import failures
    from controller.log import setup_logging

    level = str(args.log_level).upper()
    if level not in LOG_LEVELS:
        print(
            f"configuration error: log level {args.log_level!r} (--log-level or PRESENCECTL_LOG_LEVEL) "
            f"is not one of {', '.join(LOG_LEVELS)}",
            file=sys.stderr,
        )
        return failures.EXIT_CONFIG
    setup_logging(level)
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
