import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.core.presence import SystemPresence, normalize_system_presence


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("OnQueue", SystemPresence.ON_QUEUE),
        ("On Queue", SystemPresence.ON_QUEUE),
        ("ON_QUEUE", SystemPresence.ON_QUEUE),
        ("AVAILABLE", SystemPresence.AVAILABLE),
        ("available", SystemPresence.AVAILABLE),
        ("Meal", SystemPresence.MEAL),
    ],
)
def test_every_endpoint_spelling_normalises(spelling: str, expected: SystemPresence) -> None:
    assert normalize_system_presence(spelling) is expected


@given(st.sampled_from(list(SystemPresence)))
def test_each_spelling_round_trips(presence: SystemPresence) -> None:
    for spelling in (presence.value, presence.label, presence.upper_snake):
        assert normalize_system_presence(spelling) is presence


def test_unknown_presence_names_the_accepted_values() -> None:
    with pytest.raises(ValueError, match="expected one of: Available"):
        normalize_system_presence("Lunching")
