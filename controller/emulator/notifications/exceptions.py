"""Notifications errors (ErrorBody)."""

from __future__ import annotations

from controller.emulator.core.exceptions import ApiError, BadRequest, NotFound


class ChannelNotFound(NotFound):
    def __init__(self, channel_id: str) -> None:
        super().__init__(f"Channel {channel_id} not found.")


class InvalidTopic(BadRequest):
    def __init__(self, topic: str) -> None:
        super().__init__(f"Invalid topic: {topic}")


class TooManyTopics(BadRequest):
    def __init__(self, limit: int, total: int) -> None:
        super().__init__(f"A channel allows at most {limit} topics; this request makes {total}.")


class MissingPermissions(ApiError):
    """Without ignoreErrors=true, one refused topic fails the whole request."""

    status, code = 403, "missing.permissions"

    def __init__(self, refused: int, example: str, missing: list[str]) -> None:
        super().__init__(
            f"Unable to subscribe to {refused} topic(s), e.g. {example}: "
            f"missing permissions {', '.join(missing)}."
        )
