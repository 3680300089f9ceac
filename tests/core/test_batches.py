"""How a plan's writes group into API calls (controller/core/batches.py)."""

from __future__ import annotations

from controller.core.batches import BULK_CHUNK, write_batches
from controller.core.planner import Action
from controller.core.timeline import Reason, ReasonKind
from controller.genesys import BULK_PRESENCE_MAX
from controller.model.types import Mode
from tests.core.builders import tgt


def action(user_id: str, message: str = "") -> Action:
    return Action(
        user_id=user_id,
        policy="p",
        from_presence_id="available-id",
        from_label="Available",
        to=tgt("On Queue"),
        message=message,
        reason=Reason(ReasonKind.WINDOW, "p", "window Mon-Fri 09:00-17:00"),
        mode=Mode.ENFORCE,
    )


def test_the_core_and_the_client_agree_on_the_bulk_limit() -> None:
    assert BULK_CHUNK == BULK_PRESENCE_MAX


def test_one_agent_is_a_single_write_and_messages_are_never_bulk() -> None:
    lone = [action("a1")]
    assert write_batches(lone) == ([], lone)
    with_message = [action("a1"), action("a2", message="back at 10")]
    assert write_batches(with_message) == ([], [with_message[1], with_message[0]])


def test_bulk_writes_are_chunked_in_plan_order() -> None:
    actions: list[Action] = [action(f"a{i:03}") for i in range(BULK_CHUNK * 2 + 3)]
    chunks, singles = write_batches(actions)
    assert singles == []
    assert [len(c) for c in chunks] == [BULK_CHUNK, BULK_CHUNK, 3]
    assert [a for c in chunks for a in c] == actions
