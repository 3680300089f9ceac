"""The status tests run the daemon on the engine tests' full-day emulator."""

from tests.engine.conftest import day_emulator

__all__ = ["day_emulator"]
