"""`presencectl emulator`: serve the Genesys Cloud emulator until SIGTERM / SIGINT.

The first stdout line, printed once the server accepts connections, is
`API <api_base> STREAMING <ws base>` so scripts can wait for it and read the URLs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from controller.emulator.org import Org
from controller.emulator.server import start_emulator
from controller.log import register_secret


def build_org(args: argparse.Namespace) -> Org:
    if args.org:
        from controller.emulator.orgfile import load_org

        return load_org(args.org)
    from controller.emulator.generate import DEFAULT_NO_SHOWS, generate_org

    no_shows = DEFAULT_NO_SHOWS if args.no_shows is None else args.no_shows
    return generate_org(agents=args.agents, seed=args.seed, no_shows=no_shows)


def run(args: argparse.Namespace) -> int:
    try:
        org = build_org(args)
    except (OSError, ValueError) as error:
        print(f"presencectl emulator: cannot build the org: {error}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    extra_clients = dict(c.partition(":")[::2] for c in args.extra_client)
    for secret in (args.client_secret, *extra_clients.values()):
        register_secret(secret)  # the emulator keeps no process-wide state: the command scrubs
    try:
        emulator = start_emulator(
            org=org,
            host=args.host,
            port=args.port,
            download_port=args.download_port,
            client_id=args.client_id,
            client_secret=args.client_secret,
            extra_clients=extra_clients,
            rate_limit=args.rate_limit,
            initial_adherence=args.initial_adherence,
        )
    except OSError as error:
        print(f"presencectl emulator: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    with emulator:
        print(f"API {emulator.api_base} STREAMING {emulator.streaming_base}", flush=True)
        print(
            f"org {org.name}: {len(org.agents)} agents, {len(org.business_units)} business units, "
            f"{len(org.management_units)} management units, {len(org.presence_definitions)} presence "
            f"definitions, {emulator.backend.presence.scheduled_now()} agents scheduled now, "
            f"{sum(u.logged_in for u in emulator.backend.presence.users.values())} logged in",
            flush=True,
        )
        print(
            f"client id {emulator.client_id} (secret given with --client-secret); control surface "
            f"{emulator.api_base}/_emulator/...; SIGTERM or Ctrl-C stops",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    print("emulator stopped", flush=True)
    return 0
