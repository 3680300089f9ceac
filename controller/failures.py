"""What a user sees when a command fails: one line naming what to fix, and an exit code.

Exit codes: 2 for anything the user can fix (desired state, connection settings, local paths,
ports, secrets, flags, an API refusal), 1 for an internal error (a bug: the one line says so and
`--log-level DEBUG` shows the traceback), 141 when the reader of stdout went away (`| head`), as
for any Unix filter killed by SIGPIPE. Never a traceback on stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

EXIT_CONFIG = 2
EXIT_INTERNAL = 1
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cat big | head`

_log = logging.getLogger(__name__)


class LocalConfigError(Exception):
    """Local configuration cannot work (a path, a port, a secret, a flag); the message says what
    to change. Raised before the first network call wherever it can be."""


def explain(exc: BaseException) -> list[str] | None:
    """The lines to print for an error the user can fix (exit 2), None for anything else."""
    from controller.genesys import ConfigError, GenesysError
    from controller.model.errors import DesiredStateError

    if isinstance(exc, DesiredStateError):
        lines = [str(d) for d in exc.diagnostics]
        return [*lines, f"desired state rejected: {len(exc.diagnostics)} problem(s); nothing was done"]
    if isinstance(exc, ConfigError | LocalConfigError):
        return [f"configuration error: {exc}"]
    if isinstance(exc, GenesysError):
        return [f"Genesys Cloud API error: {exc}"]
    return None


def report(exc: Exception, err: TextIO | None = None) -> int:
    """Print `exc` for a human and return the exit code."""
    from controller.log import register_secrets, scrub
    from controller.model.errors import DesiredStateError, secrets_in

    if isinstance(exc, DesiredStateError):  # inline secrets it found: scrubbed from here on
        register_secrets(secrets_in(exc.diagnostics))
    out = err or sys.stderr
    lines = explain(exc)
    if lines is None:
        _log.debug("internal error", exc_info=exc)
        lines = [f"internal error: {type(exc).__name__}: {exc} (a bug; --log-level DEBUG shows where)"]
        code = EXIT_INTERNAL
    else:
        code = EXIT_CONFIG
    for line in lines:
        print(scrub(line), file=out)
    return code


def reader_went_away() -> int:
    """stdout's reader closed the pipe: stop quietly. stdout is pointed at /dev/null so the
    interpreter's final flush does not raise (and print) a second BrokenPipeError."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE
