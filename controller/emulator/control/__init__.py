"""The emulator's own control surface, /_emulator/... (no auth, never rate limited, not logged):
faults, tokens, the clock, agents' own actions, the request log, reset and a summary. Its
client is `controller.emulator.control_client`."""
