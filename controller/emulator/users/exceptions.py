"""Users errors (ErrorBody)."""

from __future__ import annotations

from controller.emulator.core.exceptions import NotFound


class UserNotFound(NotFound):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"User {user_id} not found.")


class GroupNotFound(NotFound):
    def __init__(self, group_id: str) -> None:
        super().__init__(f"Group {group_id} not found.")
