"""The engine fixtures (an emulator with a day of published schedules) serve these tests too."""

from tests.engine.conftest import day_emulator

__all__ = ["day_emulator"]
