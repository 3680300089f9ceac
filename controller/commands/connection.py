"""The CLI's connection flags (controller.cli.add_connection_options) -> ClientConfig.

argparse stays in the command layer: the client takes plain settings (ClientConfig.from_settings).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from controller.genesys import ClientConfig


def config_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ClientConfig:
    """From the options of controller.cli.add_connection_options (their defaults read the env)."""
    return ClientConfig.from_settings(
        region=getattr(args, "region", None),
        api_base=getattr(args, "api_base", None),
        login_base=getattr(args, "login_base", None),
        client_id_file=getattr(args, "client_id_file", None),
        client_secret_file=getattr(args, "client_secret_file", None),
        rate_per_minute=getattr(args, "rate_per_minute", None),
        env=env,
    )
